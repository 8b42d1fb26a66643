"""Other writers on the same target do not change a verdict.

One mock is served on a loopback port. The suite runs against it alone first; then once while
another client keeps creating messages for the same patients and practitioners (about 20 a
second), then twice at once beside that writer. Each run's verdicts, scenario by scenario, are
those of the run alone: "nothing was stored" and the search totals are judged from the messages
carrying the run's own markers (steps/bodies.py), never from global counts.

The two runs at once leave out the fixed scenarios that move or hold the mock's clock (the
``target_wide`` ones, steps/conftest.py): the mock has one clock for every client, so two runs
moving it at once disturb each other's creates whatever the harness judges. The explored SENT-2
scenario stays in: it holds the clock for each case and reads it again once the create is
answered, and a case whose clock another run moved in between is sent again
(steps/explore_steps.py), so its verdict is that of a run alone. A run beside a writer keeps them all.

Four whole API runs (about two minutes here), so it runs with the corpus (``make corpus``,
``CANVAS_SHARED_TARGET_TEST=1``), not in ``make test``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
WRITER_RATE = 20  # messages a second
WRITER_MOST = 3000  # messages, whatever happens
WRITER_LONGEST_S = 300.0


class Writer(threading.Thread):
    """Another client of the same target: creates messages between the mock's people until stopped."""

    def __init__(self, served, message) -> None:
        super().__init__(daemon=True)
        self.served, self.message = served, message
        self.stop = threading.Event()
        self.created = 0

    def run(self) -> None:
        session = requests.Session()
        base = self.served.base_url
        grant = session.post(f"{base}/auth/token/", data={
            "grant_type": "client_credentials", "client_id": self.served.client_id,
            "client_secret": self.served.client_secret}, timeout=10)
        session.headers["Authorization"] = f"Bearer {grant.json()['access_token']}"
        session.headers["Content-Type"] = "application/fhir+json"
        patients = [e["resource"]["id"] for e in session.get(f"{base}/Patient", timeout=10).json()["entry"]]
        doctors = [e["resource"]["id"] for e in session.get(f"{base}/Practitioner", timeout=10).json()["entry"]]
        deadline = time.monotonic() + WRITER_LONGEST_S
        n = 0
        while not self.stop.is_set() and n < WRITER_MOST and time.monotonic() < deadline:
            patient, doctor = patients[n % 2], doctors[(n // 2) % 2]
            if n % 2:
                body = self.message("patient_to_practitioner")
                body["sender"], body["recipient"] = {"reference": f"Patient/{patient}"}, \
                    [{"reference": f"Practitioner/{doctor}"}]
            else:
                body = self.message("practitioner_to_patient")
                body["sender"], body["recipient"] = {"reference": f"Practitioner/{doctor}"}, \
                    [{"reference": f"Patient/{patient}"}]
            try:
                if session.post(f"{base}/Communication", json=body, timeout=10).status_code == 201:
                    self.created += 1
            except requests.RequestException:
                pass
            n += 1
            self.stop.wait(1 / WRITER_RATE)


def start_run(served, results_file: Path, marks: str) -> subprocess.Popen:
    """The suite as a plain ``pytest steps`` in a process of its own, against ``served``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
    env.update(served.env(CANVAS_RESULTS_FILE=str(results_file)), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    command = [sys.executable, "-m", "pytest", "steps", "-p", "pytest_bdd.plugin", "-p",
               "canvas_conformance.results_plugin", "-p", "no:cacheprovider", "-q", "-m", marks]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def verdicts(results_file: Path) -> dict[str, tuple[str, str | None]]:
    rows = json.loads(results_file.read_text(encoding="utf-8"))["scenarios"]
    return {row["nodeid"]: (row["status"], row["message"]) for row in rows}


def finish(*runs: subprocess.Popen) -> None:
    for run in runs:
        assert run.wait(timeout=600) in (0, 1)


def differences(alone: dict, other: dict) -> list:
    return [(nodeid, alone[nodeid], other.get(nodeid)) for nodeid in alone
            if other.get(nodeid, (None,))[0] != alone[nodeid][0]]


@pytest.mark.skipif(not os.environ.get("CANVAS_SHARED_TARGET_TEST"), reason="four whole API runs (about two minutes "
                    "here): make corpus, or CANVAS_SHARED_TARGET_TEST=1")
def test_other_writers_leave_the_verdicts_as_a_run_alone(serve, message, tmp_path):
    served = serve()
    alone_file = tmp_path / "alone.json"
    finish(start_run(served, alone_file, "api"))
    alone = verdicts(alone_file)
    assert len(alone) > 80 and all(status == "passed" for status, _ in alone.values()), alone

    writer = Writer(served, message)
    writer.start()
    try:
        beside_file = tmp_path / "beside-a-writer.json"
        finish(start_run(served, beside_file, "api"))
        first, second = tmp_path / "at-once-1.json", tmp_path / "at-once-2.json"
        marks = "api and not target_wide"
        finish(start_run(served, first, marks), start_run(served, second, marks))
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.created > 20, "the other client wrote too little to disturb anything"

    beside = verdicts(beside_file)
    assert beside.keys() == alone.keys()
    assert differences(alone, beside) == []
    for run in (verdicts(first), verdicts(second)):
        assert len(run) > 70 and set(run) <= set(alone)
        assert differences({k: alone[k] for k in run}, run) == []
