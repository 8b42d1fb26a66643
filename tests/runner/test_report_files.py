"""The five report files, built from constructed results: shape, mapping, escaping, validity."""
import json
import os
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from fhir.resources.R4B import testreport as fhir_testreport

from canvas_conformance import catalogue
from canvas_conformance.report.writer import REPORT_FILES, write_all

from .conftest import schema_validators

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082")


@pytest.fixture
def written(tmp_path, results, every_status):
    out = tmp_path / "report"
    w = write_all(results(every_status), out)
    return out, w


def _load(out, name):
    return json.loads((out / name).read_text())


def test_every_file_is_written(written):
    out, w = written
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    assert [p.name for p in w.files] == list(REPORT_FILES)
    assert w.failing == ("SENT-2", "RCPT-1", "a scenario tagged with no rule")


def test_conformance_json_has_a_row_per_rule_with_evidence(written):
    out, _ = written
    doc = _load(out, "conformance.json")
    assert doc["target"]["base_url"] == "http://127.0.0.1:5999"
    assert doc["tool_version"] == "0.1.0" and doc["started"] and doc["finished"]
    assert doc["outcome"] == "fail"
    assert doc["summary"]["rules"]["failed"] == 1 and doc["summary"]["scenarios"]["total"] == 6
    assert [r["id"] for r in doc["rules"]] == [r.id for r in catalogue.rules()]
    for row in doc["rules"]:
        assert set(row) >= {"id", "kind", "section", "title", "status", "scenarios"}
        assert row["status"] in ("passed", "failed", "error", "manual", "skipped")
    sent2 = next(r for r in doc["rules"] if r["id"] == "SENT-2")
    scenario = sent2["scenarios"][0]
    assert scenario["message"].startswith("sent was") and len(scenario["steps"]) == 2
    exchange = scenario["exchanges"][0]
    assert exchange["method"] == "POST" and exchange["status"] == 201 and exchange["correlation_id"] == "corr-0001"
    assert exchange["duration_ms"] == 12.5 and json.loads(exchange["request_body"])["resourceType"] == "Communication"
    assert [s["name"] for s in doc["unmatched_scenarios"]] == ["a scenario tagged with no rule"]


def test_conformance_json_and_its_results_rows_keep_the_schema(written, results, every_status):
    out, _ = written
    document, row = schema_validators()
    doc = _load(out, "conformance.json")
    document.validate(doc)
    for scenario in results(every_status)["scenarios"]:
        row.validate(scenario)
    broken = json.loads(json.dumps(doc))
    broken["rules"][0]["status"] = "xpassed"
    del broken["rules"][1]["scenarios"]
    assert len(list(document.iter_errors(broken))) == 2
    with pytest.raises(jsonschema.ValidationError):
        row.validate({**results(every_status)["scenarios"][0], "status": None})


