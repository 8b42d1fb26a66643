"""OperationOutcome answers and the app-wide error handling (FHIR-2).

Every error the mock gives is an OperationOutcome whose issues carry severity,
code, a diagnostics text that starts with the rule ID broken, and the FHIRPath
expression of the offending element where there is one. In canvas-current (v2)
that text is ``details.text`` instead and the code fits the status (FHIR-10). Nothing escapes as a
5xx with a stack trace: unexpected exceptions become a 500 OperationOutcome
that names no internals (and are logged without request bodies or headers).
"""
from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import re
from typing import NamedTuple

from flask import Flask, Response, current_app, g, has_app_context
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.urls import iri_to_uri

from .fhir_types import FHIR_JSON
from .profiles import CANVAS_CURRENT

CORRELATION_HEADER = "fumage-correlation-id"
# Issues listed in one OperationOutcome; past it one more issue says more were found, so an answer
# stays a few kilobytes whatever the body (a 60 KB body can hold 30,000 wrong elements).
MAX_ISSUES = 100
log = logging.getLogger("mock_server")


class Issue(NamedTuple):
    """One OperationOutcome issue."""

    code: str  # FHIR issue-type: required, invalid, structure, value, not-found, security...
    rule: str  # the catalogue rule ID the request broke
    text: str  # what was wrong, for a person
    expression: str | None = None  # FHIRPath of the element, e.g. "Communication.recipient[0]"

    def as_fhir(self) -> dict:
        issue = {"severity": "error", "code": self.code, "diagnostics": f"[{self.rule}] {self.text}"}
        if self.expression:
            issue["expression"] = [self.expression]
        return issue

    def as_v2(self, status: int) -> dict:
        """The issue as Canvas's v2 API words its errors (canvas-current).

        FHIR-10: the text is in ``details.text`` (no ``diagnostics``: no v2 example has one), still
        starting with the rule ID and naming the element (FHIR-2), and the code fits the status.
        """
        issue = {"severity": "error", "code": fitting_code(status, self.code),
                 "details": {"text": f"[{self.rule}] {self.text}"}}
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


# FHIR-10: the issue codes an error of each status may carry in canvas-current: the code of Canvas's
# v2 example for that status first, then the children of its parent in FHIR's issue-type hierarchy
# (invalid, security, processing). Statuses not listed (413, 415, 429, 500, 503) keep their code.
FITTING_CODES = {
    400: ("invalid", "structure", "required", "value", "invariant"),
    401: ("unknown", "login", "expired", "security"),
    403: ("forbidden",),
    404: ("not-found",),
    405: ("not-supported",),
    422: ("business-rule", "processing", "not-supported", "duplicate", "multiple-matches", "not-found",
          "deleted", "too-long", "code-invalid", "extension", "too-costly", "conflict"),
}


def fitting_code(status: int, code: str) -> str:
    """``code`` when it fits ``status`` (FHIR-10), else the status's own code (a 400's ``too-costly``: ``invalid``)."""
    fitting = FITTING_CODES.get(status)
    return code if fitting is None or code in fitting else fitting[0]


class FhirError(Exception):
    """Raised anywhere in a request to answer ``status`` with an OperationOutcome."""

    def __init__(self, status: int, *issues: Issue, headers: dict | None = None,
                 counted_all: bool = True) -> None:
        super().__init__(issues[0].text if issues else str(status))
        self.status = status
        self.issues = issues
        self.headers = headers or {}
        # False: whoever found ``issues`` stopped looking, so there may be more than are given.
        self.counted_all = counted_all


def fhir_response(body: dict | None, status: int = 200, headers: dict | None = None) -> Response:
    return fhir_json_response(None if body is None else fhir_json(body), status, headers)


def fhir_json(body) -> str:
    """The JSON text of an answer's body (compact; db.py stores resources in this very form)."""
    return json.dumps(body, separators=(",", ":"))


# fhir_json of one string, without building an encoder per call (json.dumps does for each).
json_string = json.encoder.encode_basestring_ascii


class _Answer(Response):
    """A Response with no default type: an answer without a body carries no Content-Type
    (Flask's default would label the empty 201 text/html)."""

    default_mimetype = None


def fhir_json_response(payload: str | None, status: int = 200, headers: dict | None = None) -> Response:
    """An answer whose body is the JSON text ``payload`` already made (``None``: no body, no type)."""
    return _Answer(payload or "", status=status, headers=headers,
                   content_type=FHIR_JSON if payload is not None else None)


class Answer(NamedTuple):
    """A successful answer of an endpoint, before it is sent: Flask sends ``response()``;
    fastpath.py sends ``wsgi()``, the same status line, headers and bytes (tests/mock/test_fastpath.py)."""

    status: int
    body: str | None  # the JSON text; None: no body and no Content-Type
    headers: tuple[tuple[str, str], ...] = ()  # before Content-Type and Content-Length, as Werkzeug orders them
    content_type: str = FHIR_JSON

    def response(self) -> Response:
        return _Answer(self.body or "", status=self.status, headers=list(self.headers),
                       content_type=self.content_type if self.body is not None else None)

    def wsgi(self, start_response, correlation_id: str) -> list[bytes]:
        """Start the answer as Werkzeug would send ``response()`` once ``_stamp`` has stamped it:
        the given headers (a Location as ``iri_to_uri`` gives it), Content-Type when there is a body,
        Content-Length, the correlation id; the status line in Werkzeug's words."""
        data = self.body.encode() if self.body is not None else b""
        headers = [(name, uri(value)) if name == "Location" else (name, value) for name, value in self.headers]
        if self.body is not None:
            headers.append(("Content-Type", self.content_type))
        headers.append(("Content-Length", str(len(data))))
        headers.append((CORRELATION_HEADER, correlation_id))
        start_response(_status_line(self.status), headers)
        return [data]


