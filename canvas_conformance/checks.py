"""Small pure checks, one job each, shared by the conformance steps.

Why here and not in the steps: a check must accept every answer a rule allows (a
``Location`` absolute or relative, with or without ``/_history/<v>``; ``Z`` or
``+00:00``; any 4xx OperationOutcome where a rule only says "rejected"...), and that
tolerance is easiest to get right, and to unit-test, in plain functions. Each check
raises ``AssertionError`` whose message starts with the rule ID and shows what was
expected against what came back, so a failed scenario reads as a verdict.
"""
from __future__ import annotations

import html
import json
import re
import reprlib
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any, Iterable, Mapping, NamedTuple, NoReturn
from urllib.parse import urlsplit

from .http_dates import parse_http_date
from .references import FHIR_ID, Reference, parse_reference

CLIENT_ERRORS = range(400, 500)
_LOCATION_TAIL = re.compile(rf"^Communication/(?P<id>{FHIR_ID})(?:/_history/(?P<version>{FHIR_ID}))?$")
_INSTANT = re.compile(r"^(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
                      r"(?P<offset>Z|[+-]\d{2}:\d{2})$")
_UTC_SUFFIXES = ("Z", "+00:00")
JSON_TYPES = ("application/fhir+json", "application/json")


def fail(rule: str, what: str, expected: Any, got: Any) -> NoReturn:
    """Raise the one kind of failure checks give: the rule, what was checked, expected vs got.

    A plain ``AssertionError`` carrying the rule (``.rule``: an ID, or IDs joined by "/"): which
    scenario's verdict it decides is the results contract's (``results.failure_status``). The
    scenario's own rule fails; another rule's breach seen along the way makes it ``error``.
    """
    error = AssertionError(f"[{rule}] {what}: expected {expected}, got {got}")
    error.rule = rule
    raise error


def _shown(value: Any, limit: int = 300) -> str:
    """``value`` quoted for a message, cut at ``limit`` characters (any value: a check never crashes on one)."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        text = reprlib.repr(value)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class _Absent:
    """The value of an element a read-back does not have (``resource.get(element, ABSENT)``), so a
    failure can tell an absent element from one present as null."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


def _got_element(value: Any) -> str:
    """How a failure shows a read-back element's value, absent and null told apart."""
    if value is ABSENT:
        return "no such element (absent)"
    if value is None:
        return "null (the element is there, with no value)"
    return _shown(value)


shown = _shown  # for steps that quote an answer's value in their own failure


def check_json_body(text: str | None, *, rule: str, what: str, expected: str = "JSON") -> Any:
    """The answer's body as JSON, or the rule's failure saying it is not (never a Python exception)."""
    try:
        return json.loads(text or "")
    except (ValueError, RecursionError):
        fail(rule, f"{what}'s body", expected, _shown((text or "")[:300]))


def first_reference(value: Any, *, many: bool = False) -> Reference | None:
    """The reference a party element names: a Reference object (``{"reference": ...}``), or with
    ``many`` the first of a list of them (FHIR's 0..* elements such as ``recipient``); None for any
    other shape, so reading an answer never raises (the caller's check says what was wrong)."""
    if many:
        value = value[0] if isinstance(value, list) and value else None
    return parse_reference(value.get("reference")) if isinstance(value, dict) else None


def listed(value: Any) -> list:
    """``value`` when it is a list, else [] (a field the answer should give as a list; checks that
    need it a list say so themselves)."""
    return value if isinstance(value, list) else []


def _statuses(statuses: Iterable[int]) -> str:
    if isinstance(statuses, range) and statuses.step == 1:
        return f"status {statuses.start}-{statuses.stop - 1}"
    return "status " + " or ".join(map(str, statuses))


# -- status and headers -------------------------------------------------------------------
def check_status(status: int | None, statuses: Iterable[int], *, rule: str, what: str = "the answer") -> int:
    allowed = statuses if isinstance(statuses, range) else tuple(statuses)
    if status not in allowed:
        fail(rule, what, _statuses(allowed), f"status {status}")
    return status


