"""Steps about searching messages (FHIR-7): totals, paging links, and search by id or party.

Pages are followed by their ``next`` links, absolute or relative to the base, with a
bound on how many so a target whose links loop (or whose ``total`` is absurd) cannot hold
the run. A ``next`` link on another origin than the target's (scheme, host, port) is not
followed: the client would not send the run's bearer token there, and a paging link that
leaves the server is itself a broken FHIR-7 link, so it is noted as evidence and judged.

Totals are judged so that other writers cannot change a verdict: on a shared target
messages may be added at any moment (none can be taken away: FHIR-6), so a page's
total must lie between the patient's total before this run's messages plus those
messages and the total counted once the pages were read; every message of this run
must be on the pages exactly once; and the pages together must hold at least the
messages the first page counted and at most those the last page counted. Alone on the
target these bounds meet, and the checks are the exact ones.
"""
from __future__ import annotations

import uuid
from typing import NamedTuple

from pytest_bdd import given, then, when

from canvas_conformance import checks
from canvas_conformance.client import without_userinfo
from canvas_conformance.references import Reference, parse_reference

from .bodies import Draft, between
from .reading_steps import check_created
from .target import Target
from .terms import phrase

MOST_PAGES = 1000  # pages one search follows at most, whatever the target's total says (a shared target may hold hundreds of a patient's messages at the scenario's page size of 2)


class Batch(NamedTuple):
    """Messages created for one patient, and how many that patient had before."""

    patient: str
    ids: list[str]
    before: int


class Search(NamedTuple):
    """The pages one search answered, first to last, and the page size asked for (None: the target's default)."""

    pages: list[dict]
    count: int | None
    after: int | None = None  # the patient's total counted right after the pages were read


def _page(target: Target, name: str, path: str, params: dict | None, rule: str) -> dict:
    answer = target.client.request(name, "GET", path, params=params)
    checks.check_status(answer.status, (200,), rule=rule, what=name)
    bundle = checks.check_json_body(answer.text, rule=rule, what=name, expected="a searchset Bundle (JSON)")
    checks.check_searchset(bundle, rule=rule, what=name)
    return bundle


def search_pages(target: Target, params: dict, rule: str, *, what: str, most: int) -> list[dict]:
    """The first page for ``params`` and every page after it, by ``next`` links (``most`` pages at most)."""
    pages = [_page(target, f"{what}, page 1", "Communication", params, rule)]
    while (following := checks.links(pages[-1]).get("next")) and len(pages) < min(most, MOST_PAGES):
        _on_target(target, following, f"the next link of page {len(pages)}", rule)
        pages.append(_page(target, f"{what}, page {len(pages) + 1}", following, None, rule))
    return pages


def _on_target(target: Target, link: str, what: str, rule: str) -> None:
    """Fail ``rule`` when the paging ``link`` leaves the target's origin (it is then never requested)."""
    url = target.client.url(link)
    if target.client.on_target(url):
        return
    shown = without_userinfo(url)
    shown = shown if len(shown) <= 300 else shown[:297] + "..."
    target.client.note(f"{what} names {shown}, not on the target's origin: not followed, "
                       "no request and no credentials sent there")
    checks.fail(rule, what, f"a link on the target's own origin ({target.base_url})", repr(shown))


@given(phrase("a patient has {count:d} new messages from a practitioner"), target_fixture="batch")
def new_messages_for_a_patient(target: Target, count: int, rule: str) -> Batch:
    patient, practitioner = target.paging_patient(), target.people("Practitioner", 1)[0]
    first = _page(target, "count the patient's messages", "Communication", {"patient": patient, "_count": "1"}, rule)
    draft: Draft = between("minimal", sender=f"Practitioner/{practitioner}", recipient=f"Patient/{patient}")
    ids = []
    for n in range(1, count + 1):
        answer = target.client.request(f"create message {n} of {count} for the search", "POST", "Communication",
                                       json_body=draft.body)
        ids.append(check_created(target, answer, draft, rule, what=f"create {n} of {count} for the search"))
    return Batch(patient, ids, first["total"])


