"""No answer crashes a canvas-current check (STAT-2, SUBJ-1, ID-3, FHIR-9, FHIR-10, PAY-6 and the
profile's allowances of the existing checks): whatever a target returns, each passes or says no with
an AssertionError naming a rule. Generated with test_answer_shapes.py's strategies, seeded."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from canvas_conformance import checks
from canvas_conformance.references import Reference

from steps.provoke import Provoked, judge_codes

from .test_answer_shapes import (SETTINGS, answer, anything, bodies, communications, issues, judged, outcomes,
                                 reference_objects, shaped, statuses)

v2_communications = st.one_of(communications, st.builds(
    lambda c, status, subject, text: {**c, "status": status, "subject": subject,
                                      "payload": [{"contentString": text}]} if isinstance(c, dict) else c,
    communications, st.one_of(st.sampled_from(["completed", "unknown", "COMPLETED", ""]), anything),
    st.one_of(reference_objects, anything),
    st.one_of(st.text(max_size=30), st.sampled_from(["<p>a &amp; b<br></p>", "<p>", "</p><p", "&#xZZ;", "<br/>",
                                                     "<div><p>x</p>\n</div>", "<!-- c", "<![CDATA[x"]))))
error_statuses = st.one_of(st.sampled_from([400, 401, 403, 404, 405, 409, 422, 500]), statuses)
v2_outcomes = shaped({"resourceType": st.just("OperationOutcome"), "issue": st.lists(st.one_of(issues, shaped({
    "severity": st.sampled_from(["error", "fatal", "warning"]),
    "code": st.sampled_from(["invalid", "business-rule", "not-found", "processing", "exception", "login"])})),
    max_size=3)})


@SETTINGS
@given(resource=st.one_of(v2_communications, anything))
def test_read_back_checks_of_canvas_current_only_ever_say_no(resource):
    stored = judged(checks.check_resource, resource, "Communication", rule="ID-2", what="the read-back")
    if stored is None:
        return
    judged(checks.check_stored_status, stored, sent="unknown")
    judged(checks.check_subject, stored, Reference("Patient", "p1"))
    judged(checks.check_one_payload, stored, "a & b\n", rule="PAY-6", html_text=True)
    judged(checks.check_one_payload, stored, "a & b\n", rule="PAY-2", html_text=True)
    low = datetime(2021, 1, 1, tzinfo=timezone.utc)
    judged(checks.check_copied_or_created, stored.get("sent"), "2021-04-29T13:30:00Z", (low, low + timedelta(1)),
           rule="SENT-3", what="sent")


@SETTINGS
@given(text=st.one_of(st.text(max_size=40), st.text(alphabet="<>&;/#brpdiv \n\r\t'\"=!-[]x", max_size=40)))
def test_the_text_content_of_any_markup_is_a_string(text):
    assert isinstance(checks.html_text_content(text), str)
    assert isinstance(checks.same_text(text, "x", html_text=True), bool)


@SETTINGS
@given(body=st.one_of(bodies, st.none(), st.sampled_from(["", " \n", "null", " null ", "{}", "[]", "\"\""])))
def test_the_created_body_check_only_ever_says_no(body):
    judged(checks.check_created_body, body)


@SETTINGS
@given(headers=st.one_of(st.none(), st.dictionaries(st.sampled_from(["fumage-correlation-id", "x-other"]),
                                                     st.one_of(st.text(max_size=10), anything), max_size=2)))
def test_the_correlation_id_check_only_ever_says_no(headers):
    judged(checks.check_correlation_id, headers)


@SETTINGS
@given(status=error_statuses, body=st.one_of(v2_outcomes.map(json.dumps), outcomes.map(json.dumps), bodies),
       requires=st.sampled_from([None, "RCPT-1", "FHIR-6"]))
def test_the_issue_code_checks_only_ever_say_no(status, body, requires):
    judged(checks.check_issue_codes, status, judged(checks.check_json_body, body, rule="FHIR-2", what="x"))
    if status is not None:
        judged(judge_codes, Provoked("a request", answer(status, body), requires))


# -- what the checks accept and refuse --------------------------------------------------------------
def _fails(check, *args, **kwargs) -> str:
    try:
        check(*args, **kwargs)
    except AssertionError as err:
        return str(err)
    raise AssertionError("the check passed")


def test_html_text_content_reads_the_mocks_html_and_other_servers_forms():
    read = checks.html_text_content
    assert read("<p>Tom &amp; Jerry &lt;3<br>bye<br></p>") == "Tom & Jerry <3\nbye\n"
    assert read("<p>a</p><p>b</p>") == read("<p>a</p>\n<p>b</p>") == read("<div><p>a</p></div><p>b</p>") == "a\nb"
    assert read("<div>a<br/>\nb</div>\n") == "a\nb" and read("<p>&lt;p&gt;</p>") == "<p>"
    assert read("plain & text") == "plain & text"


def test_payload_text_as_sent_or_as_html_showing_it():
    one = lambda text: {"payload": [{"contentString": text}]}  # noqa: E731
    checks.check_one_payload(one("a <b> & c\n"), "a <b> & c\n", rule="PAY-6", html_text=True)
    checks.check_one_payload(one("<p>a &lt;b&gt; &amp; c<br></p>"), "a <b> & c\n", rule="PAY-6", html_text=True)
    assert _fails(checks.check_one_payload, one("<p>a &amp;amp; c</p>"), "a & c", rule="PAY-6",
                  html_text=True).startswith("[PAY-6]")
    assert _fails(checks.check_one_payload, one("<p>a</p>"), "a\n", rule="PAY-6", html_text=True).startswith("[PAY-6]")
    # a text rendered wrong is PAY-6's, seen by PAY-2; another element's text is PAY-2's own
    assert _fails(checks.check_one_payload, one("<p>a &amp;amp; c</p>"), "a & c", rule="PAY-2",
                  html_text=True).startswith("[PAY-6]")
    assert _fails(checks.check_one_payload, one("<p>second</p>"), "first", rule="PAY-2",
                  html_text=True).startswith("[PAY-2]")
    # canvas-2022 keeps to the text, or the text in one wrapper
    assert _fails(checks.check_one_payload, one("<p>a<br>b</p>"), "a\nb", rule="PAY-4").startswith("[PAY-4]")


def test_status_subject_created_body_correlation_and_codes():
    checks.check_stored_status({"status": "completed"})
    assert "got 'unknown'" in _fails(checks.check_stored_status, {"status": "unknown"}, sent="unknown")
    assert "absent" in _fails(checks.check_stored_status, {})
    checks.check_subject({"subject": {"reference": "Patient/p1", "type": "Patient"}}, Reference("Patient", "p1"))
    assert _fails(checks.check_subject, {"subject": {"reference": "Practitioner/d1"}},
                  Reference("Patient", "p1")).startswith("[SUBJ-1]")
    for body in ("", "  ", "null", "null\n", None):
        checks.check_created_body(body)
    for body in ("{}", '{"resourceType": "Communication"}', "[]", '""', "nul"):
        assert _fails(checks.check_created_body, body).startswith("[ID-3]")
    assert checks.check_correlation_id({"fumage-correlation-id": "c-1"}) == "c-1"
    assert _fails(checks.check_correlation_id, {"fumage-correlation-id": " "}).startswith("[FHIR-9]")
    outcome = lambda code, severity="error": {"issue": [{"severity": severity, "code": code}]}  # noqa: E731
    assert checks.check_issue_codes(422, outcome("business-rule")) and checks.check_issue_codes(400, outcome("required"))
    assert checks.check_issue_codes(401, outcome("unknown")) and checks.check_issue_codes(404, outcome("not-found"))
    assert checks.check_issue_codes(422, outcome("invalid", "warning"))  # only errors are judged
    assert not checks.check_issue_codes(409, outcome("conflict"))  # a status FHIR-10 says nothing of
    for status, code in ((422, "invalid"), (404, "processing"), (400, "exception"), (405, "invalid"), (401, "invalid")):
        assert _fails(checks.check_issue_codes, status, outcome(code)).startswith("[FHIR-10]"), (status, code)


def test_an_error_request_accepted_is_the_rule_requiring_its_refusal():
    accepted = Provoked("a create without recipient", answer(201, ""), "RCPT-1")
    assert _fails(judge_codes, accepted).startswith("[RCPT-1]")
    assert _fails(judge_codes, Provoked("x", answer(500, "boom"), "FHIR-1")).startswith("[FHIR-2]")
    assert _fails(judge_codes, Provoked("x", answer(400, "{}"), "FHIR-1")).startswith("[FHIR-2]")


def test_an_empty_result_has_no_links_in_canvas_current():
    empty = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    checks.check_no_links(empty)
    linked = {**empty, "link": [{"relation": "self", "url": "/Communication?_id=x"}]}
    assert _fails(checks.check_no_links, linked).startswith("[FHIR-7]")
    assert _fails(checks.check_no_links, {**empty, "link": [{"relation": 1}]}).startswith("[FHIR-7]")