def check_not_server_error(status: int | None, *, rule: str = "FHIR-2", what: str = "the answer to bad input") -> None:
    if status is None or status >= 500:
        fail(rule, what, "a 4xx answer (never a 5xx)", f"status {status}")


def check_json_media_type(content_type: str | None, *, rule: str = "FHIR-8", what: str = "the answer") -> str:
    """``application/fhir+json`` or ``application/json``, parameters such as charset allowed."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES:
        fail(rule, f"{what}'s Content-Type", " or ".join(JSON_TYPES), repr(content_type))
    return media


def check_location(header: str | None, base_url: str, *, rule: str = "ID-1", other_scheme: bool = False) -> str:
    """The id named by a create's ``Location``: ``<base>/Communication/<id>``, ``Communication/<id>``
    or the path under the base, each optionally followed by ``/_history/<version>``. ``other_scheme``
    (``Allowances.location_scheme``): an absolute Location may name the base's host and port with
    ``http`` for an ``https`` base, or the other way round."""
    if not header:
        fail(rule, "the Location header of the created message", "Communication/<id> (absolute or relative)",
             "no Location header")
    if not isinstance(header, str):
        fail(rule, "the Location header", "Communication/<id> (absolute or relative)", _shown(header))
    base = urlsplit(base_url.rstrip("/"))
    try:
        parts = urlsplit(header)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        fail(rule, "the Location header", "Communication/<id> (absolute or relative)", _shown(header))
    if parts.scheme or parts.netloc:
        schemes = {parts.scheme.lower(), base.scheme.lower()}
        same_scheme = len(schemes) == 1 or (other_scheme and schemes == {"http", "https"})
        if not same_scheme or parts.netloc.lower() != base.netloc.lower():
            fail(rule, "the Location header", f"a URL under the base {base_url}", _shown(header))
        path = parts.path
    else:
        path = header
    if parts.query or parts.fragment:
        fail(rule, "the Location header", "Communication/<id>[/_history/<version>] with no query",
             _shown(header))
    if path.startswith("/"):
        prefix = base.path.rstrip("/") + "/"
        if not path.startswith(prefix):
            fail(rule, "the Location header", f"a path under {prefix}", _shown(header))
        path = path[len(prefix):]
    match = _LOCATION_TAIL.match(path)
    if not match:
        fail(rule, "the Location header", "Communication/<id>[/_history/<version>] under the base",
             _shown(header))
    return match["id"]


# -- OperationOutcome ---------------------------------------------------------------------
def check_operation_outcome(status: int | None, body: str | None, *, rule: str,
                            statuses: Iterable[int] = CLIENT_ERRORS, what: str = "the answer") -> dict:
    """A refusal: a status in ``statuses`` and an OperationOutcome with at least one issue."""
    check_status(status, statuses, rule=rule, what=what)
    outcome = check_json_body(body, rule=rule, what=what, expected="an OperationOutcome (JSON)")
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        got = outcome.get("resourceType") if isinstance(outcome, dict) else type(outcome).__name__
        fail(rule, f"{what}'s body", "resourceType OperationOutcome", _shown(got))
    issues = outcome.get("issue")
    if not isinstance(issues, list) or not issues:
        fail(rule, f"{what}'s OperationOutcome", "at least one issue", _shown(issues))
    return outcome


def issue_text(issue: Mapping) -> str:
    """The human-readable words of an issue: its diagnostics and details.text."""
    details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
    parts = [issue.get("diagnostics"), details.get("text")]
    return " ".join(p for p in parts if isinstance(p, str) and p.strip())


def check_outcome_issues(outcome: Mapping, *, rule: str = "FHIR-2", mentions: str | None = None) -> None:
    """Every issue has severity, code and readable text; one of them names ``mentions`` (any case)."""
    for index, issue in enumerate(listed(outcome.get("issue"))):
        if not isinstance(issue, dict):
            fail(rule, f"issue[{index}]", "an object", _shown(issue))
        for element in ("severity", "code"):
            if not isinstance(issue.get(element), str) or not issue[element]:
                fail(rule, f"issue[{index}].{element}", "a code", _shown(issue.get(element)))
        if not issue_text(issue):
            fail(rule, f"issue[{index}]", "diagnostics or details.text saying what was wrong", _shown(issue))
    if mentions is not None:
        texts = [issue_text(i) for i in listed(outcome.get("issue")) if isinstance(i, dict)]
        if not any(mentions.lower() in t.lower() for t in texts):
            fail(rule, "the OperationOutcome's text", f"a mention of {mentions!r}", _shown(texts))


# -- instants -----------------------------------------------------------------------------
def parse_instant(value: Any) -> datetime:
    """A FHIR instant (date, time, offset; optional fraction) as an aware datetime. ValueError otherwise."""
    match = _INSTANT.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a date-time with time and offset")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    offset = "+00:00" if match["offset"] == "Z" else match["offset"]
    return datetime.fromisoformat(f"{match['base']}.{fraction}{offset}")


def same_instant(a: str | datetime, b: str | datetime) -> bool:
    """The same point in time, whatever the offsets; a side without fractional seconds matches
    the other side's whole second (a target may drop fractions)."""
    first = a if isinstance(a, datetime) else parse_instant(a)
    second = b if isinstance(b, datetime) else parse_instant(b)
    if first == second:
        return True
    whole = (first.replace(microsecond=0) == second.replace(microsecond=0))
    return whole and 0 in (first.microsecond, second.microsecond)


