"""A copy-ready ``curl`` command per recorded exchange, safe to keep in a report.

Why credentials become shell variables and are never written: a report is attached to
tickets and mailed around. The bearer token is always ``"Authorization: Bearer
$CANVAS_TOKEN"`` and a form body's ``client_secret`` is ``$CANVAS_CLIENT_SECRET`` (the
variables the runner itself reads), in double quotes so the shell fills them in; every
other word is quoted with ``shlex.quote`` so it reaches curl exactly as recorded.

Headers left out, and why:
- hop-by-hop headers (RFC 9110 section 7.6.1), which belong to one connection, not to the request;
- ``Host`` and ``Content-Length``, which curl works out from the URL and the body (a stale length
  would break the request), and ``Accept-Encoding``, which would make curl print compressed bytes;
- ``Cookie``, which the report masks, so its recorded value is useless.

Why the form's secret is sent with ``--data-urlencode``: curl encodes the variable's value
itself, so a secret with ``&``, ``+`` or ``%`` in it still arrives intact; curl joins it to the
rest of the body (``--data-binary``) with ``&``, which is how a form body is put together.
"""
from __future__ import annotations

import shlex
from urllib.parse import unquote_plus

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "transfer-encoding", "upgrade"})
CURL_SETS = frozenset({"host", "content-length", "accept-encoding"})
DROPPED = HOP_BY_HOP | CURL_SETS | {"cookie"}
TOKEN_VAR = "CANVAS_TOKEN"
SECRET_VAR = "CANVAS_CLIENT_SECRET"
AUTHORIZATION = f'"Authorization: Bearer ${TOKEN_VAR}"'
FORM = "application/x-www-form-urlencoded"
GLOB_CHARACTERS = frozenset("[]{}")


def curl_command(exchange: dict) -> str:
    """One shell line that sends ``exchange``'s request again with curl (see the module's docstring)."""
    method = str(exchange.get("method") or "GET").upper()
    url = str(exchange.get("url") or "")
    headers = exchange.get("request_headers") or {}
    body = exchange.get("request_body")
    words = ["curl"]
    words += ["--head"] if method == "HEAD" else ["-X", shlex.quote(method)]
    if GLOB_CHARACTERS.intersection(url):
        words.append("--globoff")  # FHIR search values such as date=[...] are not curl URL ranges
    words.append(shlex.quote(url))
    content_type = ""
    for name, value in headers.items():
        lower = str(name).lower()
        if lower in DROPPED:
            continue
        if lower == "authorization":
            words += ["-H", AUTHORIZATION]
            continue
        if lower == "content-type":
            content_type = str(value)
        words += ["-H", shlex.quote(f"{name}: {value}")]
    if body is not None:
        words += _body(str(body), content_type)
    return " ".join(words)


def _body(body: str, content_type: str) -> list[str]:
    if content_type.split(";")[0].strip().lower() != FORM:
        return ["--data-binary", shlex.quote(body)]
    pairs = body.split("&") if body else []
    kept = [p for p in pairs if unquote_plus(p.partition("=")[0]) != "client_secret"]
    words = ["--data-binary", shlex.quote("&".join(kept))] if kept or len(kept) == len(pairs) else []
    if len(kept) != len(pairs):
        words += ["--data-urlencode", f'"client_secret=${SECRET_VAR}"']
    return words


def with_curl(scenario: dict) -> dict:
    """``scenario`` with a ``curl`` field in each of its exchanges (for conformance.json)."""
    return {**scenario, "exchanges": [{**x, "curl": curl_command(x)} for x in scenario.get("exchanges") or ()]}