def test_html_is_one_self_contained_page_that_escapes_everything(tmp_path, results, scenario, exchange):
    evil = exchange(MARKUP, response_body=json.dumps({"diagnostics": MARKUP}),
                    response_headers={"X-Evil": MARKUP}, correlation_id=MARKUP)
    s = scenario("failed", ["PAY-3"], name=MARKUP, message=MARKUP, exchanges=[evil], notes=[MARKUP],
                 feature=MARKUP)
    write_all(results([s, scenario("passed", ["SENT-1"])]), tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "<script" not in page and "<img src=x" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;" in page
    assert "<link" not in page and 'src="http' not in page and "@import" not in page and "url(" not in page
    assert page.count("<html") == 1 and "<style>" in page


def test_html_shows_summary_kinds_rules_and_evidence(written):
    out, _ = written
    page = (out / "report.html").read_text()
    assert 'id="summary"' in page and 'id="documented"' in page and 'id="inferred"' in page
    assert page.index('id="documented"') < page.index('id="inferred"')
    for rule in catalogue.rules():
        assert f'id="rule-{rule.id}"' in page
    assert '<details class="rule" id="rule-SENT-2" open>' in page  # failed rules open by default
    assert 'class="badge failed"' in page and 'class="badge manual"' in page
    assert "corr-0001" in page and "HTTP 201" in page and "12 ms" in page
    assert "Scenarios outside the catalogue" in page


def test_screenshots_are_inlined_as_images(tmp_path, results, scenario):
    (tmp_path / "screenshots").mkdir()
    (tmp_path / "screenshots" / "UI-2-chart.png").write_bytes(PNG)
    shot = {"kind": "screenshot", "path": "screenshots/UI-2-chart.png", "title": "the chart timeline"}
    outside = {"kind": "screenshot", "path": "../elsewhere.png", "title": "not ours"}
    s = scenario("passed", ["UI-2"], attachments=[shot, outside], exchanges=[])
    write_all(results([s]), tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert '<img class="shot" alt="the chart timeline" src="data:image/png;base64,' in page
    assert 'src="../elsewhere.png"' in page  # never read from outside the report folder
    cucumber = json.loads((tmp_path / "cucumber.json").read_text())
    embedding = cucumber[0]["elements"][0]["steps"][-1]["embeddings"][0]
    assert embedding["mime_type"] == "image/png"


def test_junit_has_a_testcase_per_scenario_named_by_rule(written):
    out, _ = written
    root = ET.parse(out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("6", "2", "1", "2")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert len(cases) == 6
    sent2 = next(c for n, c in cases.items() if n.startswith("SENT-2 "))
    assert sent2.find("failure") is not None and "creation time" in sent2.find("failure").get("message")
    assert next(c for n, c in cases.items() if n.startswith("RCPT-1 ")).find("error") is not None
    manual = next(c for n, c in cases.items() if n.startswith("UI-1 ")).find("skipped")
    assert manual.get("message").startswith("manual: MANUAL:")
    assert next(c for n, c in cases.items() if n.startswith("RCPT-3 ")).find("skipped") is not None
    passed = next(c for n, c in cases.items() if n.startswith("SENT-1 "))
    assert list(passed.iter("failure")) == [] and "corr-0001" in passed.find("system-out").text


def test_junit_survives_control_characters_and_markup(tmp_path, results, scenario, exchange):
    s = scenario("failed", ["PAY-1"], message="bad \x00\x07 bytes " + MARKUP,
                 exchanges=[exchange(response_body="\x01\x02")])
    write_all(results([s]), tmp_path)
    case = ET.parse(tmp_path / "junit.xml").getroot().find(".//testcase")
    assert MARKUP in case.find("failure").text


def test_cucumber_json_is_the_standard_feature_list(written):
    out, _ = written
    features = _load(out, "cucumber.json")
    assert isinstance(features, list) and len(features) == 1
    feature = features[0]
    assert {"keyword", "uri", "name", "id", "elements", "tags"} <= set(feature)
    assert feature["uri"] == "features/sent_received.feature"
    elements = {e["name"]: e for e in feature["elements"]}
    assert len(elements) == 6
    for e in elements.values():
        assert e["type"] == "scenario" and e["keyword"] == "Scenario"
        assert all(t["name"].startswith("@") for t in e["tags"])
        for step in e["steps"]:
            assert step["result"]["status"] in ("passed", "failed", "skipped", "pending")
            assert isinstance(step["result"]["duration"], int)
    failed = next(e for n, e in elements.items() if "SENT-2" in n)
    assert failed["steps"][-1]["result"]["status"] == "failed"
    assert "creation time" in failed["steps"][-1]["result"]["error_message"]
    errored = next(e for n, e in elements.items() if "RCPT-1" in n)
    assert errored["steps"][-1]["result"]["status"] == "failed"
    manual = next(e for n, e in elements.items() if "UI-1" in n)
    assert manual["before"][0]["result"]["status"] == "pending"
    assert "@UI-1" in [t["name"] for t in manual["tags"]]


def test_testreport_is_a_valid_fhir_r4_resource_with_a_test_per_rule(written):
    out, _ = written
    doc = _load(out, "testreport.json")
    report = fhir_testreport.TestReport.model_validate(doc)
    assert report.status == "completed" and report.result == "fail"
    assert [t.name for t in report.test] == [r.id for r in catalogue.rules()]
    results_by_rule = {t.name: [a.assert_fhir.result for a in t.action if a.assert_fhir] for t in report.test}
    assert results_by_rule["SENT-1"] == ["pass"]
    assert results_by_rule["SENT-2"] == ["fail"]
    assert results_by_rule["RCPT-1"] == ["error"]
    assert results_by_rule["RCPT-3"] == ["skip"] and results_by_rule["UI-1"] == ["skip"]
    assert results_by_rule["FHIR-7"] == ["skip"]
    operations = [a.operation for t in report.test if t.name == "SENT-2" for a in t.action if a.operation]
    assert operations and operations[0].result == "pass" and "corr-0001" in operations[0].message


def test_testreport_result_is_pass_only_when_every_rule_passed(tmp_path, results, scenario):
    every_rule = [scenario("passed", [r.id]) for r in catalogue.rules()]
    write_all(results(every_rule), tmp_path)
    doc = _load(tmp_path, "testreport.json")
    assert fhir_testreport.TestReport.model_validate(doc).result == "pass" and doc["score"] == 100.0
    write_all(results(every_rule[:-1]), tmp_path / "partial")
    assert _load(tmp_path / "partial", "testreport.json")["result"] == "pending"


def test_an_empty_run_still_reports_every_rule(tmp_path, results):
    w = write_all(results([]), tmp_path)
    doc = _load(tmp_path, "conformance.json")
    assert all(r["status"] == "skipped" and r["reason"] == "not selected" for r in doc["rules"])
    assert w.failing == () and fhir_testreport.TestReport.model_validate(_load(tmp_path, "testreport.json"))
    assert ET.parse(tmp_path / "junit.xml").getroot().get("tests") == "0"
    assert _load(tmp_path, "cucumber.json") == []


def test_results_are_never_written_through_a_link_in_the_report_folder(run_command, tmp_path):
    """A report folder given with --report-dir may hold links left there: results.json (and its
    .partial on the way) is a file of the run's own, and what a link pointed at is untouched."""
    report, victim = tmp_path / "report", tmp_path / "victim.txt"
    report.mkdir()
    victim.write_text("keep me\n")
    for name in ("results.json.partial", "results.json", "report.html"):
        (report / name).symlink_to(victim)
    outcome = run_command(["run", "--tags", "ID-1 and not explored", "--report-dir", str(report), "-q"])
    assert outcome.code == 0, outcome.err
    assert victim.read_text() == "keep me\n"
    for name in ("results.json", "report.html"):
        assert not (report / name).is_symlink() and (report / name).stat().st_size > 100
    assert not (report / "results.json.partial").exists()


def test_the_page_written_by_a_fork_is_the_page_written_here(tmp_path, results, every_status, monkeypatch):
    """writer.py has a fork of the runner write report.html while it writes the other files; where the
    fork cannot run (one core, no fork) or fails, the runner writes it itself: the same page either way."""
    from canvas_conformance.report import html_page, writer

    forked = tmp_path / "forked"
    write_all(results(every_status), forked)
    monkeypatch.setattr(writer.cores, "available", lambda: 1)  # no fork: everything written here
    here = tmp_path / "here"
    write_all(results(every_status), here)
    for name in REPORT_FILES:
        assert (forked / name).read_bytes() == (here / name).read_bytes(), name

    failing = tmp_path / "failing"
    monkeypatch.setattr(writer.cores, "available", lambda: 2)
    parent = os.getpid()
    render = html_page.render

    def fails_in_the_fork(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("the fork's page failed")
        return render(*args, **kwargs)

    monkeypatch.setattr(html_page, "render", fails_in_the_fork)
    write_all(results(every_status), failing)
    assert (failing / "report.html").read_bytes() == (here / "report.html").read_bytes()


def test_a_fork_tells_whether_its_job_ended_well(tmp_path):
    from canvas_conformance.report.writer import _in_a_fork

    done = tmp_path / "done"
    assert _in_a_fork(lambda: done.write_text("yes"))() is True
    assert done.read_text() == "yes"
    assert _in_a_fork(lambda: 1 / 0)() is False
