"""What the mock's tests (tests/mock, tests/robust, tests/ui) share: the token grant and served mocks.

``grant_form`` is the one client-credentials grant; ``token_from`` asks a Flask test client for a
token, ``fetch_token`` asks a server over HTTP. ``serve_process`` starts real ``canvas-conformance
serve`` processes and ``threaded_mock`` the mock under waitress in a thread; both bind 127.0.0.1 on
a port the OS picks and are stopped by the test that started them (a process is killed if it does
not stop). The conftest files of those folders import the fixtures from here.
"""
from __future__ import annotations

import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping, NamedTuple

import pytest
import requests

from mock_server import DEFAULTS, create_app
from mock_server.serve import start_in_thread

# The installed console script, as users run it (``python -m canvas_conformance.cli`` would load
# cli.py twice, as __main__ and as a module, so its UsageError would not be caught).
COMMAND = str(Path(sys.executable).with_name("canvas-conformance"))
START_TIMEOUT = 30  # seconds for a serve process to print its address
URL_LINE = re.compile(r"Canvas mock server at (http://127\.0\.0\.1:\d+)")


def grant_form(config: Mapping = DEFAULTS) -> dict[str, str]:
    """The client-credentials grant for a mock configured with ``config`` (its CLIENT_ID and CLIENT_SECRET)."""
    return {"grant_type": "client_credentials", "client_id": config["CLIENT_ID"],
            "client_secret": config["CLIENT_SECRET"]}


def token_from(client, config: Mapping) -> str:
    """A bearer token from a Flask test client of the app configured with ``config``."""
    answer = client.post("/auth/token/", data=grant_form(config))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json["access_token"]


def fetch_token(base_url: str, *, session: requests.Session | None = None, config: Mapping = DEFAULTS) -> str:
    """A bearer token from the server at ``base_url``, over HTTP."""
    answer = (session or requests).post(f"{base_url}/auth/token/", timeout=10, data=grant_form(config))
    answer.raise_for_status()
    return answer.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class ServeProcess(NamedTuple):
    """A ``serve`` process; its stderr goes to a file the test can read afterwards."""

    base_url: str
    process: subprocess.Popen
    stderr_file: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()

    def stderr(self) -> str:
        return self.stderr_file.read_text(errors="replace")


def start_serve(*args: str, db: str, stderr_file: Path) -> ServeProcess:
    """Start ``canvas-conformance serve --port 0 --db DB ARGS`` and wait for its address."""
    command = [COMMAND, "serve", "--host", "127.0.0.1",
               "--port", "0", "--db", db, *args]
    with stderr_file.open("ab") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True)
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = process.stdout.readline()
            if not line:
                break
            match = URL_LINE.search(line)
            if match:
                return ServeProcess(match.group(1), process, stderr_file)
    finally:
        selector.close()
    process.kill()
    process.wait(timeout=10)
    raise RuntimeError(f"serve did not start: {stderr_file.read_text(errors='replace')[-2000:]}")


@pytest.fixture
def serve_process(tmp_path):
    """``serve_process(*args, db=...)`` starts a serve process; every one is stopped at the end of the test."""
    started: list[ServeProcess] = []

    def start(*args: str, db: str | None = None) -> ServeProcess:
        server = start_serve(*args, db=db or str(tmp_path / "mock.sqlite3"),
                             stderr_file=tmp_path / f"serve-{len(started)}.stderr")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def threaded_mock():
    """``threaded_mock(config)``: (base URL, bearer headers) of the mock under waitress in a thread."""
    running = []

    def start(config: dict | None = None):
        app = create_app({"DATABASE": ":memory:", **(config or {})})
        server = start_in_thread(app)
        running.append(server)
        return server.base_url, bearer(fetch_token(server.base_url))

    yield start
    for server in running:
        server.stop()


# What a FHIR endpoint serving Communication says of itself at GET /metadata (the least the
# pre-flight accepts), for tests that stand in for a target with ``responses``.
CAPABILITIES = {"resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
                "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
                "rest": [{"mode": "server", "resource": [{"type": "Communication"}]}]}
