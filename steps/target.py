"""The target under test, as the steps see it: one client, its people, its optional mock controls.

Why a session object: the run's inputs are declared once (``config.RunConfig``) and fed to one
recording client; what the suite learns about the target along the way (who exists
there, whether its clock can be set) is learnt
once and kept here, never in module globals. Steps reach the target only over HTTP.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

import pytest

from canvas_conformance import checks
from canvas_conformance.client import Answer, Client, without_userinfo
from canvas_conformance.preflight import is_loopback
from canvas_conformance.references import parse_reference

from .bodies import Draft, carries, marked_in_text, marker_second, sent_at_second, texts

KINDS = ("Patient", "Practitioner")


class SearchUnavailable(Exception):
    """The target's search cannot tell what is stored, so "nothing stored" cannot be checked (an error,
    not a verdict on the rule under test)."""


class Target:
    """One target for one run. ``people`` are the ids given in the settings (may be empty).

    Who the suite writes to: the people named. Only on loopback (a mock, a local test server) or
    with ``discover`` (--discover-people) does it look for more with GET /Patient and
    /Practitioner, because on a real system the first people listed are real patients whose
    charts would get test messages.
    """

    def __init__(self, client: Client, *, embedded: bool, patients: Iterable[str] = (),
                 practitioners: Iterable[str] = (), discover: bool = False, at_once: int = 1,
                 allowed: checks.Allowances = checks.Allowances()) -> None:
        self.client = client
        self.allowed = allowed  # what the run's profile leaves open (checks.allowances)
        self.at_once = at_once  # independent searches sent at once (``Client.overlapped``)
        self.base_url = client.base_url
        self.embedded = embedded
        self.discover = discover or embedded or is_loopback(client.base_url)
        self._people: dict[str, tuple[str, ...]] = {"Patient": tuple(patients), "Practitioner": tuple(practitioners)}
        self.mock_controls = False
        self._derived: list[str] = []  # credentials made from the run's token (explored FHIR-3): as secret as it

    def keep_secret(self, value: str) -> str:
        """Mask ``value`` wherever the run writes, like the run's own token; returns it."""
        self._derived.append(value)
        return value

    def describe(self) -> dict:
        """The results file's ``target`` object."""
        return {"base_url": without_userinfo(self.base_url), "embedded_mock": self.embedded, "mock_controls": self.mock_controls}

    def secrets(self) -> tuple[str, ...]:
        return (*self.client.secrets(), *self._derived)

    def start(self) -> None:
        """Get the run's token and learn whether the target has the mock's clock control."""
        self.client.token()
        answer = self.client.request("look for the mock's clock control", "GET", "_mock/clock")
        try:
            self.mock_controls = answer.status == 200 and "now" in answer.json()
        except (ValueError, TypeError):
            self.mock_controls = False

    # -- people -------------------------------------------------------------------------
    def people(self, kind: str, count: int) -> tuple[str, ...]:
        """``count`` ids of ``kind`` that exist on the target; the scenario is skipped when fewer are known."""
        if not self._people[kind] and self.discover:
            self._people[kind] = self._discover(kind)
        known = self._people[kind]
        if len(known) < count:
            variable = "CANVAS_PATIENTS" if kind == "Patient" else "CANVAS_PRACTITIONERS"
            if self.discover:
                pytest.skip(f"needs {count} {kind.lower()}s that exist on the target, {len(known)} known "
                            f"(list them in {variable}, or with --{kind.lower()})")
            pytest.skip(f"needs {count} {kind.lower()}s named for this target, {len(known)} named: the suite "
                        f"writes only to people you name on a target that is not on loopback (list them with "
                        f"--{kind.lower()} or {variable}; --discover-people lets it use whoever GET /{kind} "
                        "lists first)")
        return known[:count]

    def location_id(self, header: str | None, *, rule: str = "ID-1") -> str:
        """The id a create's ``Location`` names on this target (``checks.check_location``, as the profile allows)."""
        return checks.check_location(header, self.base_url, rule=rule, other_scheme=self.allowed.location_scheme)

    def paging_patient(self) -> str:
        """The patient whose messages the page-by-page searches read (FHIR-7): the third known patient when
        there is one, else the first. No other scenario writes to the third ("a patient" and "another
        patient" are the first two), so a walk reads little more than its own new messages, quickly,
        and other scenarios' creates (other workers, cases sent ahead) do not move its pages under it."""
        self.people("Patient", 1)
        known = self._people["Patient"]
        return known[2] if len(known) >= 3 else known[0]

    def _discover(self, kind: str) -> tuple[str, ...]:
        answer = self.client.request(f"discover the target's {kind.lower()}s", "GET", kind)
        if answer.status != 200:
            return ()
        try:
            entries = answer.json().get("entry") or []
        except (ValueError, AttributeError, RecursionError):
            return ()
        if not isinstance(entries, list):  # any answer shape: what is not a list of entries names no one
            return ()
        ids = []
        for entry in entries:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and resource.get("resourceType") == kind and resource.get("id") \
                    and resource.get("active", True) is not False:
                ids.append(str(resource["id"]))
        return tuple(ids)

    # -- the mock's clock ---------------------------------------------------------------
    def hold_clock(self, instant: datetime) -> None:
        self._clock("hold the target's clock at a chosen instant", "PUT", {"now": instant.isoformat()})

    def shift_clock(self, seconds: float) -> None:
        self._clock(f"move the target's clock on by {seconds:g} s", "PUT", {"shift_seconds": seconds})

    def release_clock(self, *, bearer: str | None = None) -> None:
        self._clock("give the target back its real clock", "DELETE", None, bearer=bearer)

    def held_at(self, name: str) -> datetime | None:
        """The instant the target's clock stands still at (None when it runs, or cannot be read)."""
        answer = self.client.request(name, "GET", "_mock/clock")
        try:
            state = answer.json() if answer.status == 200 else None
            return utc(state["now"]) if isinstance(state, dict) and state.get("frozen") is True else None
        except (ValueError, TypeError, KeyError):
            return None

    def _clock(self, name: str, method: str, body: dict | None, *, bearer: str | None = None) -> None:
        answer = self.client.request(name, method, "_mock/clock", json_body=body, content_type="application/json",
                                     bearer=bearer)
        if answer.status != 200:
            raise RuntimeError(f"{name}: the mock's clock control answered {answer.status}")

    # -- what this run stored -----------------------------------------------------------
    def find_marked(self, draft: Draft, involved: Iterable[str], *, when: str = "after") -> list[str]:
        """The ids of the messages stored for ``involved`` ("Patient/<id>", ...) that carry ``draft``'s marker.

        Why not a count of all messages before and after: other writers on the same target would
        change it. The marker is unique to the run and the case, so what carries it is this case's
        own. Only the standard search parameters are used (``patient``, ``sender``, ``recipient``,
        ``_count``): each party's messages are searched (a patient by ``patient``, a practitioner by
        the role it has in the draft), and on each search the first page and the last page are read,
        so the newest messages are seen whether the target lists newest or oldest first. A draft
        whose text cannot carry the marker (no payload, an empty text) carries it in its sent time
        (``bodies.marker_instant``): a message of those parties sent at that instant is its copy,
        whatever text the target stored with it. When the scenario set that sent time itself, a
        message of those parties with no text and that sent time is taken for its copy, since a
        target that keeps no identifier leaves nothing else of it.
        """
        return self.find_marked_many([(draft, tuple(involved))], when=when)[0]

    def find_marked_many(self, drafts: Sequence[tuple[Draft, tuple[str, ...]]], *, when: str = "after") -> list[list[str]]:
        """``find_marked`` for several drafts at once, each with its parties: every party search any of them
        needs is sent once, and each draft is matched against the answers of its own searches only, as
        ``find_marked`` matches it (the "nothing stored" sweep of an explored scenario, steps/sweep.py)."""
        wanted = []
        for draft, involved in drafts:
            if draft.marker is None:
                raise ValueError("the draft carries no marker (make it with bodies.between)")
            queries = party_queries(draft, involved)
            if not queries:
                raise SearchUnavailable("cannot tell what is stored: the request names no patient or practitioner")
            wanted.append(queries)
        union = list(dict.fromkeys(query for queries in wanted for query in queries))
        purpose = "this case's marker" if len(drafts) == 1 else f"the markers of {len(drafts)} cases"
        searches = [lambda q=query: self._party_messages(*q, when=when, purpose=purpose) for query in union]
        answers = dict(zip(union, self.client.overlapped(searches, at_once=self.at_once)))
        return [_copies(draft, [resource for query in queries for resource in answers[query]])
                for (draft, _), queries in zip(drafts, wanted)]

    def count_stored(self, involved: Iterable[str], *, when: str, draft: Draft) -> dict[str, int]:
        """How many stored messages of ``involved`` carry ``draft``'s marker, as {what was counted: n}.

        Before a fresh draft is sent this is 0 by construction (nobody else has its marker), so a
        "nothing stored" check needs the count after the request only; ``find_marked`` gives the ids.
        """
        return {f"messages marked {draft.marker}": len(self.find_marked(draft, involved, when=when))}

    def _party_messages(self, param: str, value: str, *, when: str, purpose: str) -> list[dict]:
        name = f"search {param}={value} for {purpose} ({when})"
        first = self._search_page(f"{name}, first page", "Communication", {param: value, "_count": str(PAGE)})
        resources = _resources(first)
        found = _page_links(first)
        if "next" in found and found.get("last"):
            last = self._search_page(f"{name}, last page", found["last"], None)
            resources += _resources(last)
            previous = _page_links(last).get("previous")
            if previous and previous not in (found.get("self"), found.get("first")) and len(_resources(last)) < PAGE:
                resources += _resources(self._search_page(f"{name}, page before the last", previous, None))
        return resources

    def _search_page(self, name: str, path: str, params: dict | None) -> dict:
        answer = self.client.request(name, "GET", path, params=params)
        try:
            bundle = answer.json() if answer.status == 200 else None
        except ValueError:
            bundle = None
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise SearchUnavailable(f"cannot tell what is stored: {name} answered {answer.status} without a "
                                    "searchset Bundle")
        return bundle

    def read(self, name: str, message_id: str) -> Answer:
        return self.client.request(name, "GET", f"Communication/{message_id}")