def check_utc_instant(value: Any, *, rule: str, what: str, expected: str | None = None) -> datetime:
    """A read-back instant written in UTC (``Z`` or ``+00:00``, fractional seconds or none).

    ``expected`` says which instant the rule wants, so a failure quotes it rather than an example;
    ``value`` is ``ABSENT`` for an element the read-back lacks.
    """
    wanted = f"a date-time in UTC: {expected}" if expected else "a date-time in UTC (Z or +00:00)"
    try:
        parsed = parse_instant(value)
    except ValueError:
        fail(rule, what, wanted, _got_element(value))
    if not value.endswith(_UTC_SUFFIXES):
        fail(rule, what, f"the instant written in UTC (Z or +00:00){': ' + expected if expected else ''}",
             _shown(value))
    return parsed


def check_same_instant(got: Any, expected: str | datetime, *, rule: str, what: str, in_utc: bool = True) -> None:
    """The same instant as ``expected``; written in UTC too unless ``in_utc`` is false (a rule that only
    says "the same instant" leaves the spelling to the rules that say "in UTC")."""
    shown = expected if isinstance(expected, str) else expected.isoformat()
    wanted = f"the instant {_in_utc(shown)}"
    if in_utc:
        parsed = check_utc_instant(got, rule=rule, what=what, expected=wanted)
    else:
        try:
            parsed = parse_instant(got)
        except (ValueError, TypeError):
            fail(rule, what, wanted, _got_element(got))
    if not same_instant(parsed, expected):
        fail(rule, what, wanted, _shown(got))


def check_copied_or_created(got: Any, received: str | datetime, window: tuple[datetime, datetime], *, rule: str,
                            what: str) -> None:
    """SENT-3 in canvas-current: ``sent`` is the ``received`` instant (v1) or the time of creation, an instant
    in ``window`` (v2's "if not supplied on creation, it will default to the current timestamp")."""
    low, high = window
    try:
        parsed = parse_instant(got)
    except (ValueError, TypeError):
        parsed = None
    if parsed is not None and (same_instant(parsed, received) or low <= parsed <= high):
        return
    shown = received if isinstance(received, str) else received.isoformat()
    fail(rule, what, f"the received instant {_in_utc(shown)}, or the time of creation (between {low.isoformat()} "
         f"and {high.isoformat()})", _got_element(got))


def check_within(got: Any, low: datetime, high: datetime, *, rule: str, what: str) -> datetime:
    wanted = f"an instant between {low.isoformat()} and {high.isoformat()}"
    parsed = check_utc_instant(got, rule=rule, what=what, expected=wanted)
    if not (low <= parsed <= high):
        fail(rule, what, wanted, _shown(got))
    return parsed