@when(phrase("the patient's messages are searched {count:d} at a time"), target_fixture="search")
def searched_in_pages(target: Target, batch: Batch, count: int, rule: str) -> Search:
    # bounded, so links that loop cannot hold the run, with room for 100 messages others add meanwhile
    most = (batch.before + len(batch.ids) + 100) // count + 3
    pages = search_pages(target, {"patient": batch.patient, "_count": str(count)}, rule,
                         what=f"search the patient's messages {count} at a time", most=most)
    after = _page(target, "count the patient's messages after reading the pages", "Communication",
                  {"patient": batch.patient, "_count": "1"}, rule)
    return Search(pages, count, after["total"])


@when("the patient's messages are searched without a page size", target_fixture="search")
def searched_by_default(target: Target, batch: Batch, rule: str) -> Search:
    return Search([_page(target, "search the patient's messages (no _count)", "Communication",
                         {"patient": batch.patient}, rule)], None)


@then("the search total counts every message of the patient")
def total_counts_all(search: Search, batch: Batch, rule: str) -> None:
    low = batch.before + len(batch.ids)
    high = low if search.after is None else max(low, search.after)
    previous = None
    for n, page in enumerate(search.pages, 1):
        total = page["total"]
        if not low <= total <= high:
            expected = f"{low} ({batch.before} before + {len(batch.ids)} new)" if low == high else \
                f"from {low} ({batch.before} before + {len(batch.ids)} new) to {high} (counted after the pages)"
            checks.fail(rule, f"the total on page {n}", expected, total)
        if previous is not None and total < previous:  # messages are added, never taken away
            checks.fail(rule, f"the total on page {n}", f"at least the {previous} of page {n - 1}", total)
        previous = total


@then(phrase("every page holds at most {count:d} messages and together they hold all of them"))
def pages_hold_all(search: Search, batch: Batch, count: int, rule: str) -> None:
    seen: list[str] = []
    for n, page in enumerate(search.pages, 1):
        _, resources = checks.check_searchset(page, rule=rule)
        if len(resources) > count:
            checks.fail(rule, f"page {n}", f"at most {count} messages", len(resources))
        seen += [_id(r) for r in resources]
    first, last = search.pages[0]["total"], search.pages[-1]["total"]
    if first == last:  # nothing was added while the pages were read: each message exactly once
        if len(seen) != first or len(set(seen)) != len(seen):
            checks.fail(rule, f"the {len(search.pages)} pages together", f"each of the {first} messages once",
                        f"{len(seen)} entries, {len(set(seen))} different")
    elif not first <= len(set(seen)) <= last:  # others added some: a page may repeat an entry, none is lost
        checks.fail(rule, f"the {len(search.pages)} pages together",
                    f"from {first} to {last} different messages (the first and the last page's totals)",
                    f"{len(set(seen))} different")
    missing = [i for i in batch.ids if i not in seen]
    if missing:
        checks.fail(rule, "the pages together", "every new message", f"{len(missing)} missing: {missing}")
    repeated = sorted({i for i in batch.ids if seen.count(i) > 1})
    if repeated and first == last:
        checks.fail(rule, "the pages together", "every new message once", f"repeated: {repeated}")


