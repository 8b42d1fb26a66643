"""Each API rule's input space, as small composable Hypothesis strategies, and the bounded loop that
searches it against a target.

Why: a fixed ``Examples`` row shows that one input passes. A server whose bug lies one step off
that row (an offset with minutes, a fourth fraction digit, a patient writing to a practitioner,
a third recipient, an accent) passes every row. ``dimensions.json`` names, per API rule, the
dimensions along which a real server could get the rule wrong, each with the strategy here that
spans it; a rule's case is one value drawn from each of its dimensions (``case_strategy``), and
``falsify`` runs a seeded, bounded Hypothesis search for a case the rule's check refuses,
shrinking the first one found within a budget so the verdict names a minimal failing case.

Values are plain data (strings, dicts, lists, tuples) that read well when printed: a reference
to one of the target's people is written with a placeholder (``<patient>``, ``<practitioner>``,
``<other patient>``...) which the steps replace with the target's own ids, so the same seed draws
the same cases against any target. No strategy here touches the network or the file system
(texts are built from listed pieces, so Hypothesis needs no Unicode table cached on disk).
"""
from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, NamedTuple

from hypothesis import (HealthCheck, Phase, Verbosity, currently_in_test_context, example, given, reject,
                        seed as hypothesis_seed, settings)
from hypothesis.errors import UnsatisfiedAssumption
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers as _providers

DIMENSIONS_FILE = Path(__file__).with_name("dimensions.json")

# --depth: examples per explored scenario, and how many further cases may be tried while shrinking
# the first failing one (the search stops there and reports the smallest failing case found).
DEPTHS = {"quick": (6, 30), "standard": (12, 60), "thorough": (100, 400)}
DEFAULT_DEPTH = "standard"
DEFAULT_SEED = 20220210  # fixed, so CI verdicts are reproducible; the date of the document's example

DIRECTIONS = ("practitioner->patient", "patient->practitioner")

def strings(alphabet: str, *, min_size: int = 0, max_size: int) -> st.SearchStrategy[str]:
    """Text of characters from ``alphabet``. Why not ``st.text``: it reads Unicode tables that
    Hypothesis caches in ``./.hypothesis``, and the harness writes nothing into a vendor's folder."""
    return st.lists(st.sampled_from(alphabet), min_size=min_size, max_size=max_size).map("".join)


# -- instants -------------------------------------------------------------------------------------
# Offsets real zones use, minutes included, and the ends of the range; plus any whole quarter hour
# from -12:00 to +14:00 (the range FHIR's instant allows).
NAMED_OFFSETS = ("Z", "+00:00", "+05:45", "-09:30", "+14:00", "-12:00", "+05:30", "-03:30", "+09:00",
                 "-04:00", "+12:45", "-00:30", "+13:00", "-11:00")


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def offsets() -> st.SearchStrategy[str]:
    """An offset of either sign, with and without minutes: ``Z``, ``+05:45``, ``-09:30``, ``+14:00``..."""
    return st.one_of(st.sampled_from(NAMED_OFFSETS),
                     st.integers(-12 * 4, 14 * 4).map(lambda quarters: _offset_text(quarters * 15)))


def offset_minutes(offset: str) -> int:
    if offset == "Z":
        return 0
    sign = -1 if offset[0] == "-" else 1
    return sign * (int(offset[1:3]) * 60 + int(offset[4:6]))


def fractions() -> st.SearchStrategy[str | None]:
    """No fractional seconds, or one to six digits (``5``, ``250``, ``000001``, ``999999``)."""
    return st.one_of(st.none(), strings("0123456789", min_size=1, max_size=6))


# Instants near the ends of days, months, years and leap days, where a conversion to UTC changes
# the date: an offset of up to 14 hours moves 23:30 local (or 00:15) across the boundary.
_BOUNDARY_DATES = ("2021-12-31", "2022-01-01", "2024-02-28", "2024-02-29", "2024-03-01", "2023-02-28",
                   "2023-03-01", "2021-04-30", "2021-05-01", "2020-02-29", "2000-02-29", "1999-12-31",
                   "2099-12-31")