def _in_utc(text: str) -> str:
    """An instant as the rule wants it read back (in UTC), with the offset it was given in when not UTC."""
    try:
        parsed = parse_instant(text)
    except ValueError:
        return text
    if text.endswith(_UTC_SUFFIXES):
        return text
    utc = parsed.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return f"{utc} (given as {text})"


def creation_window(started: datetime, finished: datetime, date_header: str | None,
                    tolerance: timedelta) -> tuple[datetime, datetime, str]:
    """When a target without a settable clock created a message: from its ``Date`` header when
    present (whole seconds: the second it names plus one), else the request's own start and end,
    widened by ``tolerance`` either side. Returns (low, high, how it was worked out)."""
    stamped = parse_http_date(date_header)
    if stamped is not None:
        return (stamped - tolerance, stamped + timedelta(seconds=1) + tolerance,
                f"the answer's Date header {date_header!r}, ± {tolerance.total_seconds():g} s")
    return (started - tolerance, finished + tolerance,
            f"the request's own start and end on this machine's clock, ± {tolerance.total_seconds():g} s")


# -- read-backs ---------------------------------------------------------------------------
def check_absent(resource: Mapping, element: str, *, rule: str) -> None:
    """The element is not in the read-back at all (not null, not defaulted)."""
    if element in resource:
        fail(rule, f"the stored message's {element}", "no such element", _shown(resource[element]))


def check_reference(value: Any, kind: str, ident: str, *, rule: str, what: str) -> None:
    """A Reference to ``kind/ident`` (relative or absolute, as references.py reads them; a ``type``,
    when given, agrees)."""
    expected = f"a reference to {kind}/{ident}"
    if not isinstance(value, dict):
        fail(rule, what, expected, _shown(value))
    if parse_reference(value.get("reference")) != Reference(kind, ident):
        fail(rule, what, expected, _shown(value))
    if "type" in value and value["type"] != kind:
        fail(rule, f"{what}.type", kind, _shown(value["type"]))


def check_one_recipient(resource: Mapping, kind: str, ident: str, *, rule: str) -> None:
    recipients = resource.get("recipient")
    if not isinstance(recipients, list) or len(recipients) != 1:
        count = len(recipients) if isinstance(recipients, list) else _shown(recipients)
        fail(rule, "the stored message's recipients", f"exactly one ({kind}/{ident})", f"{count}: "
             f"{_shown(recipients)}")
    check_reference(recipients[0], kind, ident, rule=rule, what="the stored recipient")


def check_one_payload(resource: Mapping, text: str, *, rule: str, html_text: bool = False) -> None:
    """Exactly one payload element, carrying ``text`` as ``contentString`` (with ``html_text``: the text as
    sent, or HTML whose text content is the text, see ``same_text``)."""
    payload = resource.get("payload")
    if not isinstance(payload, list) or len(payload) != 1:
        fail(rule, "the stored message's payload", f"exactly one element with contentString {text!r}",
             _shown(payload))
    element = payload[0]
    if not isinstance(element, dict) or not same_text(element.get("contentString"), text, html_text=html_text):
        wanted = f"contentString {text!r}" + (", or HTML whose text content is that text" if html_text else "")
        got = element.get("contentString") if isinstance(element, dict) else None
        if html_text and rule != HTML_TEXT_RULE and isinstance(got, str) and _loosely_same(got, text):
            # the right text, rendered wrong (escaped twice, a line break lost...): PAY-6's breach, seen here
            fail(HTML_TEXT_RULE, "the stored payload text", wanted, _shown(got))
        fail(rule, "the stored payload element", wanted, _shown(element))


HTML_TEXT_RULE = "PAY-6"  # canvas-current: a read-back text is the text sent, or HTML whose text content it is
_LOOSE_DROPPED = re.compile(r"<[^>]*>|[&;<>#\s]")


def _loosely_same(got: str, sent: str) -> bool:
    """Whether two texts agree once markup, entities (decoded up to three times), the characters ``&;<>#``
    and all white space are left out: the same text, whatever an HTML store did to its rendering."""
    def loose(value: str) -> str:
        for _ in range(3):
            value = html.unescape(value)
        return _LOOSE_DROPPED.sub("", value)
    return loose(got) == loose(sent)


