"""Honest rule status: a rule checked only in part says so in every report format and is no pass
under --strict; rules a tag selection left out do not fail a strict run; observations of a rule
seen by other rules' scenarios sit under its row; and a run that checked no rule exits 2."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from canvas_conformance.report.rows import build_run, failing
from canvas_conformance.report.writer import write_all
from canvas_conformance.summary import print_summary

SKIP_REASON = "needs two patients, only one given"


def _partial(scenario):
    return [scenario("passed", ["RCPT-3"], name="further recipient: a practitioner"),
            scenario("skipped", ["RCPT-3"], name="further recipient: another patient", message=SKIP_REASON,
                     exchanges=[]),
            scenario("passed", ["SENT-1"], name="sent with an offset")]


def test_a_rule_with_a_skipped_scenario_is_passed_partly_and_not_a_pass_under_strict(results, scenario):
    run = build_run(results(_partial(scenario)))
    by_id = {r.id: r for r in run.rules}
    rcpt3 = by_id["RCPT-3"]
    assert rcpt3.status == "passed" and rcpt3.partial is True
    assert rcpt3.reason == f"passed, 1 of 2 checks; 1 skipped: {SKIP_REASON}"
    assert by_id["SENT-1"].partial is False and by_id["SENT-1"].reason is None
    assert "RCPT-3" not in failing(run)
    assert "RCPT-3" in failing(run, strict=True) and "SENT-1" not in failing(run, strict=True)


def test_a_manual_scenario_beside_a_passed_one_makes_the_rule_partial_too(results, scenario):
    run = build_run(results([scenario("passed", ["FHIR-3"]),
                             scenario("manual", ["FHIR-3"], name="by hand", message="MANUAL: 1. look")]))
    row = next(r for r in run.rules if r.id == "FHIR-3")
    assert row.partial and row.reason == "passed, 1 of 2 checks; 1 manual: MANUAL: 1. look"


def test_rules_not_selected_by_tags_do_not_fail_a_strict_run(results, scenario):
    doc = results([scenario("passed", ["SENT-1"])])
    everything = build_run(doc)
    assert "RCPT-1" in failing(everything, strict=True)  # no selection: a rule no scenario checks is unchecked
    narrowed = build_run({**doc, "selection": "SENT-1"})
    assert failing(narrowed, strict=True) == []
    assert next(r for r in narrowed.rules if r.id == "RCPT-1").reason == "not selected"


def test_every_report_format_shows_the_partial_rule(results, scenario, tmp_path, capsys):
    written = write_all(results(_partial(scenario)), tmp_path, strict=True)
    assert "RCPT-3" in written.failing and "SENT-1" not in written.failing
    doc = json.loads((tmp_path / "conformance.json").read_text())
    row = next(r for r in doc["rules"] if r["id"] == "RCPT-3")
    assert row["status"] == "passed" and row["partial"] is True and row["reason"].startswith("passed, 1 of 2 checks")
    assert "RCPT-3" in doc["failing"] and doc["outcome"] == "fail"
    page = (tmp_path / "report.html").read_text()
    assert '<span class="badge partial">partly</span>' in page and "passed, 1 of 2 checks; 1 skipped" in page
    props = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "junit.xml").iter("property")}
    assert props["partial RCPT-3"] == f"passed, 1 of 2 checks; 1 skipped: {SKIP_REASON}"
    print_summary(written, tmp_path, base_url="http://127.0.0.1:5999", embedded=False)
    assert f"  partly:     RCPT-3 (passed, 1 of 2 checks; 1 skipped: {SKIP_REASON})" in capsys.readouterr().out


def test_an_observation_sits_under_the_row_of_the_rule_broken(results, scenario, tmp_path):
    seen = {"rule": "ID-1", "message": "[ID-1] the Location header: expected a path under /, got '/x/1'"}
    row = scenario("error", ["SENT-1"], name="sent with an offset", observations=[seen],
                   message="could not be checked: " + seen["message"])
    run = build_run(results([row]))
    by_id = {r.id: r for r in run.rules}
    assert by_id["SENT-1"].status == "error" and by_id["SENT-1"].observations == ()
    (observation,) = by_id["ID-1"].observations
    assert observation.seen_while == ("SENT-1",) and observation.scenario == "sent with an offset"
    write_all(results([row]), tmp_path)
    doc = json.loads((tmp_path / "conformance.json").read_text())
    id1 = next(r for r in doc["rules"] if r["id"] == "ID-1")
    assert id1["observations"] == [{"scenario": "sent with an offset", "seen_while": ["SENT-1"],
                                    "message": "also seen while checking SENT-1: " + seen["message"]}]
    assert "also seen while checking SENT-1" in (tmp_path / "report.html").read_text()


def test_a_strict_run_narrowed_by_tags_passes_when_its_rules_pass(throwaway_runs):
    run = throwaway_runs("--tags", "SENT-2 or PAY-1", "--strict")
    assert run.code == 0, run.out + run.err
    doc = json.loads((run.report / "conformance.json").read_text())
    assert doc["failing"] == [] and doc["outcome"] == "pass"
    assert {r["id"]: r["status"] for r in doc["rules"] if r["reason"] != "not selected"} == {
        "SENT-2": "passed", "PAY-1": "passed"}


def test_a_run_with_one_error_beside_verdicts_is_a_run_with_an_error(throwaway_runs):
    run = throwaway_runs("--tags", "SENT-2 or FHIR-2")  # FHIR-2's scenario errors, SENT-2's passes
    assert run.code == 1, run.out + run.err


def test_a_run_in_which_no_rule_could_be_checked_exits_2_with_one_line(throwaway_runs):
    run = throwaway_runs("--tags", "RCPT-3 or UI-1")  # one skipped, one manual: no verdict anywhere
    assert run.code == 2, run.out + run.err
    (line,) = [ln for ln in run.err_lines if ln.startswith("canvas-conformance: ")]
    assert line == (f"canvas-conformance: no rule could be checked against {run.mock.base_url}: no scenario "
                    f"passed or failed (1 manual, 1 skipped); see {run.report / 'report.html'}")
    assert (run.report / "conformance.json").is_file()  # the report with the reasons is kept