# Messages asked for per search page. The newest 50 at each end are read (and the page before the
# last when the last is short), so a stored copy is found unless more than about 50 messages were
# added to the party between the create and the search (a few hundred milliseconds): larger pages
# would only multiply the evidence each refusal records.
PAGE = 50


def party_queries(draft: Draft, involved: Iterable[str]) -> list[tuple[str, str]]:
    """The searches that find a stored copy of ``draft``: a patient by ``patient``, a practitioner by
    the role the draft gives it (both roles when the draft is not a JSON object naming it)."""
    roles: dict[str, set[str]] = {}
    if isinstance(draft.body, Mapping) and draft.raw is None:
        sender = draft.body.get("sender")
        recipients = draft.body.get("recipient")
        for role, parties in (("sender", [sender]), ("recipient", recipients if isinstance(recipients, list) else [])):
            for one in parties:
                reference = parse_reference(one.get("reference") if isinstance(one, Mapping) else None)
                if reference is not None:
                    roles.setdefault(str(reference), set()).add(role)
    queries = []
    for reference in sorted(set(involved)):
        party = parse_reference(reference)
        if party is None or party.type not in KINDS:
            continue
        if party.type == "Patient":
            queries.append(("patient", party.id))
        else:
            queries += [(role, str(party)) for role in sorted(roles.get(str(party)) or ("recipient", "sender"))]
    return queries


