"""exchanges.har: every recorded HTTP exchange of the run as an HTTP Archive (HAR 1.2).

Why HAR: browsers' developer tools, proxies (Charles, Fiddler, mitmproxy) and HAR viewers
all open it, so a person triaging a run can look at the traffic, filter and time it, and
replay it, with tools they already know.

What the archive holds, per the HAR 1.2 specification (http://www.softwareishard.com/blog/har-12-spec/):
- one entry per recorded exchange, retries included, in run order; entries are sorted by
  ``startedDateTime`` as the format asks, stably, so exchanges recorded at the same instant
  keep their run order. An exchange without a start time takes the previous one's (the
  run's start for the first), which keeps it where it happened;
- one page per scenario that has exchanges, so viewers group a scenario's requests;
- an exchange that got no answer (timeout, dropped connection) has ``status`` 0, as browsers
  write a request that failed, with the error in the response's ``_error`` and in the ``comment``;
- fields the harness knows but HAR has no place for are custom fields (leading underscore):
  ``_scenario`` (its name), ``_rules`` (its rule IDs), ``_correlationId``, and ``_error``.
What the harness does not record is written as HAR's "unknown": ``-1`` for header sizes and
for the connection phases (blocked, dns, connect, ssl); the whole duration is ``wait``.

Secrets: the run given here is already scrubbed (``writer.write_all``), and the writer scrubs
the file's text again; sensitive headers (Authorization, Cookie...) are masked here as well,
so an archive built from an unscrubbed run still does not carry a bearer token.
"""
from __future__ import annotations

from datetime import datetime, timezone
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from .. import jsontext
from ..redact import redact
from ..results import as_json
from .rows import Run

VERSION = "1.2"
HTTP_VERSION = "HTTP/1.1"  # what requests/urllib3 speak; the client records no version
UNKNOWN_MIME = "x-unknown"  # what browsers write for a body without a Content-Type
FORM = "application/x-www-form-urlencoded"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def build(run: Run) -> dict:
    """The archive as a dict: ``{"log": {"version": "1.2", "creator", "pages", "entries", ...}}``."""
    placed = []  # (start, run order, page index, scenario, exchange)
    previous = _instant(run.started) or EPOCH
    for page, scenario in enumerate(as_json(s) for s in run.scenarios if s.exchanges):
        for exchange in scenario["exchanges"]:
            previous = _instant(exchange.get("started")) or previous
            placed.append((previous, len(placed), page, scenario, exchange))
    placed.sort(key=lambda p: (p[0], p[1]))
    pages: dict[int, dict] = {}
    entries = []
    for start, _, page, scenario, exchange in placed:
        page_id = f"scenario_{page + 1}"
        if page not in pages:
            pages[page] = {"startedDateTime": _format(start), "id": page_id,
                           "title": " ".join([*scenario["rules"], scenario["name"]]), "pageTimings": {},
                           "_scenario": scenario["name"], "_rules": list(scenario["rules"])}
        entries.append(_entry(exchange, scenario, start, page_id))
    return {"log": {
        "version": VERSION,
        "creator": {"name": "canvas-conformance", "version": run.tool_version},
        "pages": sorted(pages.values(), key=lambda p: p["startedDateTime"]),
        "entries": entries,
        "comment": f"conformance run against {run.target.get('base_url') or 'the embedded mock'}, "
                   f"started {run.started or 'at an unknown time'}",
    }}


def render(run: Run) -> str:
    return jsontext.dumps(build(run)) + "\n"


def _entry(x: dict, scenario: dict, start: datetime, page_id: str) -> dict:
    duration = max(float(x.get("duration_ms") or 0.0), 0.0)
    answered = x.get("status") is not None
    request_headers = _headers(x.get("request_headers"))
    response_headers = _headers(x.get("response_headers"))
    comment = " · ".join(p for p in (" ".join(scenario["rules"]), scenario["name"], x.get("name")) if p)
    if not answered:
        comment += f" · no answer: {x.get('error') or 'unknown error'}"
    entry = {
        "pageref": page_id,
        "startedDateTime": _format(start),
        "time": duration,
        "request": _request(x, request_headers),
        "response": _response(x, response_headers) if answered else _no_response(x),
        "cache": {},
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": duration, "receive": 0},
        "comment": comment,
        "_scenario": scenario["name"],
        "_rules": list(scenario["rules"]),
        "_correlationId": x.get("correlation_id"),
    }
    return entry


def _request(x: dict, headers: list[dict]) -> dict:
    url = str(x.get("url") or "")
    body = x.get("request_body")
    request = {
        "method": str(x.get("method") or "GET").upper(),
        "url": url,
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": headers,
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
        "headersSize": -1,
        "bodySize": _size(body),
    }
    if body is not None:
        mime = _header(headers, "content-type")
        post = {"mimeType": mime or UNKNOWN_MIME, "text": str(body)}
        if mime.split(";")[0].strip().lower() == FORM:
            post["params"] = [{"name": k, "value": v} for k, v in parse_qsl(str(body), keep_blank_values=True)]
        request["postData"] = post
    return request


def _response(x: dict, headers: list[dict]) -> dict:
    status = int(x["status"])
    body = x.get("response_body")
    content = {"size": _size(body), "mimeType": _header(headers, "content-type") or UNKNOWN_MIME}
    if body is not None:
        content["text"] = str(body)
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    return {
        "status": status,
        "statusText": reason,
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": headers,
        "content": content,
        "redirectURL": _header(headers, "location") if 300 <= status < 400 else "",
        "headersSize": -1,
        "bodySize": _size(body),
    }


def _no_response(x: dict) -> dict:
    return {"status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
            "content": {"size": 0, "mimeType": UNKNOWN_MIME}, "redirectURL": "", "headersSize": -1,
            "bodySize": -1, "_error": x.get("error") or "unknown error"}


def _headers(recorded) -> list[dict]:
    masked = redact(dict(recorded or {}), ())  # masks Authorization, Cookie and the like whatever they hold
    return [{"name": str(k), "value": str(v)} for k, v in masked.items()]


def _header(headers: list[dict], name: str) -> str:
    return next((h["value"] for h in headers if h["name"].lower() == name), "")


def _size(body) -> int:
    return len(str(body).encode("utf-8")) if body is not None else 0


def _instant(value) -> datetime | None:
    """The recorded ISO 8601 time as an aware UTC datetime (naive means UTC); None if absent or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _format(moment: datetime) -> str:
    """HAR's date format: ISO 8601 with milliseconds and a zone, here always UTC (``Z``)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
