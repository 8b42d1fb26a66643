"""One access-log line per request, written by ``serve`` (not by the embedded mock or tests' apps).

A line: UTC time, client address, method, path with the query string, status, duration in ms::

    2026-12-01T21:30:00Z 127.0.0.1 POST /Communication 201 0.84ms

Never logged: headers (so never the Authorization header), bodies (so never a token form's
``client_secret``), and the value of any query parameter whose name says it is a secret
(``client_secret``, ``access_token``, ``password``...): it is written ``***``. A request whose
exchange ends without an answer (an injected ``drop`` fault, a client gone) is logged with
status ``-``.
"""
from __future__ import annotations

import sys
import time
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset({
    "access_token", "refresh_token", "id_token", "token", "client_secret", "secret", "password",
    "passwd", "code", "api_key", "apikey", "key", "signature", "sig", "assertion", "client_assertion",
})


def masked_query(query: str) -> str:
    """``query`` with the values of secret-named parameters replaced by ``***``."""
    if not query:
        return ""
    parts = []
    for item in query.split("&"):
        name, eq, _ = item.partition("=")
        if eq and unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
            item = f"{name}=***"
        parts.append(item)
    return "&".join(parts)


class AccessLog:
    """WSGI middleware: the wrapped app's answers, one line each on ``stream`` (default stderr)."""

    def __init__(self, wsgi_app, stream=None) -> None:
        self.wsgi_app = wsgi_app
        self.stream = stream
        self._second = (-1, "")  # (whole UTC second, its text): formatted once a second, not per line

    def __call__(self, environ, start_response):
        began = time.perf_counter()
        status = ["-"]

        def recording_start_response(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        try:
            return self.wsgi_app(environ, recording_start_response)
        finally:
            self._write(environ, status[0], time.perf_counter() - began)

    def _write(self, environ, status: str, seconds: float) -> None:
        if environ.get("mock.dropped"):
            status = "-"
        path = environ.get("PATH_INFO", "") or "/"
        query = masked_query(environ.get("QUERY_STRING", ""))
        target = f"{path}?{query}" if query else path
        line = (f"{self._now()} {environ.get('REMOTE_ADDR', '-')} "
                f"{environ.get('REQUEST_METHOD', '-')} {_printable(target)} {status} {seconds * 1000:.2f}ms\n")
        try:
            (self.stream or sys.stderr).write(line)
        except (OSError, ValueError):
            pass  # a closed or full stderr must never cost the client its answer

    def _now(self) -> str:
        second = int(time.time())
        known = self._second
        if known[0] != second:
            known = self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
        return known[1]


def _printable(text: str) -> str:
    """Control characters escaped, so a request cannot forge or break log lines."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
