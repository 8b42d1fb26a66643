"""A verdict belongs to the rule broken.

A scenario's status is about its own rule: what it sees of another rule on its way (a setup
create refused, a Location outside the base, a read-back that fails, a bad input accepted) is
evidence for that other rule (an observation, shown under that rule's row as "also seen while
checking X") and the scenario is ``error`` ("could not be checked: ..."), never ``failed``.
Each target here breaks one rule (attribution_twists.py); the scenarios of the rule broken
fail, those of the rules that run into it error with an observation for it. The explored
scenarios (``(explored)``) are held to the same: a search stops at the first case that meets
another rule's breach, and which case that is follows from the seed.
"""
from __future__ import annotations

import json

import jsonschema

from canvas_conformance.report import conformance_json
from canvas_conformance.report.writer import write_all

from .attribution_twists import (ACCEPTS_NO_RECIPIENT, MALFORMED_LOCATION, NO_READ_BACK, RECIPIENT_OBJECT_IN_SEARCH,
                                 REFUSES_CREATES, STRICT_R4)


def _by_rule(run) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in run.rows:
        for rule in row["rules"]:
            out.setdefault(rule, []).append(row)
    return out


def assert_not_checked_for(row: dict, broken: str) -> None:
    """The row is an error that names the other rule's breach and keeps it as an observation."""
    assert row["status"] == "error", (row["name"], row["status"], row["message"])
    assert row["message"].startswith(f"could not be checked: [{broken}] "), row["message"]
    assert [o["rule"] for o in row["observations"]] == [broken], row["observations"]
    assert row["observations"][0]["message"] == row["message"].removeprefix("could not be checked: ")
    steps = [s["status"] for s in row["steps"]]
    assert "failed" not in steps and steps.count("error") == 1, steps


def _report(run, tmp_path) -> dict:
    write_all(run.results, tmp_path / "report")
    doc = json.loads((tmp_path / "report" / "conformance.json").read_text())
    schema = json.loads(conformance_json.SCHEMA_FILE.read_text())
    jsonschema.validate(doc, schema)
    return doc


def test_a_malformed_location_is_id_1s_breach_and_an_error_for_sent_1_and_every_ui_rule(run_suite, serve, tmp_path):
    target = serve(MALFORMED_LOCATION.install)
    run = run_suite(target.env(), marks="(ID-1 or SENT-1 or ui)")
    rows = _by_rule(run)
    assert set(rows) == {"ID-1", "SENT-1", "UI-1", "UI-2", "UI-3", "UI-4", "UI-5"}
    for row in rows["ID-1"]:
        assert row["status"] == "failed" and row["message"].startswith("[ID-1] the Location header"), row
        assert row["observations"] == []
    for rule in ("SENT-1", "UI-1", "UI-2", "UI-3", "UI-4", "UI-5"):
        for row in rows[rule]:
            assert_not_checked_for(row, "ID-1")
    assert run.exit_code == 1

    doc = _report(run, tmp_path)
    by_id = {r["id"]: r for r in doc["rules"]}
    assert by_id["ID-1"]["status"] == "failed"
    assert by_id["SENT-1"]["status"] == "error" and by_id["UI-1"]["status"] == "error"
    seen = by_id["ID-1"]["observations"]
    assert {tuple(o["seen_while"]) for o in seen} == {("SENT-1",), ("UI-1",), ("UI-2",), ("UI-3",), ("UI-4",),
                                                       ("UI-5",)}
    assert all(o["message"].startswith(f"also seen while checking {o['seen_while'][0]}: [ID-1] ") for o in seen)
    assert by_id["SENT-1"]["observations"] == []  # an observation goes to the rule broken only
    page = (tmp_path / "report" / "report.html").read_text()
    assert "also seen while checking UI-2" in page and "Other rules seen broken" in page
    assert "also seen: [ID-1]" in (tmp_path / "report" / "junit.xml").read_text()


def test_a_strict_r4_server_accepts_every_setup_create(run_suite, serve):
    """The setup bodies carry status and contentString, so a strict server refuses none of them;
    only the document's own example (no status, payload.content) is refused, which is ID-1's question."""
    target = serve(STRICT_R4.install)
    run = run_suite(target.env(), marks="(ID-1 or FHIR-6 or FHIR-7 or SENT-2 or RECV-2)")
    statuses = {row["name"]: row["status"] for row in run.rows}
    assert statuses.pop("The document's own example is accepted with a Location naming it") == "failed"
    assert set(statuses.values()) == {"passed"}, {n: s for n, s in statuses.items() if s != "passed"}


