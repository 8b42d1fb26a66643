"""The Communication search parameters, declared once (FHIR-7).

``PARAMS`` feeds the route (which names are accepted, how each value is parsed, which are kept
in the paging links), the CapabilityStatement's ``searchParam`` list (metadata.py) and the
OpenAPI parameters (openapi.py); tests/mock/test_search_params.py checks that the three agree.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

from .db import SearchFilters
from .fhir_types import PARTY_TYPES, REFERENCE
from .outcome import FhirError, Issue

DEFAULT_COUNT, MAX_COUNT = 10, 100  # FHIR-7
MAX_OFFSET = 10**12  # past any real data: a larger offset gives the same empty page


class SearchParam(NamedTuple):
    """One search parameter: what it is called, its FHIR type, what it means and how it is read."""

    name: str
    fhir_type: str  # the CapabilityStatement's searchParam.type: token, reference, number
    description: str
    parse: Callable[[str, str | None], Any]  # (name, raw value or None) -> value; FhirError if malformed
    # The SearchFilters field it sets; None for the paging parameters, which each link sets itself.
    filter: str | None = None

    def openapi(self) -> dict:
        """The OpenAPI 3 query parameter."""
        schema = {"type": "integer", "minimum": 0} if self.fhir_type == "number" else {"type": "string"}
        return {"name": self.name, "in": "query", "schema": schema, "description": self.description}


class Query(NamedTuple):
    """A search request after parsing."""

    filters: SearchFilters
    count: int
    offset: int
    kept: list[tuple[str, str]]  # the filters as the client gave them, repeated in every paging link


def _whole(*, default: int, cap: int) -> Callable[[str, str | None], int]:
    """A whole number of 0 or more; values above ``cap`` are served as ``cap``.

    ASCII digits only: ``str.isdigit`` also takes "²" (which ``int`` refuses) and other scripts'
    digits. Long strings are capped before ``int`` sees them: Python refuses to convert more
    than 4300 digits, and SQLite cannot bind an integer above 2**63 - 1.
    """
    def parse(name: str, raw: str | None) -> int:
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit()):
            raise FhirError(400, Issue("value", "FHIR-7", f"{name} must be a whole number of 0 or more, got {raw[:40]!r}"))
        stripped = raw.lstrip("0")
        return cap if len(stripped) > len(str(cap)) else min(int(stripped or "0"), cap)
    return parse


def _text(name: str, raw: str | None) -> str | None:
    return raw or None


def _patient(name: str, raw: str | None) -> str | None:
    """``Patient/<id>`` or a bare id."""
    if not raw:
        return None
    kind, _, ident = raw.rpartition("/")
    if kind not in ("", "Patient") or not ident:
        raise FhirError(400, Issue("value", "FHIR-7", f"{name} must be Patient/<id> or an id, got {raw[:80]!r}"))
    return ident


def _party(name: str, raw: str | None) -> tuple[str | None, str] | None:
    """``Patient/<id>``, ``Practitioner/<id>`` or a bare id (either kind)."""
    if not raw:
        return None
    match = REFERENCE.match(raw)
    if match and match["type"] in PARTY_TYPES:
        return match["type"], match["id"]
    if "/" not in raw and raw.strip():
        return None, raw
    raise FhirError(400, Issue("value", "FHIR-7", f"{name} must be Patient/<id>, Practitioner/<id> or an id, got {raw[:80]!r}"))


_PARTY = "Patient/<id>, Practitioner/<id> or an id"
PARAMS = (
    SearchParam("_id", "token", "A Communication id", _text, filter="id"),
    SearchParam("patient", "reference", "Patient/<id> or an id", _patient, filter="patient"),
    SearchParam("sender", "reference", _PARTY, _party, filter="sender"),
    SearchParam("recipient", "reference", _PARTY, _party, filter="recipient"),
    SearchParam("_count", "number", f"Page size: default {DEFAULT_COUNT}; above {MAX_COUNT} is served as "
                f"{MAX_COUNT} (FHIR-7)", _whole(default=DEFAULT_COUNT, cap=MAX_COUNT)),
    SearchParam("_offset", "number", "Entries to skip (FHIR-7)", _whole(default=0, cap=MAX_OFFSET)),
)
NAMES = tuple(param.name for param in PARAMS)
_NAME_SET = frozenset(NAMES)
_PAGING = tuple(param for param in PARAMS if param.filter is None)
_FILTERING = tuple(param for param in PARAMS if param.filter is not None)


def parse_query(args: Mapping[str, str]) -> Query:
    """The search request's parameters read by ``PARAMS``; an unknown name or a malformed value is a 400."""
    # The first value of each name, in a plain dict: a MultiDict's get() raises and catches an
    # exception for every name that is absent, which most are.
    given = {name: args[name] for name in args}
    unknown = sorted(given.keys() - _NAME_SET)
    if unknown:
        raise FhirError(400, Issue("not-supported", "FHIR-7",
                                   f"unknown search parameter(s) {', '.join(unknown)}; supported: {', '.join(NAMES)}"))
    # The paging values are read first, then the filters: the first malformed one is the one answered.
    page = {param.name: param.parse(param.name, given.get(param.name)) for param in _PAGING}
    filters = SearchFilters(**{param.filter: param.parse(param.name, given.get(param.name)) for param in _FILTERING})
    kept = [(param.name, given[param.name]) for param in _FILTERING if given.get(param.name)]
    return Query(filters, count=page["_count"], offset=page["_offset"], kept=kept)
