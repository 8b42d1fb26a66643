"""No answer crashes a check: whatever JSON a target returns, in whatever field, a check passes or
says no with an AssertionError naming the rule; it never raises anything else.

Why: a verdict is about the target. A Python exception from reading an answer (``KeyError: 0``
on a search entry whose ``recipient`` is an object) used to turn "the target answered, wrongly"
into ``error``. Inputs are built from small composable Hypothesis strategies: any JSON value,
and answers shaped like the ones the checks read (OperationOutcome, Communication, searchset
Bundle, token grant, CapabilityStatement) with any JSON value in any of their fields. Seeded
(``derandomize``) and bounded, so a run is the same every time.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canvas_conformance import checks, preflight
from canvas_conformance.client import Answer, Exchange
from canvas_conformance.references import Reference

from steps.bodies import Draft
from steps.reading_steps import diagnostics
from steps.search_steps import Search, all_match
from steps.target import involved_parties

SETTINGS = settings(derandomize=True, max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
BASE = "http://127.0.0.1:8000/fhir"

# -- strategies: any JSON value, then answers with any value in the fields the checks read -----------
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2 ** 63, max_value=2 ** 63),
                    st.floats(allow_nan=False), st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
# a value nested deeper than most answers, to see nothing recurses on it without a bound
deep = st.integers(min_value=1, max_value=200).map(lambda n: json.loads("[" * n + "]" * n))
anything = st.one_of(scalars, json_values, deep)  # scalars first: often where a list or object belongs


def shaped(fields: dict) -> st.SearchStrategy[dict]:
    """A dict with some of ``fields`` (each a strategy of its plausible values) or any JSON value in their place."""
    return st.fixed_dictionaries({}, optional={k: st.one_of(v, anything) for k, v in fields.items()})


references = st.one_of(st.sampled_from(["Patient/p1", "Practitioner/d1", "Location/x", "", "Patient/"]),
                       st.text(max_size=12))
reference_objects = shaped({"reference": references, "type": st.sampled_from(["Patient", "Practitioner"])})
instants = st.one_of(st.sampled_from(["2021-04-29T13:30:00Z", "2021-04-29T13:30:00.250+00:00",
                                      "2021-04-29T09:30:00-04:00", "2021-02-30T25:00:00Z"]), st.text(max_size=25))
issues = shaped({"severity": st.sampled_from(["error", ""]), "code": st.sampled_from(["required", "invalid"]),
                 "diagnostics": st.text(max_size=20), "details": shaped({"text": st.text(max_size=20)})})
outcomes = shaped({"resourceType": st.just("OperationOutcome"), "issue": st.lists(issues, max_size=3)})
communications = shaped({
    "resourceType": st.just("Communication"), "id": st.text(max_size=8), "sent": instants, "received": instants,
    "sender": reference_objects, "recipient": st.lists(reference_objects, max_size=3),
    "payload": st.lists(shaped({"contentString": st.text(max_size=10), "content": st.text(max_size=10)}),
                        max_size=3)})
links = shaped({"relation": st.sampled_from(["self", "first", "next", "last", "prev"]),
                "url": st.text(max_size=10)})
found_messages = st.fixed_dictionaries(  # a Communication a search found, any value in its other fields
    {"resourceType": st.just("Communication")},
    optional={"id": st.one_of(st.just("abc"), anything), "sender": st.one_of(reference_objects, anything),
              "recipient": st.one_of(st.lists(reference_objects, max_size=2), reference_objects, anything)})
entries = st.one_of(shaped({"resource": communications}), st.fixed_dictionaries({"resource": found_messages}))
# a searchset Bundle: sometimes anything in its fields, often right but for its links and entries
bundles = st.one_of(
    shaped({"resourceType": st.just("Bundle"), "type": st.just("searchset"),
            "total": st.integers(min_value=-1, max_value=5), "link": st.lists(links, max_size=4),
            "entry": st.lists(entries, max_size=3)}),
    st.fixed_dictionaries({"resourceType": st.just("Bundle"), "type": st.just("searchset"),
                           "total": st.integers(min_value=0, max_value=5)},
                          optional={"link": st.one_of(st.lists(links, max_size=4), anything),
                                    "entry": st.one_of(st.lists(entries, min_size=1, max_size=3), anything)}))
grants = shaped({"access_token": st.text(max_size=8), "token_type": st.sampled_from(["Bearer", "bearer", "mac"]),
                 "expires_in": st.integers(min_value=-5, max_value=3600), "scope": st.text(max_size=8)})
capabilities = shaped({"resourceType": st.just("CapabilityStatement"), "rest": st.lists(shaped({
    "resource": st.lists(shaped({"type": st.sampled_from(["Communication", "Patient"])}), max_size=3)}), max_size=2)})
bodies = st.one_of(anything.map(json.dumps), st.text(max_size=30))  # what an answer's text can be
statuses = st.one_of(st.none(), st.integers(min_value=100, max_value=599))
headers = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(
    ["Communication/abc", f"{BASE}/Communication/abc/_history/2", "/fhir/Communication/x", "http://[::1",
     "http://[", "Communication/a?b=c", f"{BASE}/Patient/x"]))


def judged(check, *args, **kwargs):
    """Run a check: it may pass or raise an AssertionError naming a rule; anything else fails the test."""
    try:
        return check(*args, **kwargs)
    except AssertionError as err:
        assert str(err).startswith("["), err  # "[RULE-ID] what: expected ..., got ..."
        return None


def answer(status: int, text: str, content_type: str | None = "application/fhir+json") -> Answer:
    exchange = Exchange("a test answer", "GET", BASE, {}, None, status, {}, text, None, "", 0.0, None)
    return Answer(status, {"Content-Type": content_type} if content_type else {}, text, exchange)


# -- the checks ----------------------------------------------------------------------------------------
@SETTINGS
@given(status=statuses, body=st.one_of(outcomes.map(json.dumps), bodies))
def test_operation_outcome_checks_only_ever_say_no(status, body):
    outcome = judged(checks.check_operation_outcome, status, body, rule="RCPT-1")
    if outcome is not None:
        judged(checks.check_outcome_issues, outcome, rule="FHIR-2", mentions="recipient")
    judged(checks.check_status, status, checks.CLIENT_ERRORS, rule="RCPT-1")
    judged(checks.check_not_server_error, status)
    judged(checks.check_json_body, body, rule="FHIR-8", what="the answer")


@SETTINGS
@given(header=headers, content_type=st.one_of(st.none(), st.text(max_size=30)))
def test_header_checks_only_ever_say_no(header, content_type):
    judged(checks.check_location, header, BASE)
    judged(checks.check_json_media_type, content_type)


@SETTINGS
@given(resource=st.one_of(communications, anything), value=anything)
def test_read_back_checks_only_ever_say_no(resource, value):
    stored = judged(checks.check_resource, resource, "Communication", rule="ID-2", what="the read-back")
    if stored is None:
        return
    judged(checks.check_one_recipient, stored, "Patient", "p1", rule="RCPT-3")
    judged(checks.check_one_payload, stored, "text", rule="PAY-2")
    judged(checks.check_reference, stored.get("sender"), "Practitioner", "d1", rule="SNDR-2", what="the sender")
    judged(checks.check_absent, stored, "received", rule="RECV-2")
    low = datetime(2021, 1, 1, tzinfo=timezone.utc)
    for element in ("sent", "received"):
        judged(checks.check_same_instant, stored.get(element), "2021-04-29T13:30:00Z", rule="SENT-1", what=element)
        judged(checks.check_within, stored.get(element), low, low + timedelta(days=900), rule="SENT-2", what=element)
    judged(checks.check_utc_instant, value, rule="RECV-1", what="the value")
    assert checks.first_reference(value) is None or isinstance(checks.first_reference(value), Reference)
    assert checks.first_reference(value, many=True) is None or isinstance(
        checks.first_reference(value, many=True), Reference)


@SETTINGS
@given(bundle=st.one_of(bundles, anything), last=st.booleans())
def test_search_checks_only_ever_say_no(bundle, last):
    found = judged(checks.check_searchset, bundle)
    if found is None:
        return
    total, resources = found
    assert isinstance(total, int) and all(isinstance(r, dict) for r in resources)
    assert isinstance(checks.links(bundle), dict)
    judged(checks.check_page_links, bundle, last_page=last)


@SETTINGS
@given(status=statuses, body=st.one_of(grants, anything))
def test_the_token_grant_check_only_ever_says_no(status, body):
    judged(checks.check_token_grant, status, body)


# -- the steps' reading of answers ------------------------------------------------------------------
DRAFT = Draft(body={"resourceType": "Communication", "sender": {"reference": "Practitioner/d1"},
                    "recipient": [{"reference": "Patient/p1"}], "payload": [{"contentString": "x"}]},
              involved=("Practitioner/d1", "Patient/p1"))


@SETTINGS
@given(bundle=bundles, key=st.sampled_from(["_id", "sender", "recipient", "patient"]))
def test_a_search_match_reads_any_entry_shape(bundle, key):
    """The step that raised ``KeyError: 0`` on a recipient object: every shape is a verdict now."""
    if judged(checks.check_searchset, bundle) is None:
        return
    search = Search([bundle], 100)
    if key == "_id" and bundle.get("total") != 1:
        return judged(all_match, search, "abc", DRAFT, key, "FHIR-7")
    judged(all_match, search, "abc", DRAFT, key, "FHIR-7")


def test_a_recipient_object_in_a_search_entry_fails_fhir_7_naming_the_recipient():
    entry = {"resource": {"resourceType": "Communication", "id": "abc", "sender": {"reference": "Practitioner/d1"},
                          "recipient": {"reference": "Patient/p1"}}}
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [entry]}
    try:
        all_match(Search([bundle], 100), "abc", DRAFT, "recipient", "FHIR-7")
    except AssertionError as err:
        assert str(err).startswith("[FHIR-7] a message found by recipient=Patient/p1"), err
        assert "recipient {\"reference\": \"Patient/p1\"}" in str(err).replace("'", ""), err
    else:
        raise AssertionError("a recipient object instead of a list passed")


@SETTINGS
@given(status=st.integers(min_value=100, max_value=599), body=st.one_of(
    bundles.map(json.dumps), outcomes.map(json.dumps), capabilities.map(json.dumps), bodies),
    content_type=st.one_of(st.none(), st.sampled_from(["application/fhir+json", "text/html"])))
def test_answer_reading_helpers_never_raise(status, body, content_type):
    got = answer(status, body, content_type)
    assert isinstance(diagnostics(got), str)
    try:
        preflight.check_capabilities(f"{BASE}/metadata", got)
    except preflight.Refusal as refusal:
        assert str(refusal).startswith(f"{BASE}/metadata is not a FHIR endpoint serving Communication")


@SETTINGS
@given(body=st.one_of(communications, anything), fallback=st.lists(references, max_size=2))
def test_the_parties_of_any_body_are_read_without_raising(body, fallback):
    assert isinstance(involved_parties(body, fallback), tuple)
