"""``--workers``: the option, the child's command line, and the same report at 1 and at 8 workers."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from canvas_conformance import config, suite_process

ROOT = Path(__file__).resolve().parents[2]
# What differs between two runs of the same suite whatever the workers: markers, ids, ports, times.
VARIABLE = [(re.compile(r"cc-[0-9a-f]{12}-[0-9a-f]{10}"), "<marker>"), (re.compile(r"[0-9a-f]{32}"), "<id>"),
            (re.compile(r"127\.0\.0\.1:\d+"), "<host>"),
            (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "<instant>")]


def test_workers_option_reads_a_whole_number_from_1_to_32():
    assert config.for_suite({"CANVAS_WORKERS": "8"}).workers == 8
    assert config.for_suite({}).workers is None
    for bad in ("0", "33", "two", "-1", "1.5"):
        with pytest.raises(config.ConfigError, match="CANVAS_WORKERS"):
            config.for_suite({"CANVAS_WORKERS": bad})


def test_default_workers_follow_the_target():
    assert suite_process.workers_for(config.for_suite({})) == 1  # the embedded mock
    assert suite_process.workers_for(config.for_suite({"CANVAS_BASE_URL": "http://127.0.0.1:8000"})) == 1
    remote = config.for_suite({"CANVAS_BASE_URL": "https://fumage-example.canvasmedical.com"})
    assert suite_process.workers_for(remote) == suite_process.REMOTE_WORKERS
    assert suite_process.workers_for(config.for_suite({"CANVAS_WORKERS": "3"})) == 3


def test_cases_at_once_read_a_whole_number_and_follow_the_target():
    assert config.for_suite({"CANVAS_CASES_AT_ONCE": "6"}).cases_at_once == 6
    for bad in ("0", "33", "four"):
        with pytest.raises(config.ConfigError, match="CANVAS_CASES_AT_ONCE"):
            config.for_suite({"CANVAS_CASES_AT_ONCE": bad})
    assert suite_process.cases_at_once_for(config.for_suite({})) == 1  # the embedded mock: one thread anyway
    assert suite_process.cases_at_once_for(config.for_suite({"CANVAS_BASE_URL": "http://127.0.0.1:8000"})) == 1
    remote = config.for_suite({"CANVAS_BASE_URL": "https://fumage-example.canvasmedical.com"})
    assert suite_process.cases_at_once_for(remote) == suite_process.REMOTE_CASES_AT_ONCE > 1
    assert suite_process.cases_at_once_for(config.for_suite({"CANVAS_CASES_AT_ONCE": "2"})) == 2


def test_the_child_gets_xdist_only_with_more_than_one_worker():
    one = suite_process.command(Path("steps"), None, workers=1)
    assert "-n" not in one and "xdist.plugin" not in one
    eight = suite_process.command(Path("steps"), "api", workers=8)
    at = eight.index("-n")
    assert eight[at + 1] == "8" and eight[eight.index("--dist") + 1] == "loadgroup"
    assert eight[eight.index("-p", eight.index("-p", eight.index("-p") + 1) + 1):].count("xdist.plugin") == 1
    assert eight[-2:] == ["-m", "api"]


def _normal(value):
    if isinstance(value, str):
        for pattern, replacement in VARIABLE:
            value = pattern.sub(replacement, value)
    return value


def _report(report_dir: Path) -> dict:
    results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    rows = [(row["nodeid"], row["name"], row["feature_file"], tuple(row["rules"]), row["status"],
             _normal(row["message"]), tuple((s["text"], s["status"]) for s in row["steps"]),
             tuple(_normal(note) for note in row["notes"]), len(row["exchanges"]) > 0)
            for row in results["scenarios"]]
    rules = [(r["id"], r["status"], _normal(r["reason"]))
             for r in json.loads((report_dir / "conformance.json").read_text(encoding="utf-8"))["rules"]]
    return {"rows": rows, "rules": rules}


def test_the_report_is_the_same_at_1_and_at_8_workers(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
    runs = {}
    for workers in (1, 8):  # at 8, each worker also sends 4 explored cases ahead at once
        command = [sys.executable, "-m", "canvas_conformance", "run", "--tags", "api", "-q",
                   "--workers", str(workers), "--cases-at-once", "1" if workers == 1 else "4",
                   "--report-dir", str(tmp_path / str(workers))]
        runs[workers] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, text=True)
    for workers, run in runs.items():
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, (workers, err[-2000:])
    one, eight = _report(tmp_path / "1"), _report(tmp_path / "8")
    assert len(one["rows"]) > 80
    assert [row[0] for row in eight["rows"]] == [row[0] for row in one["rows"]]  # collection order, not finish order
    assert eight == one
    assert "bringing up nodes" in (tmp_path / "8" / "pytest.log").read_text(encoding="utf-8")  # xdist's
    assert _overlapping(tmp_path / "8") and not _overlapping(tmp_path / "1")


def _overlapping(report_dir: Path) -> bool:
    """Whether two scenarios were sending at the same time (by their exchanges' start and duration)."""
    spans = []
    for row in json.loads((report_dir / "results.json").read_text(encoding="utf-8"))["scenarios"]:
        times = [(datetime.fromisoformat(x["started"]).timestamp(), x["duration_ms"] / 1000)
                 for x in row["exchanges"] if x.get("started")]
        if times:
            spans.append((min(t for t, _ in times), max(t + d for t, d in times)))
    spans.sort()
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))


def test_a_scenario_whose_worker_died_is_an_error_row_not_a_missing_one():
    from _pytest.reports import TestReport

    from canvas_conformance import results_plugin

    crashed = TestReport("steps/test_conformance.py::test_x@target-wide", ("steps/test_conformance.py", None, ""),
                         {"SENT-2": 1, "api": 1}, "failed", "worker 'gw1' crashed while running 'test_x'", "???")
    row = results_plugin._lost_row(crashed)
    assert row["nodeid"] == "steps/test_conformance.py::test_x" and row["rules"] == ["SENT-2"]
    assert row["status"] == "error" and "gw1" in row["message"]
