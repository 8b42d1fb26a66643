"""``canvas-conformance run`` end to end on a throwaway suite whose outcomes the test decides.

The suite runs in a real child pytest process against a real mock on loopback; a
stand-in results plugin writes results.json unredacted, so the scrubbing seen here
is the runner's own.
"""
import json
import os
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests

from canvas_conformance import embedded, suite_process
from canvas_conformance.report.writer import REPORT_FILES


def _rules(report: Path) -> dict:
    doc = json.loads((report / "conformance.json").read_text())
    return {r["id"]: r for r in doc["rules"]}


def test_a_run_with_a_broken_rule_exits_1_and_writes_every_file(throwaway_runs):
    run = throwaway_runs()
    assert run.code == 1, run.err
    assert set(REPORT_FILES) | {"results.json", "pytest.log"} <= {p.name for p in run.report.iterdir()}
    rules = _rules(run.report)
    assert {i: rules[i]["status"] for i in ("SENT-2", "RCPT-1", "FHIR-2", "RCPT-3", "UI-1", "PAY-1")} == {
        "SENT-2": "passed", "RCPT-1": "failed", "FHIR-2": "error", "RCPT-3": "skipped", "UI-1": "manual",
        "PAY-1": "passed"}
    assert rules["FHIR-7"]["status"] == "skipped" and rules["FHIR-7"]["reason"] == "not selected"
    assert rules["RCPT-3"]["reason"] == "needs two patients, only one given"
    exchange = rules["SENT-2"]["scenarios"][0]["exchanges"][0]
    assert exchange["status"] == 200 and exchange["url"] == f"{run.mock.base_url}/metadata"
    assert exchange["correlation_id"]
    doc = json.loads((run.report / "conformance.json").read_text())
    assert doc["target"] == {"base_url": run.mock.base_url, "embedded_mock": True, "mock_controls": False}
    assert "failing:    RCPT-1, FHIR-2" in run.out and f"report: {run.report / 'report.html'}" in run.out


def test_progress_is_one_plain_line_per_scenario_off_a_terminal(throwaway_runs):
    run = throwaway_runs()
    lines = [ln for ln in run.err_lines if ln.startswith("[")]
    assert [ln.split()[:3] for ln in lines] == [
        ["[1/6]", "ok", "SENT-2"], ["[2/6]", "FAIL", "RCPT-1"], ["[3/6]", "ERROR", "FHIR-2"],
        ["[4/6]", "skip", "RCPT-3"], ["[5/6]", "manual", "UI-1"], ["[6/6]", "ok", "PAY-1"]]
    assert "the target answered 200 where the rule wants 201" in lines[1]
    assert run.err_lines[0].startswith("canvas-conformance 0.1.0: 6 scenarios of profile canvas-2022 against the embedded mock")


def test_no_secret_anywhere_in_the_report_folder_of_a_run(throwaway_runs):
    run = throwaway_runs()
    secret, token = run.mock.client_secret, run.token
    assert secret and token  # the echo scenario did fetch a token
    planted = {v for s in (secret, token) for v in (s, quote(s, safe=""), quote_plus(s))}
    files = [p for p in run.report.rglob("*") if p.is_file()]
    assert len(files) >= 7
    for path in files:
        data = path.read_bytes()
        for value in planted:
            assert value.encode() not in data, (path.name, value)
    assert "[REDACTED]" in (run.report / "results.json").read_text()
    assert "echoed token [REDACTED]" in (run.report / "pytest.log").read_text()
    assert not any(value in run.out + run.err for value in planted)


def test_the_embedded_mock_is_stopped_after_the_run(throwaway_runs):
    run = throwaway_runs()
    assert throwaway_runs.spy.stopped == len(throwaway_runs.spy.started) >= 1
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{run.mock.base_url}/metadata", timeout=2)


def test_tags_select_scenarios_and_a_clean_selection_exits_0(throwaway_runs):
    run = throwaway_runs("--tags", "SENT-2 or PAY-1")
    assert run.code == 0, run.err
    rules = _rules(run.report)
    assert rules["SENT-2"]["status"] == "passed" and rules["PAY-1"]["status"] == "passed"
    assert rules["RCPT-1"]["status"] == "skipped" and rules["RCPT-1"]["reason"] == "not selected"
    assert len([ln for ln in run.err_lines if ln.startswith("[")]) == 2


def test_strict_fails_a_run_with_manual_rules(throwaway_runs):
    run = throwaway_runs("--tags", "SENT-2 or UI-1", "--strict")
    assert run.code == 1
    doc = json.loads((run.report / "conformance.json").read_text())
    assert doc["strict"] is True and "UI-1" in doc["failing"] and "SENT-2" not in doc["failing"]


def test_a_loopback_target_given_by_url_is_probed_and_run(throwaway_suite, use_standin, tmp_path, monkeypatch,
                                                          run_command):
    """The remote path: credentials from the environment, pre-flight checks, then the suite."""
    mock = embedded.start()
    try:
        monkeypatch.setenv("CANVAS_BASE_URL", mock.base_url)
        monkeypatch.setenv("CANVAS_CLIENT_ID", mock.client_id)
        monkeypatch.setenv("CANVAS_CLIENT_SECRET", mock.client_secret)
        monkeypatch.setenv("CANVAS_TAGS", "SENT-2 or PAY-1")
        outcome = run_command(["run", "--suite", str(throwaway_suite), "--report-dir", str(tmp_path / "r"), "-q"])
    finally:
        mock.stop()
    assert outcome.code == 0, outcome.err
    assert outcome.err == ""  # quiet: no progress, no banner
    doc = json.loads((tmp_path / "r" / "conformance.json").read_text())
    assert doc["target"]["base_url"] == mock.base_url and doc["target"]["embedded_mock"] is False
    token = use_standin.read_text()
    for path in (tmp_path / "r").iterdir():
        text = path.read_text()
        assert mock.client_secret not in text and token not in text, path.name


def test_the_default_report_folder_is_timestamped_with_a_latest_link(throwaway_suite, use_standin, tmp_path,
                                                                     monkeypatch, run_command):
    monkeypatch.chdir(tmp_path)
    outcome = run_command(["run", "--suite", str(throwaway_suite), "--tags", "SENT-2", "-q"])
    assert outcome.code == 0, outcome.err
    folders = [p for p in (tmp_path / "reports").iterdir() if not p.is_symlink()]
    assert len(folders) == 1 and len(folders[0].name) == len("20261125T120000Z")
    latest = tmp_path / "reports" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == folders[0].name
    assert (latest / "report.html").is_file()
    assert f"report: {Path('reports') / folders[0].name / 'report.html'}" in outcome.out


def test_a_missing_results_plugin_exits_2_with_one_line(throwaway_suite, tmp_path, monkeypatch, run_command):
    monkeypatch.setattr(suite_process, "RESULTS_PLUGIN", "no_such_results_plugin")
    outcome = run_command(["run", "--suite", str(throwaway_suite), "--report-dir", str(tmp_path), "-q"])
    assert outcome.code == 2
    assert len(outcome.err_lines) == 1 and "the suite could not run" in outcome.err_lines[0]
    assert "no_such_results_plugin" in outcome.err_lines[0]
    assert (tmp_path / "pytest.log").is_file()