def test_a_refused_setup_create_is_an_error_with_the_targets_own_words(run_suite, serve, tmp_path):
    target = serve(REFUSES_CREATES.install)
    run = run_suite(target.env(), marks="(FHIR-3 or FHIR-6 or FHIR-7 or ID-2)")
    setup = [row for row in run.rows if row["status"] != "passed" and row["name"] != "Reading a message that does "
             "not exist answers 404"]
    assert setup
    for row in setup:
        if "An id chosen by the client" in row["name"]:  # its create is ID-2's own question: ID-2 is broken
            assert row["status"] == "failed" and row["message"].startswith("[ID-2] the create of a valid message")
            continue
        if row["name"].startswith(("A create without a valid bearer token", "Any request without a valid bearer")):
            # refusing every create refuses these too, but with 400 where FHIR-3 wants 401: FHIR-3's breach
            assert row["status"] == "failed" and row["message"].startswith("[FHIR-3] the answer to the create"), row
            continue
        assert_not_checked_for(row, "ID-1")
        assert "the setup create was refused" in row["message"], row["message"]
        assert "status 400: this server takes no new messages today" in row["message"], row["message"]
    doc = _report(run, tmp_path)
    assert len(next(r for r in doc["rules"] if r["id"] == "ID-1")["observations"]) >= 5


def test_a_read_back_that_fails_is_id_2s_breach(run_suite, serve):
    target = serve(NO_READ_BACK.install)
    run = run_suite(target.env(), marks="(ID-2 or SENT-1 or PAY-2)")
    rows = _by_rule(run)
    reading = [row for row in rows["ID-2"] if "never share" not in row["name"]]
    assert reading and all(r["status"] == "failed" and r["message"].startswith("[ID-2] ") for r in reading)
    for rule in ("SENT-1", "PAY-2"):
        for row in rows[rule]:
            assert_not_checked_for(row, "ID-2")
            assert "reading the new message back" in row["message"]


def test_an_accepted_message_without_recipient_is_rcpt_1s_breach_not_fhir_2s_or_fhir_8s(run_suite, serve, tmp_path):
    target = serve(ACCEPTS_NO_RECIPIENT.install)
    run = run_suite(target.env(), marks="(RCPT-1 or FHIR-2 or FHIR-8)")
    rows = _by_rule(run)
    assert {r["status"] for r in rows["RCPT-1"]} == {"failed"}
    for row in rows["FHIR-8"]:
        assert_not_checked_for(row, "RCPT-1")
    for row in rows["FHIR-2"]:
        if "recipient is absent" in row["name"] or row["name"].endswith("(explored)"):
            assert_not_checked_for(row, "RCPT-1")  # the explored one: its search draws a message without recipient
        else:
            assert row["status"] == "passed", (row["name"], row["message"])
    doc = _report(run, tmp_path)
    by_id = {r["id"]: r for r in doc["rules"]}
    assert by_id["FHIR-2"]["status"] == "error" and by_id["FHIR-8"]["status"] == "error"
    assert {tuple(o["seen_while"]) for o in by_id["RCPT-1"]["observations"]} == {("FHIR-2",), ("FHIR-8",)}
    assert all(r["status"] == "error" for r in rows["FHIR-8"]) and any(
        r["name"].endswith("(explored)") for r in rows["FHIR-8"])
    assert doc["failing"] == ["RCPT-1", "FHIR-2", "FHIR-8"]


def test_a_recipient_object_in_a_search_answer_fails_fhir_7_and_never_crashes(run_suite, serve):
    target = serve(RECIPIENT_OBJECT_IN_SEARCH.install)
    run = run_suite(target.env(), marks="(FHIR-7)")
    statuses = {row["name"]: (row["status"], row["message"]) for row in run.rows}
    explored = [name for name in statuses if name.endswith("(explored)")]
    for name in [f"A message is found by its {key}" for key in ("recipient", "patient")] + explored:
        status, message = statuses.pop(name)
        assert status == "failed" and message.startswith("[FHIR-7] a message found by "), message
        assert "recipient '{\"reference\": \"Patient/" in message, message  # the field as the target gave it
    assert explored
    assert {s for s, _ in statuses.values()} == {"passed"}, statuses
