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

from canvas_conformance import config, suite_process, workers

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


def test_default_workers_follow_the_target(monkeypatch):
    for cores, expected in ((1, 1), (2, 2), (8, suite_process.LOOPBACK_WORKERS)):
        monkeypatch.setattr(suite_process.cores, "available", lambda: cores)
        assert suite_process.workers_for(config.for_suite({})) == expected  # the embedded mock
        assert suite_process.workers_for(config.for_suite({"CANVAS_BASE_URL": "http://127.0.0.1:8000"})) == expected
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


def test_the_child_forks_workers_only_with_more_than_one():
    one = suite_process.command(Path("steps"), None, workers=1)
    assert "--canvas-workers" not in one and "xdist.plugin" not in one
    eight = suite_process.command(Path("steps"), "api", workers=8)
    assert eight[eight.index("--canvas-workers") + 1] == "8" and "xdist.plugin" not in eight
    plugins = [eight[n + 1] for n, arg in enumerate(eight) if arg == "-p"]
    # the workers plugin ahead of the two that import it (pytest warns of a plugin imported before -p names it)
    assert plugins.index(suite_process.WORKERS_PLUGIN) < plugins.index(suite_process.RESULTS_PLUGIN)
    assert plugins.index(suite_process.WORKERS_PLUGIN) < plugins.index(suite_process.PROGRESS_PLUGIN)
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
    assert "warning" not in (tmp_path / "8" / "pytest.log").read_text(encoding="utf-8")
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

    crashed = TestReport("steps/test_conformance.py::test_x", ("steps/test_conformance.py", None, ""),
                         {"SENT-2": 1, "api": 1}, "failed", "worker 1 stopped (process 4242)", workers.LOST)
    row = results_plugin._lost_row(crashed)
    assert row["nodeid"] == "steps/test_conformance.py::test_x" and row["rules"] == ["SENT-2"]
    assert row["status"] == "error" and "worker 1 stopped" in row["message"]


# -- the workers plugin on its own (canvas_conformance/workers.py), on a small pytest suite -----------
WORKED = '''
import os
import pytest

LOG = os.environ["WORKED_LOG"]


def note(text):
    with open(LOG, "a") as handle:
        handle.write(f"{text} {os.getpid()}\\n")


@pytest.fixture(scope="session")
def per_worker():
    note("setup")
    yield
    note("teardown")


@pytest.mark.parametrize("n", range(12))
def test_each(per_worker, n):
    note(f"ran {n}")
    if n == int(os.environ.get("WORKED_DIES", "-1")):
        os._exit(3)
'''


def _forked_run(tmp_path: Path, *, workers: int = 3, dies: int | None = None) -> tuple[subprocess.CompletedProcess, list]:
    (tmp_path / "test_worked.py").write_text(WORKED, encoding="utf-8")
    log = tmp_path / "worked.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", WORKED_LOG=str(log), PYTHONPATH=str(ROOT))
    if dies is not None:
        env["WORKED_DIES"] = str(dies)
    done = subprocess.run([sys.executable, "-m", "pytest", "test_worked.py", "-p", suite_process.WORKERS_PLUGIN,
                           "--canvas-workers", str(workers), "-p", "no:cacheprovider", "-q", "-rf", "--rootdir", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return done, [line.split() for line in log.read_text(encoding="utf-8").splitlines()]


def test_forked_workers_run_every_test_once_and_keep_their_session_fixtures_to_the_end(tmp_path):
    done, lines = _forked_run(tmp_path, workers=3)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "12 passed" in done.stdout
    ran = [line for line in lines if line[0] == "ran"]
    assert sorted(int(line[1]) for line in ran) == list(range(12))
    pids = {line[-1] for line in ran}
    assert 1 < len(pids) <= 3
    setups = [line[1] for line in lines if line[0] == "setup"]
    teardowns = [line[1] for line in lines if line[0] == "teardown"]
    # one session per worker: set up before its first test, torn down after its last, once each
    assert sorted(setups) == sorted(teardowns) == sorted(pids)
    for pid in pids:
        mine = [n for n, line in enumerate(lines) if line[-1] == pid]
        assert lines[mine[0]][0] == "setup" and lines[mine[-1]][0] == "teardown"


def test_a_worker_that_dies_loses_only_the_test_it_held(tmp_path):
    done, lines = _forked_run(tmp_path, workers=2, dies=4)
    assert done.returncode == 1
    assert "1 failed, 11 passed" in done.stdout, done.stdout[-2000:]
    assert "test_each[4]" in done.stdout and "stopped (process" in done.stdout
    assert sorted(int(line[1]) for line in lines if line[0] == "ran") == list(range(12))


class _Item:
    def __init__(self, *marks: str) -> None:
        self.marks = marks

    def get_closest_marker(self, name):
        return name if name in self.marks else None


def test_the_queue_gives_long_scenarios_first_and_the_target_wide_ones_last_together():
    items = [_Item(), _Item(workers.TARGET_WIDE), _Item(workers.LONG_FIRST), _Item(),
             _Item(workers.TARGET_WIDE, workers.LONG_FIRST), _Item(workers.LONG_FIRST)]
    assert workers.units(items) == [[2], [5], [0], [3], [1, 4]]
    assert workers.units([_Item(), _Item()]) == [[0], [1]]
