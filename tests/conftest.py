"""Shared fixtures for the project's own tests: a fresh mock app per test, its token, test data."""
from __future__ import annotations

import copy
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Callable, NamedTuple

import pytest

from mock_server import create_app
from mock_server.serve import RunningServer, start_in_thread

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
STEPS = ROOT / "steps"


@pytest.fixture(scope="session")
def fixture_data():
    """The files under fixtures/, the one source of test data."""
    return {
        "people": json.loads((FIXTURES / "people.json").read_text()),
        "communications": json.loads((FIXTURES / "communications.json").read_text()),
    }


@pytest.fixture
def message(fixture_data):
    """A fresh copy of a named message body from fixtures/communications.json."""
    def make(name: str = "practitioner_to_patient") -> dict:
        return copy.deepcopy(fixture_data["communications"][name])
    return make


@pytest.fixture
def app():
    return create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test"})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token(client, app):
    answer = client.post("/auth/token/", data={
        "grant_type": "client_credentials",
        "client_id": app.config["CLIENT_ID"],
        "client_secret": app.config["CLIENT_SECRET"],
    })
    assert answer.status_code == 200, answer.json
    return answer.json["access_token"]


@pytest.fixture
def auth(token):
    """Headers that authorise a request to the mock."""
    return {"Authorization": f"Bearer {token}"}


# -- the runner's command line without a target -------------------------------------------
@pytest.fixture
def clean_canvas_env(monkeypatch):
    """No CANVAS_* variable of the outer shell reaches the test."""
    for var in [v for v in os.environ if v.startswith("CANVAS_")]:
        monkeypatch.delenv(var)


@pytest.fixture
def no_target(monkeypatch):
    """Any attempt to start the embedded mock or the suite's process fails the test loudly."""
    from canvas_conformance import embedded, suite_process

    def refuse(*args, **kwargs):
        raise AssertionError("nothing may be started here")
    monkeypatch.setattr(embedded, "start", refuse)
    monkeypatch.setattr(suite_process.subprocess, "Popen", refuse)


# -- running the conformance suite from the harness's own tests ----------------------------
# The suite runs in this process (``pytest.main`` on ../steps with the results plugin),
# configured only by ``CANVAS_*`` variables like any run, and each run is judged by the
# results.json it writes. Targets are served on free loopback ports and stopped by the test
# that started them (idle servers left running would slow every later test).


class Served(NamedTuple):
    """A target app on a loopback port, with what a run needs to reach it."""

    base_url: str
    app: object
    client_id: str
    client_secret: str

    def env(self, **more: str) -> dict[str, str]:
        """The ``CANVAS_*`` settings that point a run here with the client credentials."""
        return {"CANVAS_BASE_URL": self.base_url, "CANVAS_CLIENT_ID": self.client_id,
                "CANVAS_CLIENT_SECRET": self.client_secret, "CANVAS_TIMEOUT": "10", **more}


class SuiteRun(NamedTuple):
    """One run of the suite: pytest's exit code, the results file it wrote, and its folder."""

    exit_code: int
    results: dict
    report_dir: Path  # where results.json and screenshots/ are

    @property
    def rows(self) -> list[dict]:
        return self.results["scenarios"]

    def statuses(self) -> dict[str, str]:
        return {row["name"]: row["status"] for row in self.rows}

    def by_status(self, status: str) -> list[dict]:
        return [row for row in self.rows if row["status"] == status]

    def row(self, rule: str) -> dict:
        """The one scenario of ``rule`` in this run."""
        found = [row for row in self.rows if rule in row["rules"]]
        assert len(found) == 1, (rule, [r["name"] for r in self.rows])
        return found[0]


class LentBrowser:
    """A pytest plugin object that lends a running browser to the suite's ``chromium`` fixture.

    Why: a run of the suite normally starts its own Chromium (about half a second), and a test
    module that runs the suite many times starts one and lends it to every run instead.
    """

    def __init__(self, running) -> None:
        self.canvas_conformance_browser = running


@pytest.fixture
def serve() -> Callable[..., Served]:
    """Serve a fresh mock (optionally wrapped by ``wrap(app)``) on a loopback port until the test ends."""
    running: list[RunningServer] = []

    def start(wrap: Callable | None = None, *, profile: str | None = None, **config) -> Served:
        """``profile``: the edition the mock behaves as (its ``PROFILE`` setting; default canvas-2022)."""
        if profile is not None:
            config["PROFILE"] = profile
        app = create_app({"DATABASE": ":memory:", "CLIENT_SECRET": secrets.token_urlsafe(24), **config})
        if wrap is not None:
            wrap(app)
        server = start_in_thread(app)
        running.append(server)
        return Served(server.base_url, app, app.config["CLIENT_ID"], app.config["CLIENT_SECRET"])

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def run_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., SuiteRun]:
    """Run ../steps in this process with the given ``CANVAS_*`` settings, marker expression and browser."""
    counter = iter(range(1, 1000))

    def run(env: dict[str, str] | None = None, marks: str | None = None, *, lend=None,
            profile: str | None = None) -> SuiteRun:
        """``profile``: the profile the run judges by (``CANVAS_PROFILE``; default the catalogue's)."""
        if profile is not None:
            env = {**(env or {}), "CANVAS_PROFILE": profile}
        report_dir = tmp_path / f"report-{next(counter)}"
        report_dir.mkdir()
        for name in list(os.environ):
            if name.startswith("CANVAS_"):
                monkeypatch.delenv(name)
        for name, value in {**(env or {}), "CANVAS_RESULTS_FILE": str(report_dir / "results.json"),
                            "CANVAS_SCREENSHOT_DIR": str(report_dir / "screenshots")}.items():
            monkeypatch.setenv(name, value)
        args = [str(STEPS), "-p", "canvas_conformance.results_plugin", "-p", "no:cacheprovider", "-q",
                "--no-header", "-rN"]
        if marks:
            args += ["-m", marks]
        before = set(sys.modules)
        try:
            code = pytest.main(args, plugins=[LentBrowser(lend)] if lend is not None else [])
        finally:  # the suite's own modules are imported afresh by every run
            for name in set(sys.modules) - before:
                if name == "steps" or name.startswith("steps."):
                    del sys.modules[name]
        results_file = report_dir / "results.json"
        results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
        return SuiteRun(int(code), results, report_dir)

    return run