@then("every page links to itself, the first and the last page, and to the next page unless it is the last")
def pages_are_linked(target: Target, search: Search, rule: str) -> None:
    total, count = search.pages[0]["total"], search.count
    final = search.pages[-1]["total"]
    fewest, most = max(1, -(-total // count)), max(1, -(-final // count))
    if not fewest <= len(search.pages) <= most:
        expected = f"{fewest} ({total} messages, {count} a page)" if fewest == most else \
            f"from {fewest} to {most} ({total} to {final} messages while they were read, {count} a page)"
        checks.fail(rule, "the number of pages followed by next links", expected, len(search.pages))
    for n, page in enumerate(search.pages, 1):
        checks.check_page_links(page, last_page=n == len(search.pages), rule=rule, what=f"page {n}")
    last = checks.links(search.pages[0])["last"]
    _on_target(target, last, "the first page's last link", rule)
    last_page = _page(target, "open the page the 'last' link names", last, None, rule)
    # The page the first page named last is still the last unless others have added messages since.
    grown = last_page.get("total") != total
    checks.check_page_links(last_page, last_page=not grown or "next" not in checks.links(last_page), rule=rule,
                            what="the page named 'last'")


@then(phrase("the first page holds {count:d} messages"))
def first_page_size(search: Search, count: int, rule: str) -> None:
    _, resources = checks.check_searchset(search.pages[0], rule=rule)
    if len(resources) != count:
        checks.fail(rule, "the first page without _count", f"{count} messages (the default page size)", len(resources))


@then("the first page links to the next page")
def first_page_has_next(search: Search, rule: str) -> None:
    checks.check_page_links(search.pages[0], last_page=False, rule=rule, what="the first page")


def _id(resource: dict) -> str | None:
    """A found resource's id as text (None when it gives none as text: such an id matches nothing)."""
    ident = resource.get("id")
    return ident if isinstance(ident, str) else None


def _search_value(key: str, created: str, draft: Draft) -> str:
    body = draft.message
    return {"_id": created, "sender": body["sender"]["reference"],
            "recipient": body["recipient"][0]["reference"],
            "patient": draft.patient.id}[key]


@when(phrase("messages are searched by the new message's {key:SearchKey}"), target_fixture="search")
def searched_by(target: Target, created: str, draft: Draft, key: str, rule: str) -> Search:
    value = _search_value(key, created, draft)
    pages = search_pages(target, {key: value, "_count": "100"}, rule, what=f"search messages by {key}={value}",
                         most=50)
    return Search(pages, 100)


@then("the new message is among those found")
def new_one_found(search: Search, created: str, rule: str) -> None:
    found = [_id(r) for page in search.pages for r in checks.check_searchset(page, rule=rule)[1]]
    if created not in found:
        checks.fail(rule, "the messages found", f"the new message {created}", f"{len(found)} others")


@then(phrase("every message found has that {key:SearchKey}"))
def all_match(search: Search, created: str, draft: Draft, key: str, rule: str) -> None:
    value = _search_value(key, created, draft)
    if key == "_id" and search.pages[0]["total"] != 1:
        checks.fail(rule, f"the total of a search by _id={value}", 1, search.pages[0]["total"])
    wanted = Reference("Patient", value) if key == "patient" else parse_reference(value)
    for page in search.pages:
        for resource in checks.check_searchset(page, rule=rule)[1]:
            # any shape the answer gives (a recipient object instead of a list, nulls...) is read, never raised on
            sender = checks.first_reference(resource.get("sender"))
            recipient = checks.first_reference(resource.get("recipient"), many=True)
            matches = {"_id": _id(resource) == value, "sender": sender == wanted,
                       "recipient": recipient == wanted, "patient": wanted in (sender, recipient)}[key]
            if not matches:
                checks.fail(rule, f"a message found by {key}={value}", f"{key} {value}",
                            f"message {checks.shown(resource.get('id'))} (sender {sender}, recipient {recipient}, "
                            f"as given: sender {checks.shown(resource.get('sender'))}, "
                            f"recipient {checks.shown(resource.get('recipient'))})")


@when("messages are searched by an id no message has", target_fixture="search")
def searched_for_nothing(target: Target, rule: str) -> Search:
    return Search([_page(target, "search messages by an id no message has", "Communication",
                         {"_id": f"no-such-{uuid.uuid4().hex}"}, rule)], None)


@then("the search finds nothing, and in canvas-current it has no paging links")
def nothing_found(search: Search, rule: str, allowed: checks.Allowances) -> None:
    """An empty result: total 0 and no entries. canvas-current (pagination.md: "Pagination links will not be
    provided for an empty result set") has no links on it either; canvas-2022's words are about pages of
    results, so there an empty result may carry links or none."""
    total, resources = checks.check_searchset(search.pages[0], rule=rule)
    if total != 0 or resources:
        checks.fail(rule, "a search by an id no message has", "total 0 and no entries",
                    f"total {total}, {len(resources)} entries")
    if allowed.empty_result_unlinked:
        checks.check_no_links(search.pages[0], rule=rule, what="the empty result")
