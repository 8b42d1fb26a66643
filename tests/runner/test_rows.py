"""Rule rows: one per catalogue rule, in catalogue order, status aggregated by precedence."""
import pytest

from canvas_conformance import catalogue
from canvas_conformance.report.rows import NOT_SELECTED, build_run, failing, summary
from canvas_conformance.results import worst


@pytest.mark.parametrize("statuses, expected", [
    (["passed", "failed", "error", "manual", "skipped"], "failed"),
    (["passed", "error", "manual", "skipped"], "error"),
    (["skipped", "manual", "passed"], "passed"),
    (["skipped", "manual"], "manual"),
    (["skipped"], "skipped"),
    ([], "skipped"),
    (["error", "failed"], "failed"),
])
def test_aggregate_follows_failed_error_passed_manual_skipped(statuses, expected):
    assert worst(statuses) == expected


def test_every_catalogue_rule_has_a_row_in_catalogue_order(results, every_status):
    run = build_run(results(every_status))
    assert [r.id for r in run.rules] == [r.id for r in catalogue.rules()]
    by_id = {r.id: r for r in run.rules}
    assert by_id["SENT-1"].status == "passed" and by_id["SENT-1"].reason is None
    assert by_id["SENT-2"].status == "failed" and "creation time" in by_id["SENT-2"].reason
    assert by_id["RCPT-1"].status == "error"
    assert by_id["RCPT-3"].status == "skipped" and "two patients" in by_id["RCPT-3"].reason
    assert by_id["UI-1"].status == "manual" and by_id["UI-1"].reason.startswith("MANUAL:")
    # absent from the results altogether: still a row, skipped, "not selected"
    assert by_id["FHIR-7"].status == "skipped" and by_id["FHIR-7"].reason == NOT_SELECTED
    assert by_id["FHIR-7"].scenarios == ()
    assert by_id["FHIR-7"].kind == "inferred" and by_id["FHIR-7"].section


def test_a_rule_with_several_scenarios_takes_the_worst(results, scenario):
    run = build_run(results([
        scenario("passed", ["SENT-3"], name="outline row 1"),
        scenario("error", ["SENT-3"], name="outline row 2", message="timeout"),
        scenario("passed", ["SENT-3", "SENT-4"], name="both"),
        scenario("failed", ["SENT-4"], name="broken", message="received overrode sent"),
        scenario("manual", ["SENT-1"], name="by hand"), scenario("passed", ["SENT-1"], name="by machine"),
    ]))
    by_id = {r.id: r for r in run.rules}
    assert by_id["SENT-3"].status == "error" and by_id["SENT-3"].reason == "timeout"
    assert len(by_id["SENT-3"].scenarios) == 3
    assert by_id["SENT-4"].status == "failed" and by_id["SENT-4"].reason == "received overrode sent"
    assert by_id["SENT-1"].status == "passed"


def test_rule_ids_come_from_tags_when_the_rules_list_is_missing(results, scenario):
    s = scenario("failed", [], tags=["RECV-2", "documented", "api"])
    del s["rules"]
    by_id = {r.id: r for r in build_run(results([s])).rules}
    assert by_id["RECV-2"].status == "failed"


def test_an_unknown_status_is_an_error_never_a_pass(results, scenario):
    run = build_run(results([scenario("xpassed", ["PAY-2"], message="odd")]))
    row = next(r for r in run.rules if r.id == "PAY-2")
    assert row.status == "error" and "unknown status 'xpassed'" in row.reason


def test_scenarios_outside_the_catalogue_are_kept_and_fail_the_run(results, every_status):
    run = build_run(results(every_status))
    assert [s.name for s in run.unmatched] == ["a scenario tagged with no rule"]
    assert failing(run) == ["SENT-2", "RCPT-1", "a scenario tagged with no rule"]


def test_strict_also_fails_manual_and_skipped(results, scenario):
    run = build_run(results([scenario("passed", ["SENT-1"]), scenario("manual", ["UI-1"])]))
    assert failing(run) == []
    strict = failing(run, strict=True)
    assert "UI-1" in strict and "FHIR-8" in strict and "SENT-1" not in strict


def test_summary_counts_rules_by_kind_and_scenarios(results, every_status):
    s = summary(build_run(results(every_status)))
    total = len(catalogue.rules())
    assert s["rules"]["total"] == total
    assert s["documented"]["total"] + s["inferred"]["total"] == total
    assert (s["rules"]["passed"], s["rules"]["failed"], s["rules"]["error"], s["rules"]["manual"]) == (1, 1, 1, 1)
    assert s["rules"]["skipped"] == total - 4
    assert s["scenarios"] == {"total": 6, "passed": 1, "failed": 2, "error": 1, "manual": 1, "skipped": 1}
