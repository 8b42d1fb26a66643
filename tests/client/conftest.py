"""Misbehaving targets for the harness, and ``canvas-conformance run`` against them.

Targets are the real mock (its own fault injection, ``mock_server/faults.py``) or the mock
with one thing changed by a small wrapper defined here: requests that hang, answers that
echo the credentials back, a body that trickles in. All bind 127.0.0.1 on a free port and
are stopped by the test that started them (a hanging one is released first, so stopping
never waits on its held requests).

Runs are real ``canvas-conformance run`` processes (stdout, stderr and exit code as a user
or a CI job sees them), each with a handful of scenarios picked by ``--tags`` so it takes
a second or two.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, NamedTuple
from urllib.parse import quote, quote_plus

import pytest
import requests
from flask import Flask, request

from .hostile import Front


# The installed console script, as users run it.
COMMAND = str(Path(sys.executable).with_name("canvas-conformance"))
RUN_TIMEOUT_S = 120  # a run that has not ended by then has not "ended in bounded time"
PLANTED_SECRET = "planted-client-secret-5c1e9a7d"
HANG_S = 60.0  # a held request is released by the test's end at the latest; this is a safety net


def stored_total(served) -> int:
    """How many messages the mock holds (its control surface is never faulted by wildcards)."""
    token = requests.post(f"{served.base_url}/auth/token/", timeout=10, data={
        "grant_type": "client_credentials", "client_id": served.client_id,
        "client_secret": served.client_secret}).json()["access_token"]
    answer = requests.get(f"{served.base_url}/_mock/communications", timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
    return answer.json()["total"]


class Hang:
    """WSGI middleware: a request whose path starts with ``prefix`` gets no answer until released."""

    def __init__(self, wsgi_app, prefix: str) -> None:
        self.wsgi_app = wsgi_app
        self.prefix = prefix
        self.released = threading.Event()
        self.held = 0

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") or "").startswith(self.prefix):
            self.held += 1
            self.released.wait(HANG_S)
        return self.wsgi_app(environ, start_response)


class Echo:
    """Makes the mock echo what it was sent: the Authorization header and the client secret come back
    in headers, in the token answer's body and as the text of every OperationOutcome issue.

    ``issued`` collects every access token the target handed out, so a test knows every secret that
    must not be found anywhere.
    """

    def __init__(self, app: Flask) -> None:
        self.issued: list[str] = []
        app.after_request(self.echo)

    def echo(self, response):
        authorization = request.headers.get("Authorization", "")
        secret = request.form.get("client_secret", "") if request.path.startswith("/auth/token") else ""
        if authorization:
            response.headers["X-Echo-Authorization"] = authorization
        if secret:
            response.headers["X-Echo-Secret"] = secret
        body = response.get_json(silent=True)
        if isinstance(body, dict):
            if isinstance(body.get("access_token"), str):
                self.issued.append(body["access_token"])
                body["echo"] = f"granted to client_secret={secret}"
            if body.get("resourceType") == "OperationOutcome":
                for issue in body.get("issue") or []:
                    issue["diagnostics"] = f"echo: Authorization: {authorization} client_secret={secret}"
            response.set_data(json.dumps(body))
        return response


@pytest.fixture
def serve(serve):
    """tests/conftest.py's ``serve`` with the planted client secret; hung requests are released at
    the test's end before the servers stop (stopping waits for busy workers)."""
    apps: list[Flask] = []

    def start(wrap: Callable[[Flask], object] | None = None, **config):
        served = serve(wrap, **{"CLIENT_SECRET": PLANTED_SECRET, **config})
        apps.append(served.app)
        return served

    yield start
    for app in apps:
        hang = app.extensions.get("test_hang")
        if hang is not None:
            hang.released.set()


def hang_on(prefix: str) -> Callable[[Flask], Hang]:
    """A ``wrap`` for ``serve``: requests under ``prefix`` hang until the test ends."""
    def wrap(app: Flask) -> Hang:
        hang = Hang(app.wsgi_app, prefix)
        app.wsgi_app = hang
        app.extensions["test_hang"] = hang
        return hang
    return wrap


