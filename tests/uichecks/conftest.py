"""Running the UI scenarios of the suite in this process, against the mock or a broken copy of its pages.

Why a browser per test module lent to the runs: a run of the suite normally starts its
own Chromium (about half a second) and a test module here runs the suite many times;
so each module starts one and lends it to every run through a plugin object (see
``chromium`` in steps/conftest.py), and stops it at the end. Each run is configured
only by ``CANVAS_*`` variables, like any run, and judged by the results.json it
writes; screenshots go to the test's tmp_path. Targets are served on free loopback
ports and stopped by the test that started them.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Callable, NamedTuple

import pytest

from canvas_conformance import browser
from mock_server import create_app
from mock_server.serve import RunningServer, start_in_thread

ROOT = Path(__file__).resolve().parents[2]
STEPS = ROOT / "steps"


class LentBrowser:
    """A pytest plugin object that lends a running browser to the suite's ``chromium`` fixture."""

    def __init__(self, running: browser.Browser) -> None:
        self.canvas_conformance_browser = running


class SuiteRun(NamedTuple):
    exit_code: int
    results: dict
    report_dir: Path  # where results.json and screenshots/ are

    @property
    def rows(self) -> list[dict]:
        return self.results["scenarios"]

    def row(self, rule: str) -> dict:
        found = [row for row in self.rows if rule in row["rules"]]
        assert len(found) == 1, (rule, [r["name"] for r in self.rows])
        return found[0]


class Served(NamedTuple):
    base_url: str
    app: object
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def lent_browser():
    """One Chromium for the whole test module (BrowserUnavailable fails its tests loudly)."""
    running = browser.start()
    yield running
    running.stop()


@pytest.fixture
def run_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., SuiteRun]:
    """Run ../steps in this process with the given ``CANVAS_*`` settings, marker expression and browser."""
    counter = iter(range(1, 1000))

    def run(env: dict[str, str], marks: str = "ui", *, lend: browser.Browser | None = None) -> SuiteRun:
        report_dir = tmp_path / f"report-{next(counter)}"
        report_dir.mkdir()
        for name in list(os.environ):
            if name.startswith("CANVAS_"):
                monkeypatch.delenv(name)
        for name, value in {**env, "CANVAS_RESULTS_FILE": str(report_dir / "results.json"),
                            "CANVAS_SCREENSHOT_DIR": str(report_dir / "screenshots")}.items():
            monkeypatch.setenv(name, value)
        args = [str(STEPS), "-p", "canvas_conformance.results_plugin", "-p", "no:cacheprovider", "-q",
                "--no-header", "-rN", "-m", marks]
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


@pytest.fixture
def serve() -> Callable[..., Served]:
    """Serve a fresh mock (optionally wrapped in a breakage) on a loopback port until the test ends."""
    running: list[RunningServer] = []

    def start(wrap: Callable | None = None) -> Served:
        app = create_app({"DATABASE": ":memory:", "CLIENT_SECRET": secrets.token_urlsafe(24)})
        if wrap is not None:
            wrap(app)
        server = start_in_thread(app)
        running.append(server)
        return Served(server.base_url, app, app.config["CLIENT_ID"], app.config["CLIENT_SECRET"])

    yield start
    for server in running:
        server.stop()


def credentials(served: Served, **more: str) -> dict[str, str]:
    return {"CANVAS_BASE_URL": served.base_url, "CANVAS_CLIENT_ID": served.client_id,
            "CANVAS_CLIENT_SECRET": served.client_secret, "CANVAS_TIMEOUT": "10", **more}
