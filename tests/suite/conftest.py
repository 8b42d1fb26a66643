"""Running the conformance suite from the harness's own tests, against the mock or a twisted mock.

The suite runs in this process (``pytest.main`` on ../steps with the results plugin),
configured only by ``CANVAS_*`` variables like any run, and each run is judged by the
results.json it writes. Targets are served on free loopback ports and stopped by the
test that started them (idle servers left running would slow every later test).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Callable, NamedTuple

import pytest

from mock_server import create_app
from mock_server.serve import RunningServer, start_in_thread

ROOT = Path(__file__).resolve().parents[2]
STEPS = ROOT / "steps"


class SuiteRun(NamedTuple):
    """One run of the suite: pytest's exit code and the results file it wrote."""

    exit_code: int
    results: dict

    @property
    def rows(self) -> list[dict]:
        return self.results["scenarios"]

    def statuses(self) -> dict[str, str]:
        return {row["name"]: row["status"] for row in self.rows}

    def by_status(self, status: str) -> list[dict]:
        return [row for row in self.rows if row["status"] == status]


class Served(NamedTuple):
    """A target app on a loopback port, with what a run needs to reach it."""

    base_url: str
    app: object
    client_id: str
    client_secret: str


@pytest.fixture
def run_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., SuiteRun]:
    """Run ../steps in this process with the given ``CANVAS_*`` settings and marker expression."""
    counter = iter(range(1, 1000))

    def run(env: dict[str, str] | None = None, marks: str | None = None) -> SuiteRun:
        results_file = tmp_path / f"results-{next(counter)}.json"
        for name in list(os.environ):
            if name.startswith("CANVAS_"):
                monkeypatch.delenv(name)
        for name, value in {**(env or {}), "CANVAS_RESULTS_FILE": str(results_file)}.items():
            monkeypatch.setenv(name, value)
        args = [str(STEPS), "-p", "canvas_conformance.results_plugin", "-p", "no:cacheprovider", "-q",
                "--no-header", "-rN"]
        if marks:
            args += ["-m", marks]
        before = set(sys.modules)
        try:
            code = pytest.main(args)
        finally:  # the suite's own modules are imported afresh by every run
            for name in set(sys.modules) - before:
                if name == "steps" or name.startswith("steps."):
                    del sys.modules[name]
        results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
        return SuiteRun(int(code), results)

    return run


@pytest.fixture
def serve() -> Callable[..., Served]:
    """Serve an app (a fresh mock, optionally wrapped) on a loopback port until the test ends."""
    running: list[RunningServer] = []

    def start(wrap: Callable | None = None, **config) -> Served:
        app = create_app({"DATABASE": ":memory:", **config})
        if wrap is not None:
            wrap(app)
        server = start_in_thread(app)
        running.append(server)
        return Served(server.base_url, app, app.config["CLIENT_ID"], app.config["CLIENT_SECRET"])

    yield start
    for server in running:
        server.stop()


def credentials(served: Served, **more: str) -> dict[str, str]:
    """The ``CANVAS_*`` settings that point a run at a served target with its client credentials."""
    return {"CANVAS_BASE_URL": served.base_url, "CANVAS_CLIENT_ID": served.client_id,
            "CANVAS_CLIENT_SECRET": served.client_secret, "CANVAS_TIMEOUT": "5", **more}
