"""The results contract (canvas_conformance/results.py): precedence, what fails a run, classification,
the manual marker, the naming of outline rows, the rows' fields, the exchange line, and the schema
of conformance.json kept in step with all of it."""
from __future__ import annotations

import json

import pytest
from pytest_bdd.parser import FeatureParser

from canvas_conformance import results
from canvas_conformance.client import Exchange, ExchangeError, TargetUnavailable
from canvas_conformance.report import conformance_json


def test_precedence_is_failed_error_passed_manual_skipped():
    assert results.PRECEDENCE == ("failed", "error", "passed", "manual", "skipped")
    assert set(results.PRECEDENCE) == set(results.STATUSES)
    for worse, better in zip(results.PRECEDENCE, results.PRECEDENCE[1:]):
        assert results.outranks(worse, better) and not results.outranks(better, worse)
        assert results.worst([better, worse]) == worse
    assert not results.outranks("error", "error")


@pytest.mark.parametrize("status, fails, fails_strict", [
    ("failed", True, True), ("error", True, True), ("passed", False, False),
    ("manual", False, True), ("skipped", False, True),
])
def test_which_statuses_fail_a_run(status, fails, fails_strict):
    assert results.fails_run(status) is fails
    assert results.fails_run(status, strict=True) is fails_strict


def _raised(make) -> BaseException:
    try:
        make()
    except BaseException as exc:  # noqa: BLE001 - pytest's outcomes are BaseExceptions
        return exc
    raise AssertionError("nothing was raised")


@pytest.mark.parametrize("exception, during_call, status", [
    (AssertionError("[SENT-2] sent: expected now, got 2020"), True, "failed"),
    (_raised(lambda: pytest.fail("a check said no")), True, "failed"),
    (AssertionError("in a fixture"), False, "error"),
    (ExchangeError("create: POST /Communication: timeout", why="timeout"), True, "error"),
    (TargetUnavailable("still 503 after the retries", why="still 503"), True, "error"),
    (ConnectionError("dropped"), True, "error"),
    (KeyError("resourceType"), True, "error"),
    (None, False, "error"),
])
def test_a_check_failure_during_the_call_is_failed_anything_else_is_error(exception, during_call, status):
    assert results.failure_status(exception, during_call=during_call) == status


def test_manual_ends_the_scenario_with_numbered_steps_that_classify_as_manual():
    skip = _raised(lambda: results.manual("open the chart", "find the message"))
    assert isinstance(skip, pytest.skip.Exception)
    assert skip.msg == "MANUAL: 1. open the chart 2. find the message"
    assert results.skip_status(skip.msg) == "manual"
    assert results.skip_status("needs two patients, only one given") == "skipped"
    assert results.skip_status("a reason that mentions MANUAL: later") == "skipped"


@pytest.mark.parametrize("longrepr, reason", [
    (("steps/ui_steps.py", 30, "Skipped: MANUAL: 1. open the chart"), "MANUAL: 1. open the chart"),
    (("steps/x.py", 3, "needs two patients"), "needs two patients"),
])
def test_the_skip_reason_is_read_from_pytests_report(longrepr, reason):
    report = pytest.TestReport("n", ("f", 0, "n"), {}, "skipped", longrepr, "call")
    assert results.skip_reason(report) == reason
    raised = _raised(lambda: pytest.skip("the exception's own text"))
    assert results.skip_reason(report, raised) == "the exception's own text"


OUTLINES = """\
Feature: names

  Scenario Outline: an offset is stored as UTC
    Given a message sent at <given>

    Examples:
      | given                     |
      | 2021-04-29T09:30:00-04:00 |

  Scenario Outline: a <kind> body is refused
    Given a <kind> body

    Examples:
      | kind   |
      | binary |

  Scenario: a plain scenario
    Given nothing in particular
"""


def test_an_outline_row_is_named_by_its_placeholders_or_else_by_its_values(tmp_path):
    (tmp_path / "names.feature").write_text(OUTLINES)
    templates = FeatureParser(str(tmp_path), "names.feature").parse().scenarios
    rows = {name: [ctx for ex in t.examples for ctx in ex.as_contexts()] for name, t in templates.items()}
    utc, kind, plain = (templates[n] for n in ("an offset is stored as UTC", "a <kind> body is refused",
                                               "a plain scenario"))
    assert results.scenario_name(utc, rows[utc.name][0]) == \
        "an offset is stored as UTC (given: 2021-04-29T09:30:00-04:00)"
    assert results.scenario_name(kind, rows[kind.name][0]) == "a binary body is refused"
    assert results.scenario_name(plain) == results.scenario_name(plain, {}) == "a plain scenario"


def test_exchange_rows_take_their_fields_from_client_exchange():
    assert tuple(results.EXCHANGE_DEFAULTS) == Exchange._fields
    assert results.EXCHANGE_DEFAULTS["request_headers"] == {} and results.EXCHANGE_DEFAULTS["name"] == ""
    assert results.EXCHANGE_DEFAULTS["status"] is None and results.EXCHANGE_DEFAULTS["duration_ms"] == 0.0
    row = results.exchange_row({"name": "read", "method": "GET", "url": "http://t/x", "status": 200,
                                "duration_ms": "7.5", "surplus": "dropped"})
    assert isinstance(row, Exchange) and row.status == 200 and row.duration_ms == 7.5
    assert row.response_headers == {} and row.error is None and row.started == ""
    other = results.exchange_row({})
    assert other.request_headers is not row.request_headers  # no empty dict shared between rows


def test_a_scenario_row_as_json_has_every_field_of_the_records():
    scenario = results.Scenario(name="s", status="passed", steps=(results.Step(keyword="Given", text="x"),),
                                exchanges=(results.exchange_row({"name": "read"}),))
    doc = results.as_json(scenario)
    assert tuple(doc) == results.Scenario._fields
    assert tuple(doc["steps"][0]) == results.Step._fields and doc["steps"][0]["status"] == results.NOT_RUN
    assert tuple(doc["exchanges"][0]) == Exchange._fields
    assert json.loads(json.dumps(doc)) == doc


@pytest.mark.parametrize("fields, line", [
    ({"status": 201, "correlation_id": "corr-1", "duration_ms": 12.4},
     "create: POST http://t/Communication -> HTTP 201 in 12 ms, correlation id corr-1"),
    ({"status": None, "error": "timeout after 0.3 s", "duration_ms": 300.0},
     "create: POST http://t/Communication -> no answer (timeout after 0.3 s) in 300 ms"),
])
def test_one_line_for_an_exchange(fields, line):
    exchange = results.exchange_row({"name": "create", "method": "POST", "url": "http://t/Communication", **fields})
    assert results.exchange_line(exchange) == line


def test_the_conformance_schema_spells_the_contracts_statuses_and_fields():
    schema = json.loads(conformance_json.SCHEMA_FILE.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    assert defs["status"]["enum"] == list(results.STATUSES)
    assert defs["stepStatus"]["enum"] == list(results.STEP_STATUSES)
    assert list(defs["counts"]["required"]) == ["total", *results.STATUSES]
    for name, record in (("scenario", results.Scenario), ("step", results.Step), ("exchange", Exchange)):
        derived = ("curl",) if name == "exchange" else ()  # the report adds it; results.json rows lack it
        assert list(defs[name]["properties"]) == [*record._fields, *derived], name
        assert list(defs[name]["required"]) == list(record._fields), name
    assert schema["properties"]["format"]["const"] == conformance_json.FORMAT