PAST = 2021  # the last year of "past instants": before any run, so a clock held there never outlives a token


def utc_instants(latest: int = 2099) -> st.SearchStrategy[str]:
    """A UTC instant to whole seconds, written ``...Z``: anywhere from 1970 to the end of ``latest``,
    or next to a day, month or year boundary or a leap day."""
    anywhere = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(latest, 12, 31, 23, 59, 59))
    boundary = st.builds(
        lambda day, hour, minute, second: datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:{second:02d}"),
        st.sampled_from(tuple(d for d in _BOUNDARY_DATES if int(d[:4]) <= latest)),
        st.sampled_from((0, 1, 10, 13, 14, 22, 23)), st.integers(0, 59), st.integers(0, 59))
    return st.one_of(boundary, anywhere).map(lambda d: d.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"))


class Instant(NamedTuple):
    """An instant as a client writes it (``written``) and the same instant in UTC (``utc``)."""

    written: str
    utc: datetime


def instant_of(case: dict) -> Instant:
    """The instant drawn as ``{"at": <UTC instant>, "offset": ..., "fraction": ...}``, written in its offset."""
    at = datetime.strptime(case["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    fraction = case.get("fraction")
    minutes = offset_minutes(case["offset"])
    local = at.astimezone(timezone(timedelta(minutes=minutes)))
    written = local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + (
        "Z" if case["offset"] == "Z" else case["offset"])
    micro = int(fraction.ljust(6, "0")) if fraction else 0
    return Instant(written, at + timedelta(microseconds=micro))


def instants(latest: int = 2099) -> st.SearchStrategy[dict]:
    """A given instant: a UTC instant (near a boundary or anywhere), an offset, a fraction."""
    return st.fixed_dictionaries({"at": utc_instants(latest), "offset": offsets(), "fraction": fractions()})


def crosses_date(case: dict) -> bool:
    """The instant's local date (in its offset) differs from its UTC date."""
    return instant_of(case).written[:10] != case["at"][:10]


def malformed_instants() -> st.SearchStrategy[Any]:
    """A sent/received value that is no FHIR instant: impossible dates and times, offsets out of range
    or without a colon, a date alone, no offset, lower-case separators, an empty fraction, other JSON types."""
    def spliced(date: str = "2021-04-29", time: str = "10:00:00", offset: str = "Z") -> str:
        return f"{date}T{time}{offset}"
    dates = st.sampled_from(("2021-02-29", "2021-02-30", "2024-02-30", "2021-13-01", "2021-00-10", "2021-04-31",
                             "2021-04-00", "2021-4-29", "21-04-29"))
    times = st.sampled_from(("24:00:00", "25:00:00", "10:60:00", "10:61:00", "10:00:61", "9:00:00", "10:00"))
    bad_offsets = st.sampled_from(("+15:00", "-14:30", "+14:30", "-15:00", "+0530", "+05", "+05:60", "UTC", " Z", "z"))
    text = st.one_of(
        dates.map(lambda d: spliced(date=d)),
        times.map(lambda t: spliced(time=t)),
        bad_offsets.map(lambda o: spliced(offset=o)),
        st.sampled_from(("2021-04-29", "2021-04-29T10:00:00", "2021-04-29t10:00:00Z", "2021-04-29 10:00:00Z",
                         "2021-04-29T10:00:00.Z", "yesterday at noon", "", " ", "2021-04-29T10:00:00Z ",
                         "2021-04-29T10:00:00Z\n", "\t2021-04-29T10:00:00Z")),
    )
    other_types = st.sampled_from((1619703000, 1619703000.5, True, [], ["2021-04-29T10:00:00Z"],
                                   {"value": "2021-04-29T10:00:00Z"}))
    return st.one_of(text, other_types)


# -- elements that are missing ----------------------------------------------------------------------
def missing_lists() -> st.SearchStrategy[str]:
    """How a required list (recipient, payload) is missing: left out, ``null`` or ``[]``."""
    return st.sampled_from(("absent", "null", "empty list"))


def missing_objects() -> st.SearchStrategy[str]:
    """How a required object (sender) is missing: left out, ``null`` or ``{}``."""
    return st.sampled_from(("absent", "null", "empty object"))


MISSING_VALUES = {"null": None, "empty list": [], "empty object": {}}


# -- references -----------------------------------------------------------------------------------
ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."
OTHER_TYPES = ("Location", "Organization", "Device", "RelatedPerson", "Group", "CareTeam", "Person",
               "Communication", "HealthcareService", "PractitionerRole")
OTHER_HOSTS = ("https://other.example/fhir", "http://fumage-elsewhere.canvasmedical.com", "https://evil.test")


def foreign_references() -> st.SearchStrategy[dict]:
    """A Reference element in a party's place that names no Patient or Practitioner on this target:
    other resource types, an empty id, a trailing slash, an absolute URL to another host, a contained
    ``#x``, a lower-case type, white space, an id over 64 characters, a display only, an empty,
    ``null`` or non-text reference. ``<Kind>`` is the party's own kind (Patient or Practitioner,
    ``<kind>``/``<KIND>`` in lower/upper case) and ``<self>`` a real id of that kind, both filled in
    by the steps, so in most forms the only thing wrong is the form."""
    real = "<Kind>/<self>"
    long_ids = strings(ID_CHARS, min_size=65, max_size=90)
    forms = st.one_of(
        st.builds(lambda t, i: f"{t}/{i}", st.sampled_from(OTHER_TYPES), st.sampled_from(("x", "abc", "<self>"))),
        st.sampled_from(("<Kind>/", "<Kind>", f"{real}/", "<kind>/<self>", "<KIND>/<self>",
                         f" {real}", f"{real} ", "<Kind>/ <self>", "<Kind> /<self>", "<Kind>//<self>",
                         "#x", f"#{real}", f"{real}/_history/1", f"{real}?x=1", "urn:uuid:<self>",
                         f"{real}#x", f"{real}\n", f"\t{real}", "<Kind>/ab cd")),
        st.builds(lambda host: f"{host}/{real}", st.sampled_from(OTHER_HOSTS)),
        long_ids.map(lambda i: f"<Kind>/{i}"),
    )
    return st.one_of(
        forms.map(lambda r: {"reference": r}),
        st.sampled_from(({"reference": ""}, {"reference": None}, {"display": "Front desk"}, {},
                         {"reference": 42}, {"reference": [real]})),
    )


def unknown_ids() -> st.SearchStrategy[str]:
    """Ids of a valid FHIR shape that no one was given: hex like Canvas's, digits, dots and dashes, up to
    64 characters (prefixed so they cannot be a real id by chance)."""
    shapes = st.one_of(
        strings("0123456789abcdef", min_size=32, max_size=32),
        strings("0123456789", min_size=1, max_size=12),
        strings(ID_CHARS, min_size=1, max_size=56),
    )
    return shapes.map(lambda s: f"no-such-{s}")


# -- people in lists ------------------------------------------------------------------------------
PEOPLE = ("<patient>", "<other patient>", "<practitioner>", "<other practitioner>")


def further_people() -> st.SearchStrategy[list[str]]:
    """0 to 4 more recipients after the first, of any kind, in any order, repeats and the sender allowed."""
    return st.lists(st.sampled_from(PEOPLE), min_size=0, max_size=4)


# -- texts ----------------------------------------------------------------------------------------
TEXT_PIECES = {
    "ascii": ("Your lab results are ready.", "ok", "A", "Friday 10:30?", "<b>not markup</b>", '"quoted"',
              "back\\slash", "50% & more"),
    "accents": ("café", "Zoë", "naïve", "Ångström", "ç", "ß"),
    "cjk": ("予約", "検査結果", "한국어", "中文"),
    "emoji": ("🩺", "💊", "👩‍⚕️", "👍🏽", "🇨🇦"),
    "rtl": ("مرحبا", "שלום", "\u200fRTL mark"),
    "combining": ("e\u0301", "a\u0308", "n\u0303o"),
    "spacing": ("\n", "\t", "\r\n", " ", "  ", "\u00a0", "\u2003"),
}


def texts() -> st.SearchStrategy[str]:
    """A message text beyond ASCII: accents, CJK, emoji, right-to-left, combining marks, newlines, tabs,
    leading and trailing spaces, single spaces, long texts; never blank."""
    piece = st.sampled_from(tuple(p for group in TEXT_PIECES.values() for p in group))
    joined = st.lists(piece, min_size=1, max_size=8).map("".join)
    long = st.builds(lambda p, n: (p + " ") * n, st.sampled_from(TEXT_PIECES["ascii"] + TEXT_PIECES["cjk"]),
                     st.integers(200, 600))
    padded = st.builds(lambda lead, t, trail: lead + t + trail, st.sampled_from(("", " ", "\n", "\t ")),
                       joined, st.sampled_from(("", " ", "\n", " \t")))
    return st.one_of(joined, padded, long).filter(lambda t: t.strip() != "")


def text_fields() -> st.SearchStrategy[str]:
    return st.sampled_from(("contentString", "content"))


def further_payloads() -> st.SearchStrategy[list[dict]]:
    """0 to 4 more payload elements after the first: text as content or contentString, empty text, or no
    text, in any order."""
    element = st.one_of(
        st.builds(lambda f, t: {f: t}, text_fields(), texts()),
        st.sampled_from(({"contentString": ""}, {"content": ""}, {})),
    )
    return st.lists(element, min_size=0, max_size=4)


def empty_texts() -> st.SearchStrategy[dict]:
    """A first payload element whose text is empty: ``""`` as content or contentString, or ``null``."""
    return st.sampled_from(({"contentString": ""}, {"content": ""}, {"contentString": None}, {"content": None}))


# -- whole bodies and requests ---------------------------------------------------------------------
def bad_bodies() -> st.SearchStrategy[str]:
    """A create body that is no Communication (how the steps build each is in explore_steps)."""
    return st.sampled_from(("not json", "json cut short", "array", "string", "number", "null", "empty object",
                            "no resourceType", "resourceType null", "resourceType Patient",
                            "resourceType communication", "resourceType Bundle"))


def malformed_creates() -> st.SearchStrategy[tuple[str, Any]]:
    """FHIR-1's structural problems, as (what is wrong, how): a body that is no Communication, or a
    malformed sent or received."""
    return st.one_of(st.tuples(st.just("body"), bad_bodies()),
                     st.tuples(st.sampled_from(("sent", "received")), malformed_instants()))


def structural_problems() -> st.SearchStrategy[tuple[str, Any]]:
    """One thing wrong with an otherwise valid create, as (element it concerns, what is wrong):
    a missing required element, a foreign reference, a malformed time, an element of the wrong JSON
    type, empty text, a body that is no Communication."""
    return st.one_of(
        st.tuples(st.sampled_from(("recipient", "payload")), missing_lists()),
        st.tuples(st.just("sender"), missing_objects()),
        st.tuples(st.sampled_from(("recipient", "sender")), foreign_references()),
        st.tuples(st.sampled_from(("sent", "received")), malformed_instants()),
        st.tuples(st.just("recipient not a list"), st.sampled_from(({"reference": "<Kind>/<self>"}, "<Kind>/<self>"))),
        st.tuples(st.just("payload not a list of elements"),
                  st.sampled_from(({"contentString": "hello"}, "hello", [["hello"]], [42], ["hello"]))),
        st.tuples(st.just("content"), empty_texts()),
        st.tuples(st.just("body"), bad_bodies()),
    )


# Tokens one step off the run's own valid token (filled in by the steps, which keep them as secrets):
# a server that folds case when it looks tokens up (a case-insensitive collation), or matches a prefix.
NEAR_TOKENS = ("<own token, case swapped>", "<own token, last character dropped>", "<own token, one character more>")


def credentials() -> st.SearchStrategy[str | None]:
    """A bearer token that is not valid: none at all, a made-up token of varied shape, or the run's own
    token one step off (``NEAR_TOKENS``)."""
    made_up = st.one_of(strings(ID_CHARS + "_~+/=", min_size=1, max_size=80),
                        st.sampled_from(("null", "undefined", "Bearer", "0", "." * 3, "eyJhbGciOiJub25lIn0.e30.")))
    return st.one_of(st.none(), st.sampled_from(NEAR_TOKENS), made_up.filter(lambda t: t.strip() == t and t != ""))


def media_types() -> st.SearchStrategy[str]:
    """Both JSON media types, with parameters and in any letter case (media types are case-insensitive)."""
    base = st.sampled_from(("application/fhir+json", "application/json"))
    params = st.sampled_from(("", "; charset=utf-8", ";charset=UTF-8", "; fhirVersion=4.0"))
    casing = st.sampled_from((str, str.upper, str.title))
    return st.builds(lambda b, p, c: c(b) + p, base, params, casing)


def client_ids() -> st.SearchStrategy[str | None]:
    """An id the client puts in the body: none, a plausible one, or the id of a message already stored
    (``<existing>``, filled in by the steps)."""
    return st.one_of(st.none(), st.just("<existing>"), strings(ID_CHARS, min_size=1, max_size=64))


def optional_elements() -> st.SearchStrategy[list[str]]:
    """Which optional parts a valid create carries beyond the required ones."""
    return st.lists(st.sampled_from(("sent", "received", "status", "further recipient", "further payload",
                                     "client id", "meta")), unique=True, max_size=7)


def changes() -> st.SearchStrategy[tuple[str, str]]:
    """A change a client may try: (PUT, PATCH or DELETE, on the message just stored or an unknown id)."""
    return st.tuples(st.sampled_from(("PUT", "PATCH", "DELETE")), st.sampled_from(("existing", "unknown")))


def page_sizes() -> st.SearchStrategy[str]:
    """A ``_count`` at every boundary of the patient's total, above the cap of 100, or any small number."""
    return st.one_of(st.sampled_from(("0", "1", "total-1", "total", "total+1", "101", "1000")),
                     st.integers(0, 30).map(str))


def page_offsets() -> st.SearchStrategy[str]:
    """An ``_offset`` at the start, at and past the end, or any small number."""
    return st.one_of(st.sampled_from(("absent", "0", "total-2", "total-1", "total", "total+1", "total+7")),
                     st.integers(0, 30).map(str))


def search_keys() -> st.SearchStrategy[str]:
    return st.sampled_from(("_id", "patient", "sender", "recipient"))


def party_elements() -> st.SearchStrategy[str]:
    return st.sampled_from(("sender", "recipient"))


def party_kinds() -> st.SearchStrategy[str]:
    return st.sampled_from(("Patient", "Practitioner"))


def interactions() -> st.SearchStrategy[str]:
    return st.sampled_from(("create", "read", "search"))


def repeats() -> st.SearchStrategy[int]:
    return st.integers(1, 4)


# -- canvas-current: status, subject, HTML-prone texts, the requests FHIR-9 and FHIR-10 judge -------
STATUS_CODES = ("completed", "in-progress", "preparation", "unknown")  # the v2 page's options for status
MISSING_STATUS = ("<absent>", None, "")  # left out, null, empty


def statuses() -> st.SearchStrategy[str]:
    """Every documented status code, as written and in other letter cases (codes are case-sensitive, so a
    variant is another value a server may accept or refuse)."""
    casings = (str, str.upper, str.title, str.capitalize)  # title and capitalize differ for in-progress only
    return st.builds(lambda code, casing: casing(code), st.sampled_from(STATUS_CODES), st.sampled_from(casings))


def statuses_or_none() -> st.SearchStrategy[str | None]:
    """A status left out (``<absent>``), null or empty, or any of ``statuses``."""
    return st.one_of(st.sampled_from(MISSING_STATUS), statuses())


SUBJECTS = ("<none>", "<patient>", "<practitioner>", "<other patient>", "<other practitioner>",
            "Group/conformance-group", "<display only>")


def subjects() -> st.SearchStrategy[str]:
    """The subject a create's body gives: none, either party, someone else, a non-person, or a display name."""
    return st.sampled_from(SUBJECTS)


MARKUP_PIECES = ("&", "&amp;", "&lt;p&gt;", "&#39;", "&nbsp;", "<", ">", "<br>", "<p>", "</p>", "<b>bold</b>",
                 "a < b > c", "Tom & Jerry", '"', "'", "\n", "\r\n", "\n\n", "  ", "\t", "é", "予約", "🩺", "x")


def markup_texts() -> st.SearchStrategy[str]:
    """Texts an HTML store can get wrong: markup characters, entities (written out, so they must stay text),
    line breaks of every kind (leading, trailing, doubled), beyond ASCII; never blank."""
    joined = st.lists(st.sampled_from(MARKUP_PIECES), min_size=1, max_size=8).map("".join)
    return st.one_of(joined, texts()).filter(lambda t: t.strip() != "")


def content_beside() -> st.SearchStrategy[str]:
    """Beside a payload element's ``content``: no ``contentString``, or one given as null."""
    return st.sampled_from(("absent", "null"))


def further_texts() -> st.SearchStrategy[list[str]]:
    """0 to 2 more payload elements with text as contentString."""
    return st.lists(texts(), max_size=2)


# The requests FHIR-9 judges every answer of, and the errors among them FHIR-10 judges (steps/provoke.py
# sends each; a name here is a phrase of the features too).
REQUESTS = ("a valid create", "a read of a stored message", "a search of a patient's messages", "a token request",
            "a create without recipient", "a create whose body is not JSON", "a create with empty text",
            "a create to a recipient that does not exist", "a create from a practitioner to a practitioner",
            "a create with no bearer token", "a read with a made-up bearer token", "a read of an unknown id",
            "a delete of a stored message")
ERROR_REQUESTS = REQUESTS[4:] + ("a create with a structural problem", "a change of a message")


def requests_() -> st.SearchStrategy[str]:
    return st.sampled_from(REQUESTS)


def error_requests() -> st.SearchStrategy[str]:
    return st.sampled_from(ERROR_REQUESTS)


# The strategies dimensions.json may name, by name.
STRATEGIES: dict[str, Callable[[], st.SearchStrategy]] = {
    "directions": lambda: st.sampled_from(DIRECTIONS),
    "instants": instants,
    "past instants": lambda: instants(PAST),
    "optional instants": lambda: st.one_of(st.none(), instants()),
    "malformed instants": malformed_instants,
    "missing lists": missing_lists,
    "missing objects": missing_objects,
    "foreign references": foreign_references,
    "unknown ids": unknown_ids,
    "further people": further_people,
    "texts": texts,
    "text fields": text_fields,
    "further payloads": further_payloads,
    "empty texts": empty_texts,
    "bad bodies": bad_bodies,
    "malformed creates": malformed_creates,
    "structural problems": structural_problems,
    "credentials": credentials,
    "interactions": interactions,
    "media types": media_types,
    "client ids": client_ids,
    "optional elements": optional_elements,
    "changes": changes,
    "page sizes": page_sizes,
    "page offsets": page_offsets,
    "search keys": search_keys,
    "party elements": party_elements,
    "party kinds": party_kinds,
    "same or other person": lambda: st.sampled_from(("same person", "other person")),
    "repeats": repeats,
    "statuses": statuses,
    "statuses or none": statuses_or_none,
    "subjects": subjects,
    "markup texts": markup_texts,
    "content beside": content_beside,
    "further texts": further_texts,
    "requests": requests_,
    "error requests": error_requests,
}


class Dimension(NamedTuple):
    name: str  # the key of the case
    strategy: str  # a name in STRATEGIES
    covers: str  # what a server could get wrong along it


@lru_cache(maxsize=1)
def dimensions() -> dict[str, tuple[Dimension, ...]]:
    """rule ID -> its dimensions, from dimensions.json."""
    data = json.loads(DIMENSIONS_FILE.read_text(encoding="utf-8"))
    return {rule: tuple(Dimension(**d) for d in entry["dimensions"]) for rule, entry in data["rules"].items()}


@lru_cache(maxsize=1)
def _boundaries() -> dict[str, tuple[dict, ...]]:
    data = json.loads(DIMENSIONS_FILE.read_text(encoding="utf-8"))
    return {rule: tuple(entry.get("boundaries", ())) for rule, entry in data["rules"].items()}


def boundary_cases(rule_id: str) -> tuple[dict, ...]:
    """The rule's boundary cases from dimensions.json: tried first at every depth, before the drawn ones
    (a value one step off the fixed rows that a handful of draws would too often miss)."""
    return _boundaries().get(rule_id, ())


def case_strategy(rule_id: str) -> st.SearchStrategy[dict]:
    """A case for the rule: one value from each of its dimensions, keyed by the dimension's name."""
    return st.fixed_dictionaries({d.name: STRATEGIES[d.strategy]() for d in dimensions()[rule_id]})


# -- the search -----------------------------------------------------------------------------------
class Outcome(NamedTuple):
    """What a search found: how many cases ran, and the smallest failing case with its check's message
    (None when every case held), or the exception that stopped it (an error, not a verdict)."""

    cases: int
    falsified: dict | None
    message: str | None
    error: BaseException | None
    error_case: dict | None
    left_out: int = 0  # cases the check left out (``leave_out``): not sent, not counted in ``cases``


class LeftOut(Exception):
    """A case left out while it was sent ahead, outside the search (``planned``): the search meets it
    again in its turn and leaves it out there."""


def leave_out() -> None:
    """Called by a check: this case cannot be sent here (it names someone the target lacks); draw another."""
    if not currently_in_test_context():
        raise LeftOut("the case names someone the target lacks")
    reject()


def describe(case: dict) -> str:
    """A case in one line, as the verdict shows it."""
    return json.dumps(case, ensure_ascii=False, default=str, separators=(", ", ": "))


def _same_case_key(case: Any) -> str:
    """Equal for equal cases, whatever the order of their keys."""
    try:
        return json.dumps(case, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):  # keys of several types, a cycle: its repr, order and all
        return repr(case)


@contextlib.contextmanager
def _no_local_constants():
    """Hypothesis draws now and then a literal found in the source of the loaded "local" modules
    (not in site-packages). Which modules those are depends on how the tool was installed and on what
    else the process imported, so the same seed would draw different cases in a checkout, an
    installed copy and the project's own tests. Here, for the search only, none is used (and none
    is cached on disk), so a seed means the same cases wherever it runs."""
    original = _providers._get_local_constants
    _providers._get_local_constants = _providers.Constants
    _providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        _providers._get_local_constants = original
        _providers.CONSTANTS_CACHE.cache.clear()


def planned(strategy: st.SearchStrategy, *, examples: int, seed: int, first: tuple = ()) -> list[dict]:
    """The cases ``falsify`` sends, in its order, while every case holds: the ``first`` ones, then the
    drawn ones, with a case equal to an earlier one passed over as ``falsify`` does.

    Why: Hypothesis draws a case only after the previous one was judged, so a search is one request
    after another. Against a distant target the planned cases can be sent ahead, several at once
    (steps/explore_steps.py), and ``falsify`` then judges each from what was gathered for it. While
    cases hold, Hypothesis's draws depend on the seed and on which cases were passed over only, both
    the same here as in ``falsify``; once a case fails, ``falsify`` shrinks it with cases of its own,
    sent then. So the verdict, and the cases it names, are those of a search sent one by one."""
    cases: list[dict] = []
    held: set[str] = set()

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              phases=(Phase.explicit, Phase.generate), report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False)
    @hypothesis_seed(seed)
    @given(strategy)
    def search(case):
        key = _same_case_key(case)
        if key in held:
            reject()
        held.add(key)
        cases.append(case)

    for case in reversed(first):
        search = example(case)(search)
    with _no_local_constants():
        search()
    return cases


def case_key(number: int, case: Any) -> tuple[int, str]:
    """A case and its place in the search: what a case gathered ahead is found again by."""
    return number, _same_case_key(case)


def falsify(strategy: st.SearchStrategy, check: Callable[[Any], None], *, examples: int, seed: int,
            shrink_budget: int, counts_as_failure: Callable[[AssertionError], bool] = lambda err: True,
            first: tuple = ()) -> Outcome:
    """Run ``check`` on the ``first`` cases, then on up to ``examples`` cases drawn from ``strategy`` with
    ``seed`` (a failing ``first`` case stands as it is: it is not shrunk); a case it refuses
    (an AssertionError that ``counts_as_failure``) is shrunk, trying at most ``shrink_budget`` more cases,
    and the smallest failing one is returned. Any other exception stops the search at once and is
    returned as ``error`` (the target gave no usable answer: nothing to shrink).

    A case equal to one that already held is not sent again: Hypothesis draws it anew now and then
    (a fixed dictionary's keys in another order, the same value by another path), and the same
    requests a second time prove nothing the first did not; it is passed over like a case left out
    (not counted), so Hypothesis draws another, and a space smaller than ``examples`` is tried once
    through (PAY-1's three shapes in two directions: 6 cases, not 12 of which 6 repeat)."""
    state: dict[str, Any] = {"cases": 0, "after": 0, "falsified": None, "message": None, "error": None,
                             "error_case": None, "left_out": 0}
    held: set[str] = set()

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              phases=(Phase.explicit, Phase.generate, Phase.shrink), report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False)
    @hypothesis_seed(seed)
    @given(strategy)
    def search(case):
        if state["error"] is not None:
            return
        key = _same_case_key(case)
        if key in held:
            reject()
        if state["falsified"] is not None:
            if state["after"] >= shrink_budget:
                return  # the budget is spent: the smallest failing case found so far stands
            state["after"] += 1
        state["cases"] += 1
        try:
            check(case)
        except UnsatisfiedAssumption:
            state["cases"] -= 1
            state["left_out"] += 1
            raise
        except AssertionError as err:
            if not counts_as_failure(err):
                state["error"], state["error_case"] = err, case
                return
            state["falsified"], state["message"] = case, str(err)
            raise
        except Exception as err:  # noqa: BLE001 -- any other trouble ends the search as an error
            state["error"], state["error_case"] = err, case
        else:
            held.add(key)

    for case in reversed(first):  # applied innermost-last, so they run in the order given
        search = example(case)(search)
    try:
        with _no_local_constants():
            search()
    except Exception:  # noqa: BLE001 -- the failing case (or, past the budget, Hypothesis's Flaky) is in state
        if state["falsified"] is None and state["error"] is None:
            raise
    return Outcome(state["cases"], state["falsified"], state["message"], state["error"], state["error_case"],
                   state["left_out"])
