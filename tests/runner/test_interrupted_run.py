"""SIGINT (Ctrl-C) and SIGTERM (a CI cancel) end a run within seconds, with a report of what ran.

A real ``canvas-conformance run`` process on a small suite whose second scenario waits a minute:
the signal arrives while it waits. The run must stop the suite, write every report file of what
had run, mark it interrupted (conformance.json, report.html, the terminal), point reports/latest
at it, and exit with the shell's code for the signal.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from canvas_conformance.report import conformance_json
from canvas_conformance.report.writer import REPORT_FILES

pytestmark = pytest.mark.slow

FEATURE = """\
@api @documented
Feature: A suite that is interrupted

  @SENT-2
  Scenario: a quick check
    Given a quick step

  @RCPT-1
  Scenario: a check that waits a minute
    Given a step that waits a minute

  @PAY-1
  Scenario: a check never reached
    Given a quick step
"""

STEPS = """\
import time
from pytest_bdd import given, scenarios

scenarios("../features")


@given("a quick step")
def quick():
    pass


@given("a step that waits a minute")
def slow():
    time.sleep(60)
"""


@pytest.fixture
def slow_suite(tmp_path) -> Path:
    suite = tmp_path / "suite"
    (suite / "features").mkdir(parents=True)
    (suite / "steps").mkdir()
    (suite / "features" / "slow.feature").write_text(FEATURE)
    (suite / "steps" / "test_slow.py").write_text(STEPS)
    return suite


def _interrupt(suite: Path, cwd: Path, sig: int, *, workers: int = 1):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
    run = subprocess.Popen([sys.executable, "-m", "canvas_conformance", "run", "--suite", str(suite),
                            "--workers", str(workers)], cwd=cwd,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finished = f"[{workers}/3]"  # the quick scenarios: one, or two on two workers while the other waits
    try:
        seen = []
        for line in run.stderr:  # progress is one plain line per scenario off a terminal
            seen.append(line)
            if line.startswith(finished):
                break
        assert seen and seen[-1].startswith(f"{finished} ok"), "".join(seen)
        time.sleep(0.5)  # the second scenario is in its minute's wait
        sent = time.monotonic()
        run.send_signal(sig)
        out, err = run.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    return run.returncode, out, "".join(seen) + err, took


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signalled_run_writes_the_report_of_what_ran(slow_suite, tmp_path, sig, code):
    rc, out, err, took = _interrupt(slow_suite, tmp_path, sig)
    name = signal.Signals(sig).name
    assert rc == code, out + err
    assert took < 10, took
    latest = tmp_path / "reports" / "latest"
    assert latest.is_symlink() and (latest / "results.json").is_file()
    assert set(REPORT_FILES) <= {p.name for p in latest.iterdir()}
    doc = json.loads((latest / "conformance.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(conformance_json.SCHEMA_FILE.read_text())).validate(doc)
    assert doc["outcome"] == "interrupted"
    assert doc["interrupted"]["signal"] == name and doc["interrupted"]["scenarios_not_run"] == 1
    assert doc["interrupted"]["rules_not_run"] == ["PAY-1"]
    rules = {r["id"]: r for r in doc["rules"]}
    assert rules["SENT-2"]["status"] == "passed"
    assert rules["RCPT-1"]["status"] == "error"
    assert rules["RCPT-1"]["reason"] == "the run was interrupted before this scenario finished"
    assert rules["PAY-1"]["status"] == "skipped" and "interrupted" in rules["PAY-1"]["reason"]
    assert rules["SNDR-1"]["reason"] == "not selected"  # no scenario of the suite checks it
    html = (latest / "report.html").read_text(encoding="utf-8")
    assert f"Run interrupted by {name}: 1 selected scenario(s) not run" in html
    assert f"{name}: stopping the suite" in err
    assert f"INTERRUPTED by {name}: 1 selected scenario(s) not run" in out
    assert f"interrupted by {name}: 2 scenario(s) ran, 1 not run" in err


def test_an_interrupted_run_with_workers_stops_them_all_and_reports_what_ran(slow_suite, tmp_path):
    """On two workers one waits in RCPT-1's scenario while the other runs the two quick ones: the
    signal reaches the suite's process, which passes it on to its workers (canvas_conformance/workers.py)."""
    rc, out, err, took = _interrupt(slow_suite, tmp_path, signal.SIGINT, workers=2)
    assert rc == 130, out + err
    assert took < 10, took
    doc = json.loads((tmp_path / "reports" / "latest" / "conformance.json").read_text(encoding="utf-8"))
    assert doc["outcome"] == "interrupted" and doc["interrupted"]["scenarios_not_run"] == 0
    rules = {r["id"]: r for r in doc["rules"]}
    assert rules["SENT-2"]["status"] == rules["PAY-1"]["status"] == "passed"
    assert rules["RCPT-1"]["status"] == "error"
    assert rules["RCPT-1"]["reason"] == "the run was interrupted before this scenario finished"
    assert "interrupted by SIGINT: 3 scenario(s) ran, 0 not run" in err