class RunOutcome(NamedTuple):
    code: int
    out: str
    err: str
    report: Path
    elapsed_s: float

    @property
    def err_lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.strip()]

    def results(self) -> dict:
        return json.loads((self.report / "results.json").read_text(encoding="utf-8"))

    def rows(self) -> list[dict]:
        return self.results()["scenarios"]

    def conformance(self) -> dict:
        return json.loads((self.report / "conformance.json").read_text(encoding="utf-8"))

    def rule_status(self, rule_id: str) -> str:
        return next(r["status"] for r in self.conformance()["rules"] if r["id"] == rule_id)


@pytest.fixture
def run_harness(tmp_path: Path) -> Callable[..., RunOutcome]:
    """``run_harness(served, *args)``: ``canvas-conformance run --base-url <served>`` in a subprocess, the
    client secret in the environment (as the README recommends), the report in a tmp folder.

    One worker unless ``args`` name ``--workers``: the fault rules these tests set count requests
    (``times: 1``), and only scenarios run one after another meet them in a known order."""
    counter = iter(range(1, 100))

    def run(served, *args: str, env: dict[str, str] | None = None) -> RunOutcome:
        report = tmp_path / f"report-{next(counter)}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
        clean.update({"CANVAS_CLIENT_SECRET": served.client_secret, **(env or {})})
        started = time.monotonic()
        workers = [] if "--workers" in args else ["--workers", "1"]
        done = subprocess.run([COMMAND, "run", "--base-url", served.base_url, "--client-id", served.client_id,
                               "--report-dir", str(report), *workers, *args],
                              capture_output=True, text=True, env=clean, timeout=RUN_TIMEOUT_S)
        return RunOutcome(done.returncode, done.stdout, done.stderr, report, time.monotonic() - started)

    return run


def spellings(secret: str) -> set[str]:
    """The ways a secret can be written out: plain, URL-encoded, form-encoded."""
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def assert_no_secret_anywhere(run: RunOutcome, secrets: set[str], *, report_files: set[str]) -> None:
    """No spelling of any of ``secrets`` in any file of the run's report folder (screenshots aside),
    nor on its stdout or stderr; the folder holds at least ``report_files``."""
    files = [p for p in run.report.rglob("*") if p.is_file() and "screenshots" not in p.parts]
    assert {p.name for p in files} >= set(report_files)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        found = sorted(s for s in secrets if s in text)
        assert not found, f"{path.name} holds {found}"
    for stream, text in (("stdout", run.out), ("stderr", run.err)):
        found = sorted(s for s in secrets if s in text)
        assert not found, f"{stream} holds {found}"


# -- a body that trickles in ------------------------------------------------------------------

class Trickle(NamedTuple):
    base_url: str
    body_bytes: int
    interval_s: float


@pytest.fixture
def trickle_server():
    """``trickle_server(body_bytes, interval_s)``: answers every request at once with its status line
    and headers, then the body one byte per ``interval_s``; every connection ends with the test."""
    stop = threading.Event()
    threads: list[threading.Thread] = []
    listeners: list[socket.socket] = []

    def serve_one(conn: socket.socket, body_bytes: int, interval_s: float) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n" % body_bytes)
                for _ in range(body_bytes):
                    if stop.wait(interval_s):
                        return
                    conn.sendall(b" ")
            except OSError:
                return

    def start(body_bytes: int = 100, interval_s: float = 0.1) -> Trickle:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.1)
        listeners.append(listener)

        def accept_loop() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except (TimeoutError, socket.timeout):
                    continue
                except OSError:
                    return
                worker = threading.Thread(target=serve_one, args=(conn, body_bytes, interval_s), daemon=True)
                threads.append(worker)
                worker.start()

        acceptor = threading.Thread(target=accept_loop, daemon=True)
        threads.append(acceptor)
        acceptor.start()
        host, port = listener.getsockname()
        return Trickle(f"http://{host}:{port}", body_bytes, interval_s)

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    for listener in listeners:
        listener.close()


# -- hostile fronts (hostile.py) ---------------------------------------------------------------
@pytest.fixture
def fronts():
    """``fronts(backend, pick)``: a hostile front on loopback (before ``backend``, or alone when it is
    None), answering what ``pick`` makes of each request; stopped at the test's end."""
    made: list[Front] = []

    def start(backend, pick=lambda seen: None) -> Front:
        front = Front(backend, pick)
        made.append(front)
        return front

    yield start
    for front in made:
        front.stop()