def same_text(got: Any, sent: str, *, html_text: bool = False) -> bool:
    """Whether a read-back text is the text sent: the same string, or the text in one ``<p>``/``<div>``
    wrapper (canvas-2022); with ``html_text`` (canvas-current, messages stored as HTML since 2022-10-26),
    the same string or HTML whose text content (``html_text_content``) is the text."""
    if not isinstance(got, str):
        return False
    if got == sent:
        return True
    if html_text:
        return html_text_content(got) == sent
    return _unwrapped(got) == sent


_BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                     "table", "tr", "section", "article", "header", "footer", "dl", "dt", "dd", "hr"})
_BREAK, _BOUNDARY = object(), object()


class _TextContent(HTMLParser):
    """Tokens of an HTML fragment: text (entities decoded), ``<br>`` as a line break, block starts and
    ends as boundaries."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.tokens.append(_BREAK)
        elif tag in _BLOCKS:
            self.tokens.append(_BOUNDARY)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in _BLOCKS:
            self.tokens.append(_BOUNDARY)

    def handle_data(self, data):
        self.tokens.append(data)


def html_text_content(markup: str) -> str:
    """The text an HTML message shows: markup removed, entities decoded, each ``<br>`` a line break, and
    one line break between blocks (``<p>a</p><p>b</p>`` is ``a\nb``; boundaries before the first and
    after the last text are none; white space alone between blocks is layout, not text)."""
    parser = _TextContent()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001 -- whatever the markup, its text is some string, never a crash
        return markup
    tokens = parser.tokens
    out: list[str] = []
    pending = False  # a block boundary after some content, not yet followed by more content
    for index, token in enumerate(tokens):
        if token is _BOUNDARY:
            pending = bool(out)
            continue
        if isinstance(token, str) and not token.strip() and _between_blocks(tokens, index):
            continue
        if pending:
            out.append("\n")
            pending = False
        if isinstance(token, str) and index and tokens[index - 1] is _BREAK:
            token = token[2:] if token.startswith("\r\n") else token[1:] if token.startswith("\n") else token
            if not token:
                continue  # "<br>\n": the source's own line break after a <br> is layout, not text
        out.append("\n" if token is _BREAK else token)
    return "".join(out)


def _between_blocks(tokens: list, index: int) -> bool:
    """Whether the white-space text at ``index`` lies between block boundaries (or the fragment's ends)."""
    before = tokens[index - 1] if index else _BOUNDARY
    after = tokens[index + 1] if index + 1 < len(tokens) else _BOUNDARY
    return before is _BOUNDARY and after is _BOUNDARY


_HTML_WRAPPER = re.compile(r"^\s*<(?P<tag>p|div)(?:\s[^>]*)?>(?P<inner>.*)</(?P=tag)>\s*$", re.DOTALL)


def _unwrapped(value: Any) -> str | None:
    """The text inside one enclosing ``<p>`` or ``<div>`` (a target may keep message text as HTML)."""
    match = _HTML_WRAPPER.match(value) if isinstance(value, str) else None
    return html.unescape(match["inner"]) if match else None


def check_resource(body: Any, resource_type: str, *, rule: str, what: str) -> dict:
    if not isinstance(body, dict) or body.get("resourceType") != resource_type:
        fail(rule, what, f"a {resource_type} resource", _shown(body))
    return body


# -- search -------------------------------------------------------------------------------
def links(bundle: Mapping) -> dict[str, str]:
    """The Bundle's links by relation (``prev`` read as ``previous``)."""
    out = {}
    for link in listed(bundle.get("link")):
        if isinstance(link, dict) and isinstance(link.get("relation"), str) and isinstance(link.get("url"), str):
            relation = "previous" if link["relation"] == "prev" else link["relation"]
            out[relation] = link["url"]
    return out


def check_searchset(bundle: Any, *, rule: str = "FHIR-7", what: str = "the search answer") -> tuple[int, list[dict]]:
    """A searchset Bundle with a whole-number ``total``; returns (total, the Communication resources)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        fail(rule, what, "a Bundle", _shown(bundle))
    if bundle.get("type") != "searchset":
        fail(rule, f"{what}'s type", "searchset", _shown(bundle.get("type")))
    total = bundle.get("total")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        fail(rule, f"{what}'s total", "a whole number", _shown(total))
    resources = []
    entries = bundle.get("entry")
    if entries is not None and not isinstance(entries, list):
        fail(rule, f"{what}'s entry", "a list of entries", _shown(entries))
    for index, entry in enumerate(entries or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            fail(rule, f"{what}'s entry[{index}]", "an entry with a resource", _shown(entry))
        if resource.get("resourceType") == "Communication":
            resources.append(resource)
    return total, resources


def check_page_links(bundle: Mapping, *, last_page: bool, rule: str = "FHIR-7", what: str = "the page") -> dict:
    """self, first and last links on every page; next on every page but the last, never on it."""
    found = links(bundle)
    for relation in ("self", "first", "last"):
        if relation not in found:
            fail(rule, f"{what}'s links", f"a {relation!r} link", _shown(sorted(found)))
    if last_page and "next" in found:
        fail(rule, f"{what}'s links", "no 'next' link on the last page", _shown(found["next"]))
    if not last_page and "next" not in found:
        fail(rule, f"{what}'s links", "a 'next' link (more results follow)", _shown(sorted(found)))
    return found


def check_no_links(bundle: Mapping, *, rule: str = "FHIR-7", what: str = "the empty result") -> None:
    """No paging links at all (canvas-current: none are provided for an empty result set)."""
    found = links(bundle)
    if found or listed(bundle.get("link")):
        fail(rule, f"{what}'s links", "no links (none are provided for an empty result)",
             _shown(sorted(found) or bundle.get("link")))


# -- tokens and counts --------------------------------------------------------------------
def check_token_grant(status: int, body: Any, *, rule: str = "FHIR-3") -> None:
    """An OAuth 2.0 client-credentials answer: access_token, token_type Bearer, expires_in, scope."""
    check_status(status, (200,), rule=rule, what="the token grant")
    if not isinstance(body, dict):
        fail(rule, "the token grant's body", "a JSON object", _shown(body))
    if not isinstance(body.get("access_token"), str) or not body["access_token"]:
        fail(rule, "the grant's access_token", "a token", "none")
    if not isinstance(body.get("token_type"), str) or body["token_type"].lower() != "bearer":
        fail(rule, "the grant's token_type", "Bearer", _shown(body.get("token_type")))
    lifetime = body.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
        fail(rule, "the grant's expires_in", "a positive number of seconds", _shown(lifetime))
    if not isinstance(body.get("scope"), str):
        fail(rule, "the grant's scope", "the granted scopes", _shown(body.get("scope")))


def check_counts_unchanged(before: Mapping[str, int], after: Mapping[str, int], *, rule: str) -> None:
    """Nothing stored: every search total taken before the request is the same after it."""
    changed = {query: (before[query], after.get(query)) for query in before if after.get(query) != before[query]}
    if changed:
        shown = "; ".join(f"{q}: {b} -> {a}" for q, (b, a) in changed.items())
        fail(rule, "the stored messages", "nothing stored (search totals unchanged)", shown)


# -- canvas-current (Canvas FHIR v2): status, subject, the create's body, correlation ids, issue codes ----
class Allowances(NamedTuple):
    """What a profile's rules leave open, as the checks of the existing rules read it (``allowances``)."""

    html_text: bool = False  # PAY-2, PAY-6, UI-5: a read-back text may be HTML whose text content is the text
    refuse_extras: bool = False  # RCPT-3, PAY-2: a second recipient or payload element may be refused (4xx)
    empty_result_unlinked: bool = False  # FHIR-7: a search that finds nothing carries no links (pagination.md)
    sent_at_creation: bool = False  # SENT-3: with received given and sent absent, sent may be the creation time
    content_refused: bool = False  # PAY-5: v1's payload ``content`` is refused, so texts go as contentString
    # ID-1: an absolute Location may say http for an https base (Canvas's submit-vitals-via-fhir.md guide
    # parses one so: a proxy in front of the API that does not rewrite it)
    location_scheme: bool = False


CURRENT = "canvas-current"


def allowances(profile: str) -> Allowances:
    """canvas-2022 allows none of these; canvas-current (../shared/spec/canvas-current.md) all of them."""
    return Allowances(True, True, True, True, True, True) if profile == CURRENT else Allowances()


STORED_STATUS = "completed"  # STAT-2: every message is created completed, whatever status is supplied


def check_stored_status(resource: Mapping, *, rule: str = "STAT-2", sent: Any = ABSENT) -> None:
    """The read-back's ``status`` is ``completed`` (whatever was sent: ``sent`` is shown in the failure)."""
    got = resource.get("status", ABSENT)
    if got != STORED_STATUS:
        given = "" if sent is ABSENT else f" (sent as {_shown(sent)})"
        fail(rule, f"the stored message's status{given}", repr(STORED_STATUS), _got_element(got))


def check_subject(resource: Mapping, patient: Reference, *, rule: str = "SUBJ-1") -> None:
    """The read-back's ``subject`` is a reference to the message's Patient party."""
    value = resource.get("subject", ABSENT)
    expected = f"a reference to the patient party {patient.type}/{patient.id}"
    if not isinstance(value, dict):
        fail(rule, "the stored message's subject", expected, _got_element(value))
    check_reference(value, patient.type, patient.id, rule=rule, what="the stored message's subject")


def check_created_body(text: str | None, *, rule: str = "ID-3") -> None:
    """A 201's body is empty (white space at most) or the JSON ``null``: the id is only in ``Location``."""
    body = text or ""
    if not body.strip():
        return
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        value = ABSENT
    if value is not None:
        fail(rule, "the body of the 201 Created", "an empty body or the JSON null", _shown(body[:300]))


CORRELATION_HEADER = "fumage-correlation-id"


def check_correlation_id(headers: Mapping[str, str] | None, *, rule: str = "FHIR-9", what: str = "the answer") -> str:
    """The answer carries a non-empty ``fumage-correlation-id`` header; returns its value."""
    value = headers.get(CORRELATION_HEADER) if headers is not None else None
    if not isinstance(value, str) or not value.strip():
        fail(rule, f"{what}'s {CORRELATION_HEADER} header", "a correlation id",
             "no such header" if value is None else _shown(value))
    return value


# FHIR-10: the issue codes (FHIR R4 IssueType) each error status may carry, as Canvas's v2 examples give
# one per status (400 invalid, 401 unknown, 403 forbidden, 404 not-found, 405 not-supported, 422
# business-rule), widened to the children of the same parent code.
ISSUE_CODES: dict[int, frozenset[str]] = {
    400: frozenset({"invalid", "structure", "required", "value", "invariant"}),
    401: frozenset({"unknown", "login", "expired", "security"}),
    403: frozenset({"forbidden"}),
    404: frozenset({"not-found"}),
    405: frozenset({"not-supported"}),
    422: frozenset({"business-rule", "processing", "duplicate", "multiple-matches", "not-found", "deleted",
                    "too-long", "code-invalid", "extension", "too-costly", "conflict", "not-supported"}),
}
_JUDGED_SEVERITIES = ("error", "fatal")


def check_issue_codes(status: int | None, outcome: Any, *, rule: str = "FHIR-10", what: str = "the error") -> bool:
    """Every error issue's ``code`` fits the answer's status (``ISSUE_CODES``); issues of severity warning
    or information are not judged. Returns whether the status is one FHIR-10 judges at all."""
    allowed = ISSUE_CODES.get(status) if isinstance(status, int) else None
    if allowed is None:
        return False
    issues = listed(outcome.get("issue")) if isinstance(outcome, dict) else []
    for index, issue in enumerate(issues):
        if not isinstance(issue, dict) or issue.get("severity") not in _JUDGED_SEVERITIES:
            continue
        code = issue.get("code")
        if code not in allowed:
            fail(rule, f"{what}'s issue[{index}].code (status {status})", " or ".join(sorted(allowed)),
                 _got_element(issue.get("code", ABSENT)))
    return True
