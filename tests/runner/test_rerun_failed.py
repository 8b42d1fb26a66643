"""``--rerun-failed [REPORT]``: only the failed and error scenarios of an earlier report run again.

The throwaway suite's first run has one failed (RCPT-1) and one error (FHIR-2) scenario; the rerun
of that report runs exactly those two, through a real child pytest process.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path


def _statuses(report: Path) -> dict[str, str]:
    doc = json.loads((report / "results.json").read_text())
    return {s["rules"][0]: s["status"] for s in doc["scenarios"]}


def test_the_rerun_runs_only_what_failed_or_errored(throwaway_runs):
    first = throwaway_runs()
    assert _statuses(first.report) == {"SENT-2": "passed", "RCPT-1": "failed", "FHIR-2": "error",
                                       "RCPT-3": "skipped", "UI-1": "manual", "PAY-1": "passed"}
    again = throwaway_runs("--rerun-failed", str(first.report))
    assert again.code == 1, again.err
    assert _statuses(again.report) == {"RCPT-1": "failed", "FHIR-2": "error"}
    assert len([ln for ln in again.err_lines if ln.startswith("[")]) == 2


def test_the_rerun_takes_a_conformance_json_too_and_lists(throwaway_runs):
    first = throwaway_runs()
    listed = throwaway_runs("--rerun-failed", str(first.report / "conformance.json"), "--list")
    assert listed.code == 0
    assert "2 of 6 scenarios" in listed.out and "a check that fails" in listed.out


def test_tags_narrow_the_rerun(throwaway_runs):
    first = throwaway_runs()
    again = throwaway_runs("--rerun-failed", str(first.report), "--tags", "RCPT-1")
    assert again.code == 1 and _statuses(again.report) == {"RCPT-1": "failed"}


def test_nothing_to_rerun_exits_0_and_a_missing_report_exits_2(throwaway_runs, throwaway_suite, tmp_path,
                                                                run_command):
    clean = throwaway_runs("--tags", "SENT-2 or PAY-1")
    again = run_command(["run", "--rerun-failed", str(clean.report), "--suite", str(throwaway_suite), "-q"])
    assert again.code == 0 and "nothing to run again" in again.err
    missing = run_command(["run", "--rerun-failed", str(tmp_path / "nothing")])
    assert missing.code == 2 and "--rerun-failed: no report at" in missing.err and len(missing.err_lines) == 1
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "conformance.json").write_text("{}")
    bad = run_command(["run", "--rerun-failed", str(tmp_path / "bad")])
    assert bad.code == 2 and "is not a canvas-conformance report" in bad.err


def test_the_flag_alone_means_reports_latest(tmp_path, monkeypatch, run_command, throwaway_runs, throwaway_suite):
    first = throwaway_runs()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    shutil.copytree(first.report, tmp_path / "reports" / "20260101T000000Z")
    (tmp_path / "reports" / "latest").symlink_to("20260101T000000Z")
    listed = run_command(["run", "--rerun-failed", "--list", "--suite", str(throwaway_suite)])
    assert listed.code == 0 and "2 of 6 scenarios" in listed.out, listed.err
