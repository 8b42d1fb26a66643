"""Request bodies over ``MAX_CONTENT_LENGTH`` are refused before they are read (FHIR-2).

Why a WSGI middleware: the limit has to hold on every route and for every client, with or without
a token, and on any WSGI server, so it runs before Flask routes the request or a view checks the
token. It never reads more than the limit (plus one piece) from ``wsgi.input``:

- a declared ``Content-Length`` above the limit is answered ``413`` without reading a byte;
- a body of unknown length (``wsgi.input_terminated``: the server de-chunks it) is read in pieces
  of ``PIECE`` bytes, and refused as soon as it passes the limit; what was read is handed on as a
  body of known length;
- a ``Content-Length`` that is no number of bytes is answered ``400``.

A refused request reaches the app with no body and a mark in its environ; the app answers it
(``init_app``'s before_request), so the answer is the usual OperationOutcome with a correlation
id. The rest of the body stays unread: what becomes of the connection is the server's to decide
(an app may not send ``Connection``, a hop-by-hop header, under PEP 3333).

A server may still buffer a body before the app is called (waitress does, up to its own
``max_request_body_size``); only the server's own cap stops that.
"""
from __future__ import annotations

import io

from flask import Flask, request

from .outcome import FhirError, Issue

PIECE = 16 * 1024
REFUSED = "mock.body_refused"  # environ key: (status, reason) of a body refused here


class BodyLimit:
    """WSGI middleware that keeps bodies within ``limit`` bytes (see the module's docstring)."""

    def __init__(self, wsgi_app, limit: int) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ, start_response):
        refusal = self._refusal(environ)
        if refusal:
            environ[REFUSED] = refusal
            environ["wsgi.input"] = io.BytesIO()
            environ["CONTENT_LENGTH"] = "0"
            environ.pop("wsgi.input_terminated", None)
        return self.wsgi_app(environ, start_response)

    def _refusal(self, environ) -> tuple[int, str] | None:
        declared = (environ.get("CONTENT_LENGTH") or "").strip()
        if declared:
            if not (declared.isascii() and declared.isdigit()):
                return 400, f"Content-Length {declared[:40]!r} is not a number of bytes"
            if int(declared) > self.limit:
                return 413, f"the body is declared as {_size(declared)} bytes"
            return None
        if "wsgi.input_terminated" not in environ:
            return None  # no body the app can read (Werkzeug reads none without a length)
        body = bytearray()
        stream = environ["wsgi.input"]
        while len(body) <= self.limit:
            piece = stream.read(min(PIECE, self.limit + 1 - len(body)))
            if not piece:
                break
            body += piece
        if len(body) > self.limit:
            return 413, "the body (of no declared length) passed the limit"
        environ["wsgi.input"] = io.BytesIO(bytes(body))
        environ["CONTENT_LENGTH"] = str(len(body))
        del environ["wsgi.input_terminated"]
        return None


def _size(declared: str) -> str:
    return declared if len(declared) <= 20 else f"about 10^{len(declared) - 1}"


def init_app(app: Flask) -> None:
    """Wrap the app's WSGI callable (outermost, so faults and all else see bounded bodies) and answer refusals."""

    @app.before_request
    def _refused_body():
        refusal = request.environ.get(REFUSED)
        if refusal:
            status, reason = refusal
            limit = app.config["MAX_CONTENT_LENGTH"]
            code = "too-long" if status == 413 else "structure"
            text = (f"{reason}; the server accepts {limit} bytes at most" if status == 413 else reason)
            raise FhirError(status, Issue(code, "FHIR-2", text))

    app.wsgi_app = BodyLimit(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