@functools.lru_cache(maxsize=64)
def _status_line(status: int) -> str:
    return f"{status} {HTTP_STATUS_CODES[status].upper()}"  # as Werkzeug's Response.status setter words it


# URLs that Werkzeug's iri_to_uri gives back unchanged: lowercase http(s) scheme, a host of lowercase
# ASCII labels (each 1 to 63 characters, so the IDNA codec leaves them as they are; urlsplit lowercases
# the host), a port with no leading zero, and a path of only what the path's quoting keeps (unreserved
# characters, '%' and "!$&'()*+,/:;=@"); no query, no fragment, no user info, no whitespace.
_PLAIN_URI = re.compile(r"https?://[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*(:(?:0|[1-9][0-9]{0,4}))?"
                        r"(?:/[A-Za-z0-9._~%!$&'()*+,/:;=@-]*)?")


def uri(location: str) -> str:
    """What Werkzeug sends for a Location header: ``iri_to_uri(location)``, without its work when that is
    ``location`` itself (a port above 65535 is left to iri_to_uri, which refuses it)."""
    match = _PLAIN_URI.fullmatch(location)
    if match and (not match.group(1) or int(match.group(1)[1:]) <= 65535):
        return location
    return iri_to_uri(location)


def outcome_response(status: int, issues, headers: dict | None = None, *, counted_all: bool = True,
                     profile: str | None = None) -> Response:
    """The OperationOutcome answer; ``profile`` for callers outside a request (else the app's PROFILE)."""
    if profile is None:
        profile = current_app.config["PROFILE"] if has_app_context() else None
    listed = capped(list(issues), counted_all)
    if profile == CANVAS_CURRENT:  # FHIR-10
        body = {"resourceType": "OperationOutcome", "issue": [i.as_v2(status) for i in listed]}
    else:
        body = {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in listed]}
    return fhir_response(body, status, headers)


def capped(issues: list[Issue], counted_all: bool = True) -> list[Issue]:
    """The first ``MAX_ISSUES`` issues, then (when there were more) one issue saying how many more.

    ``counted_all`` False: the finder stopped looking, so only "more" is known, not how many.
    """
    kept = issues[:MAX_ISSUES]
    if len(issues) <= MAX_ISSUES and counted_all:
        return kept
    more = f"{len(issues) - len(kept)} more problems were found" if counted_all else "more problems were found"
    rule = kept[0].rule if kept else "FHIR-2"
    return kept + [Issue("too-costly", rule, f"{more} and are not listed (an answer lists {MAX_ISSUES} at most); "
                                             "fix these and send again for the rest")]


# HTTP errors Werkzeug raises before our code runs (routing, size limit...).
_HTTP_ISSUES = {
    404: ("not-found", "FHIR-6", "no such endpoint"),
    405: ("not-supported", "FHIR-6", "this operation is not supported on this resource"),
    413: ("too-long", "FHIR-2", "the request body is larger than the server accepts"),
}


class _CorrelationIds:
    """32 hex digits per answer: a random per-process prefix and a counter.

    Why not ``uuid4()``: it reads the OS's random source, a call that gives up the GIL, and under
    load every such call lets another thread in first. An id only has to tell answers apart; the
    prefix keeps processes sharing a database (or forked from one) apart too.
    """

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


new_correlation_id = _CorrelationIds()


def new_uuid_correlation_id() -> str:
    """FHIR-9 (canvas-current): a correlation id in UUID form (version 4 and RFC 4122 variant bits set).

    The same ids as ``new_correlation_id``, hyphenated: the prefix's 13th digit becomes the version
    and the counter's first digit carries the variant, so ids stay unique for 2**62 answers a process.
    """
    h = new_correlation_id()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def correlation_ids(profile: str):
    """The correlation id maker of ``profile``."""
    return new_uuid_correlation_id if profile == CANVAS_CURRENT else new_correlation_id


def init_app(app: Flask) -> None:
    # FHIR-9: every answer the app gives (errors and the token endpoint included) carries a fresh id,
    # made when the answer is stamped, or earlier by whatever must name it first (the log line of an
    # unexpected error), never twice for one request.
    make_id = correlation_ids(app.config["PROFILE"])

    @app.after_request
    def _stamp(response: Response) -> Response:
        response.headers[CORRELATION_HEADER] = g.get("correlation_id") or make_id()
        return response

    @app.errorhandler(FhirError)
    def _fhir_error(err: FhirError):
        return outcome_response(err.status, err.issues, err.headers, counted_all=err.counted_all)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        code, rule, text = _HTTP_ISSUES.get(err.code, ("processing", "FHIR-2", err.name.lower()))
        if err.code == 413:
            text += f" ({app.config['MAX_CONTENT_LENGTH']} bytes at most)"
        headers = {}
        if err.code == 405 and getattr(err, "valid_methods", None):
            headers["Allow"] = ", ".join(err.valid_methods)
        return outcome_response(err.code, [Issue(code, rule, text)], headers)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.error("unexpected %s while answering (correlation id %s)",
                  type(err).__name__, g.setdefault("correlation_id", make_id()))
        return outcome_response(500, [Issue("exception", "FHIR-2",
                                            "the server failed unexpectedly")])
