"""The real suite through ``canvas-conformance run`` against the embedded mock: one run, many looks."""
import json
import re
import xml.etree.ElementTree as ET

from fhir.resources.R4B import testreport as fhir_testreport

from canvas_conformance import catalogue
from canvas_conformance.report.writer import REPORT_FILES


def _doc(run, name):
    return json.loads((run.report / name).read_text())


def test_the_run_exits_0_and_writes_every_report_file(real_suite_run):
    run = real_suite_run
    assert run.code == 0, run.out + run.err
    assert set(REPORT_FILES) | {"results.json", "pytest.log"} <= {p.name for p in run.report.iterdir()}
    assert f"report: {run.report / 'report.html'}" in run.out


def test_every_api_rule_passes_against_the_mock_and_every_rule_has_a_row(real_suite_run):
    doc = _doc(real_suite_run, "conformance.json")
    assert [r["id"] for r in doc["rules"]] == [r.id for r in catalogue.rules()]
    for row in doc["rules"]:
        if row["surface"] == "api":
            assert row["status"] == "passed", (row["id"], row["reason"])
        else:  # checked in a browser, or left to a person with the steps to follow
            assert row["status"] in ("passed", "manual"), (row["id"], row["reason"])
        assert row["scenarios"], row["id"]
    assert doc["target"]["embedded_mock"] is True and doc["outcome"] == "pass"
    exchanges = [x for r in doc["rules"] for s in r["scenarios"] for x in s["exchanges"]]
    assert exchanges and all(x["correlation_id"] for x in exchanges if x["status"] is not None)


def test_the_other_formats_agree(real_suite_run):
    run = real_suite_run
    scenarios = len(_doc(run, "results.json")["scenarios"])
    junit = ET.parse(run.report / "junit.xml").getroot()
    assert junit.get("tests") == str(scenarios) and junit.get("failures") == "0" and junit.get("errors") == "0"
    assert sum(len(f["elements"]) for f in _doc(run, "cucumber.json")) == scenarios
    report = fhir_testreport.TestReport.model_validate(_doc(run, "testreport.json"))
    assert [t.name for t in report.test] == [r.id for r in catalogue.rules()]
    assert report.result in ("pass", "pending")
    page = (run.report / "report.html").read_text()
    assert all(f'id="rule-{r.id}"' in page for r in catalogue.rules())


def test_progress_showed_every_scenario(real_suite_run):
    run = real_suite_run
    scenarios = len(_doc(run, "results.json")["scenarios"])
    progress = [ln for ln in run.err_lines if re.match(r"\[\s*\d+/\d+\]", ln)]
    assert len(progress) == scenarios


def test_no_secret_in_the_report_folder(real_suite_run):
    run = real_suite_run
    secret = run.spy.started[0].client_secret
    for path in run.report.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert secret not in text, path.name
            assert not re.search(r"Bearer (?!\[REDACTED\])[A-Za-z0-9._~+/-]{8,}", text), path.name
            assert not re.search(r'access_token\\?"\s*:\s*\\?"(?!\[REDACTED\])', text), path.name
    assert run.spy.stopped == 1
