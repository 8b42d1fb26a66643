"""Where a create's time goes: the mock's WSGI app called in-process, timed and profiled with pyinstrument.

The app is called directly with prepared WSGI environs (no sockets), so the figure is the app's
own cost per create; the HTTP server's share is what the ceiling measures. pyinstrument's
samples are grouped by the part of the mock they fall in (the first matching frame on the way
down the stack decides), which gives a table rather than a tree.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from common import CLIENT, fixture_message

CREATES = 2_000
# (test on a frame, category): the first that matches on the way down the stack sets the category.
RULES = [
    (lambda f, p: p.endswith("mock_server/db.py"), "SQLite through Store (queries, commit)"),
    (lambda f, p: f in ("_structure_issues", "_fast_valid") or "/jsonschema/" in p or "fastjsonschema" in p
     or f.startswith("validate_"), "schema validation (fastjsonschema; jsonschema only for bad bodies)"),
    (lambda f, p: f in ("check_bearer", "bearer_token_hash"), "bearer token check"),
    (lambda f, p: f == "parse_body", "body parsing (JSON decode, depth check)"),
    # Flask's view sends Answer.response() (Werkzeug's Response); the fast path sends Answer.wsgi().
    (lambda f, p: f == "fhir_response" or (f in ("response", "wsgi") and p.endswith("mock_server/outcome.py")),
     "building the answer"),
    (lambda f, p: f in ("ingest", "_party", "_first_text", "_instant"), "business rules (references, text, dates)"),
    (lambda f, p: "/mock_server/" in p, "other mock code (ids, clock, resource, hooks, fast path dispatch)"),
    (lambda f, p: "/flask/" in p or "/werkzeug/" in p, "Flask/Werkzeug request machinery"),
]
OTHER = RULES[-2][1]


def _bearer(app) -> str:
    client = app.test_client()
    return client.post("/auth/token/", data={"grant_type": "client_credentials", **CLIENT}).json["access_token"]


def _environs(app, count: int, *, bearer: str | None = None) -> list[dict]:
    """``count`` WSGI environs of one create each (with a fresh token unless ``bearer`` is given)."""
    from werkzeug.test import EnvironBuilder

    bearer = bearer or _bearer(app)
    body = json.dumps(fixture_message()).encode()
    return [EnvironBuilder(path="/Communication", method="POST", data=body, content_type="application/fhir+json",
                           headers={"Authorization": f"Bearer {bearer}"}).get_environ() for _ in range(count)]


def _get_environs(path: str, count: int, *, bearer: str) -> list[dict]:
    """``count`` WSGI environs of ``GET path`` (a query string after ``?`` included)."""
    from werkzeug.test import EnvironBuilder

    return [EnvironBuilder(path=path, method="GET", headers={"Authorization": f"Bearer {bearer}"}).get_environ()
            for _ in range(count)]


def _call_all(app, environs: list[dict], *, expect: str = "201") -> None:
    statuses = []
    for environ in environs:
        answer = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(answer)
        if hasattr(answer, "close"):
            answer.close()
    assert all(s.startswith(expect) for s in statuses), set(statuses)


def _categorise(frame, category: str, totals: dict) -> None:
    path, name = frame.file_path or "", frame.function or ""
    generic = (OTHER, RULES[-1][1])
    for test, label in RULES:
        if test(name, path):
            # A specific part claims its whole subtree; the two generic ones (other mock code,
            # Flask) only label what no specific part above has claimed.
            if label not in generic or category in generic:
                category = label
            break
    totals[category] = totals.get(category, 0.0) + max(frame.total_self_time, 0.0)
    for child in frame.children:
        _categorise(child, category, totals)


def run(*, creates: int = CREATES) -> dict:
    from pyinstrument import Profiler

    from mock_server import create_app

    with tempfile.TemporaryDirectory(prefix="canvas-profile-") as folder:
        app = create_app({"DATABASE": str(Path(folder) / "profile.sqlite3")})
        _call_all(app, _environs(app, 200))  # warm up: caches, SQLite pages
        environs = _environs(app, creates)
        started = time.perf_counter()
        _call_all(app, environs)
        per_create_us = (time.perf_counter() - started) / creates * 1e6

        environs = _environs(app, creates)
        profiler = Profiler(interval=0.0001)
        profiler.start()
        _call_all(app, environs)
        profiler.stop()
        root = profiler.last_session.root_frame()
        totals: dict[str, float] = {}
        _categorise(root, OTHER, totals)
        text = profiler.output_text(unicode=False, color=False)
        app.extensions["mock_store"].close()
    whole = sum(totals.values()) or 1.0
    shares = sorted(((label, seconds / whole) for label, seconds in totals.items()), key=lambda x: -x[1])
    return {"creates": creates, "per_create_us": per_create_us, "shares": shares, "tree": text}


if __name__ == "__main__":
    result = run(creates=1000)
    print(f"{result['per_create_us']:.0f} µs per create in-process")
    for label, share in result["shares"]:
        print(f"{share:6.1%}  {label}")