def _copies(draft: Draft, resources: list[dict]) -> list[str]:
    """The ids of the messages among ``resources`` that are stored copies of ``draft`` (``Target.find_marked``)."""
    textless = not marked_in_text(draft)
    sent = draft.body.get("sent") if isinstance(draft.body, dict) else None
    second = marker_second(draft)
    found: dict[str, None] = {}
    for resource in resources:
        if carries(resource, draft.marker) or sent_at_second(resource, second) or \
                (textless and _blank_copy(resource, sent)):
            found[str(resource.get("id"))] = None
    return list(found)


def _resources(bundle: dict) -> list[dict]:
    entries = bundle.get("entry")
    return [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)] \
        if isinstance(entries, list) else []


def _page_links(bundle: dict) -> dict[str, str]:
    out = {}
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and isinstance(link.get("relation"), str) and isinstance(link.get("url"), str):
            out["previous" if link["relation"] == "prev" else link["relation"]] = link["url"]
    return out


def _blank_copy(resource: dict, sent: object) -> bool:
    """A message with no text, sent at ``sent`` (compared as given, when the draft gives one)."""
    if any(text.strip() for text in texts(resource)):
        return False
    return sent is None or not isinstance(sent, str) or _same_instant(resource.get("sent"), sent)


def _same_instant(a: object, b: str) -> bool:
    try:
        return isinstance(a, str) and datetime.fromisoformat(a.replace("Z", "+00:00")) == \
            datetime.fromisoformat(b.replace("Z", "+00:00"))
    except ValueError:
        return a == b


def utc(text: str) -> datetime:
    """An instant from a feature file (ISO 8601 with offset) as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def involved_parties(body: Mapping | None, fallback: Iterable[str]) -> tuple[str, ...]:
    """The Patient/Practitioner references a body names (and ``fallback`` ones), each in its relative
    form ``Type/id`` (references.py says which references a body can name)."""
    found = set(fallback)
    if isinstance(body, Mapping):
        recipients = body.get("recipient")
        parties = [body.get("sender"), *(recipients if isinstance(recipients, list) else [])]
        for party in parties:
            reference = parse_reference(party.get("reference") if isinstance(party, Mapping) else None)
            if reference is not None and reference.type in KINDS:
                found.add(str(reference))
    return tuple(sorted(found))
