"""The shared checks: every form a rule allows passes, anything else fails naming the rule."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from canvas_conformance import checks

BASE = "http://127.0.0.1:8000"
OUTCOME = json.dumps({"resourceType": "OperationOutcome",
                      "issue": [{"severity": "error", "code": "required",
                                 "diagnostics": "[RCPT-1] Communication.recipient is required"}]})


def fails(rule: str, *texts: str):
    """pytest.raises for a check failure whose message names ``rule`` (and ``texts``)."""
    class Match:
        def __enter__(self):
            self.raises = pytest.raises(AssertionError)
            self.info = self.raises.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.raises.__exit__(*exc)
            message = str(self.info.value)
            assert message.startswith(f"[{rule}]"), message
            for text in texts:
                assert text in message, message
            return handled
    return Match()


@pytest.mark.parametrize("header, expected", [
    (f"{BASE}/Communication/abc123", "abc123"),
    (f"{BASE}/Communication/abc123/_history/1", "abc123"),
    ("Communication/abc-1.2", "abc-1.2"),
    ("Communication/abc/_history/7", "abc"),
    ("/Communication/abc", "abc"),
    ("HTTP://127.0.0.1:8000/Communication/abc", "abc"),
])
def test_location_forms_the_rule_allows(header, expected):
    assert checks.check_location(header, BASE) == expected


def test_location_under_a_base_with_a_path():
    base = "https://example.org/fhir/r4"
    assert checks.check_location("https://example.org/fhir/r4/Communication/x1", base) == "x1"
    assert checks.check_location("/fhir/r4/Communication/x1/_history/2", base) == "x1"
    with fails("ID-1", "/fhir/r4/"):
        checks.check_location("/Communication/x1", base)


@pytest.mark.parametrize("header", [
    None, "", "http://elsewhere.test/Communication/abc", f"{BASE}/Patient/abc", f"{BASE}/Communication/",
    "Communication/abc/_history/", "Communication/abc?x=1", "Communication/abc/extra", f"{BASE}/Communication/a b",
])
def test_location_forms_that_fail(header):
    with fails("ID-1", "expected"):
        checks.check_location(header, BASE)


@pytest.mark.parametrize("header, base, allowed", [
    ("http://fumage-acme.canvasmedical.com/Communication/x1/_history/1", "https://fumage-acme.canvasmedical.com", True),
    ("https://127.0.0.1:8000/Communication/x1", "http://127.0.0.1:8000", True),
    ("http://fumage-acme.canvasmedical.com:8443/Communication/x1", "https://fumage-acme.canvasmedical.com", False),
    ("http://fumage-other.canvasmedical.com/Communication/x1", "https://fumage-acme.canvasmedical.com", False),
    ("ftp://fumage-acme.canvasmedical.com/Communication/x1", "https://fumage-acme.canvasmedical.com", False),
])
def test_the_other_scheme_on_the_same_host_only_where_the_profile_allows_it(header, base, allowed):
    """canvas-current (Allowances.location_scheme): Canvas's own guide parses an http Location of an https
    base. The host and port stay the base's; canvas-2022 keeps the base's scheme too."""
    if allowed:
        assert checks.check_location(header, base, other_scheme=True) == "x1"
    else:
        with fails("ID-1", "a URL under the base"):
            checks.check_location(header, base, other_scheme=True)
    with fails("ID-1", "a URL under the base"):
        checks.check_location(header, base)
    assert checks.allowances("canvas-current").location_scheme and not checks.allowances("canvas-2022").location_scheme


def test_operation_outcome_any_4xx_or_named_status():
    for status in (400, 404, 409, 422):
        assert checks.check_operation_outcome(status, OUTCOME, rule="RCPT-1")["issue"]
    checks.check_operation_outcome(400, OUTCOME, rule="FHIR-1", statuses=(400,))
    with fails("FHIR-1", "status 400", "got status 422"):
        checks.check_operation_outcome(422, OUTCOME, rule="FHIR-1", statuses=(400,))
    with fails("RCPT-1", "status 400-499", "status 201"):
        checks.check_operation_outcome(201, "", rule="RCPT-1")
    with fails("RCPT-1", "status 500"):
        checks.check_operation_outcome(500, OUTCOME, rule="RCPT-1")


@pytest.mark.parametrize("body, shown", [
    ("<html>Bad request</html>", "OperationOutcome (JSON)"),
    ('{"resourceType": "Bundle"}', "resourceType OperationOutcome"),
    ('[]', "resourceType OperationOutcome"),
    ('{"resourceType": "OperationOutcome", "issue": []}', "at least one issue"),
])
def test_operation_outcome_bodies_that_fail(body, shown):
    with fails("SNDR-1", shown):
        checks.check_operation_outcome(400, body, rule="SNDR-1")


def test_outcome_issues_need_severity_code_and_text():
    outcome = json.loads(OUTCOME)
    checks.check_outcome_issues(outcome, mentions="RECIPIENT")
    details = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "error", "code": "value", "details": {"text": "sent is not a date"}}]}
    checks.check_outcome_issues(details, mentions="sent")
    with fails("FHIR-2", "a mention of 'sender'"):
        checks.check_outcome_issues(outcome, mentions="sender")
    for broken in ({"severity": "error", "code": "x"}, {"code": "x", "diagnostics": "d"},
                   {"severity": "error", "diagnostics": "d"}, {"severity": "error", "code": "x", "diagnostics": " "}):
        with fails("FHIR-2"):
            checks.check_outcome_issues({"issue": [broken]})


@pytest.mark.parametrize("value, expected", [
    ("2021-04-29T13:30:00Z", datetime(2021, 4, 29, 13, 30, tzinfo=timezone.utc)),
    ("2021-04-29T13:30:00+00:00", datetime(2021, 4, 29, 13, 30, tzinfo=timezone.utc)),
    ("2021-04-29T09:30:00-04:00", datetime(2021, 4, 29, 13, 30, tzinfo=timezone.utc)),
    ("2021-04-29T13:30:00.123456789Z", datetime(2021, 4, 29, 13, 30, 0, 123456, tzinfo=timezone.utc)),
])
def test_parse_instant(value, expected):
    assert checks.parse_instant(value) == expected


@pytest.mark.parametrize("value", ["2021-04-29", "2021-04-29T13:30:00", "2021-02-30T10:00:00Z", "yesterday", 12, None])
def test_parse_instant_refuses(value):
    with pytest.raises(ValueError):
        checks.parse_instant(value)


@pytest.mark.parametrize("got", [
    "2021-04-29T13:30:00Z", "2021-04-29T13:30:00+00:00", "2021-04-29T13:30:00.000Z", "2021-04-29T13:30:00.000000+00:00",
])
def test_same_instant_in_every_allowed_spelling(got):
    checks.check_same_instant(got, "2021-04-29T09:30:00-04:00", rule="SENT-1", what="sent")


def test_fractions_kept_or_dropped():
    assert checks.same_instant("2021-04-29T13:30:00.250Z", "2021-04-29T09:30:00.250-04:00")
    assert checks.same_instant("2021-04-29T13:30:00Z", "2021-04-29T13:30:00.250Z")  # dropped by the target
    assert not checks.same_instant("2021-04-29T13:30:00.500Z", "2021-04-29T13:30:00.250Z")
    assert not checks.same_instant("2021-04-29T13:30:01Z", "2021-04-29T13:30:00.250Z")


@pytest.mark.parametrize("got, shown", [
    ("2021-04-29T09:30:00-04:00", "written in UTC"),  # the right instant, not in UTC
    ("2021-04-29T09:30:00Z", "the instant 2021-04-29T13:30:00Z"),  # wall time called UTC
    (None, "a date-time in UTC"),
    ("2021-04-29", "a date-time in UTC"),
])
def test_same_instant_failures(got, shown):
    with fails("SENT-1", shown):
        checks.check_same_instant(got, "2021-04-29T13:30:00Z", rule="SENT-1", what="the stored sent")


def test_within_a_window():
    low = datetime(2022, 2, 10, 15, 0, tzinfo=timezone.utc)
    high = low + timedelta(seconds=10)
    checks.check_within("2022-02-10T15:00:05Z", low, high, rule="SENT-2", what="sent")
    with fails("SENT-2", "between"):
        checks.check_within("2022-02-10T14:00:05Z", low, high, rule="SENT-2", what="sent")


def test_creation_window_prefers_the_date_header():
    started = datetime(2022, 2, 10, 15, 0, 0, tzinfo=timezone.utc)
    tolerance = timedelta(seconds=5)
    low, high, how = checks.creation_window(started, started, "Thu, 10 Feb 2022 15:04:00 GMT", tolerance)
    assert (low, high) == (datetime(2022, 2, 10, 15, 3, 55, tzinfo=timezone.utc),
                           datetime(2022, 2, 10, 15, 4, 6, tzinfo=timezone.utc))
    assert "Date header" in how
    low, high, how = checks.creation_window(started, started + timedelta(seconds=1), None, tolerance)
    assert (low, high) == (started - tolerance, started + timedelta(seconds=6))
    assert "this machine's clock" in how
    assert checks.creation_window(started, started, "not a date", tolerance)[2].startswith("the request's")


def test_absent_means_not_even_null():
    checks.check_absent({"sent": "x"}, "received", rule="RECV-2")
    for value in (None, "", "2021-04-29T13:30:00Z"):
        with fails("RECV-2", "no such element"):
            checks.check_absent({"received": value}, "received", rule="RECV-2")


@pytest.mark.parametrize("value", [
    {"reference": "Patient/p1"}, {"reference": "Patient/p1", "type": "Patient", "display": "Amara"},
    {"reference": "https://example.org/fhir/Patient/p1"},
])
def test_reference_forms(value):
    checks.check_reference(value, "Patient", "p1", rule="RCPT-3", what="recipient")


@pytest.mark.parametrize("value", [
    {"reference": "Patient/p2"}, {"reference": "Practitioner/p1"}, {"reference": "Patient/p1", "type": "Practitioner"},
    {"display": "Amara"}, "Patient/p1", None,
])
def test_reference_failures(value):
    with fails("RCPT-3"):
        checks.check_reference(value, "Patient", "p1", rule="RCPT-3", what="recipient")


def test_one_recipient_and_one_payload():
    stored = {"recipient": [{"reference": "Patient/p1"}], "payload": [{"contentString": "Hello"}]}
    checks.check_one_recipient(stored, "Patient", "p1", rule="RCPT-3")
    checks.check_one_payload(stored, "Hello", rule="PAY-2")
    with fails("RCPT-3", "exactly one"):
        checks.check_one_recipient({"recipient": [{"reference": "Patient/p1"}, {"reference": "Patient/p2"}]},
                                   "Patient", "p1", rule="RCPT-3")
    with fails("PAY-2", "exactly one"):
        checks.check_one_payload({"payload": [{"contentString": "Hello"}, {"contentString": "x"}]}, "Hello", rule="PAY-2")
    with fails("PAY-4", "contentString 'Hello'"):
        checks.check_one_payload({"payload": [{"content": "Hello"}]}, "Hello", rule="PAY-4")


@pytest.mark.parametrize("stored", ["<p>Bring your card &amp; list</p>", "<div class=\"msg\">Bring your card & list</div>",
                                    "Bring your card & list"])
def test_payload_text_in_an_html_wrapper(stored):
    checks.check_one_payload({"payload": [{"contentString": stored}]}, "Bring your card & list", rule="PAY-4")


@pytest.mark.parametrize("stored", ["<p>Bring your card</p> & list", "<b>Bring your card & list</b>",
                                    "<p>Bring your card &amp; list.</p>", "<p></p>"])
def test_payload_text_wrapped_or_not_must_be_the_text(stored):
    with fails("PAY-4", "contentString"):
        checks.check_one_payload({"payload": [{"contentString": stored}]}, "Bring your card & list", rule="PAY-4")


def test_same_instant_without_the_utc_spelling():
    checks.check_same_instant("2021-04-29T08:30:00-05:00", "2021-04-29T13:30:00Z", rule="SENT-4", what="sent",
                              in_utc=False)
    with fails("SENT-4", "the instant 2021-04-29T13:30:00Z"):
        checks.check_same_instant("2021-04-29T08:30:00-04:00", "2021-04-29T13:30:00Z", rule="SENT-4", what="sent",
                                  in_utc=False)
    with fails("SENT-4", "expected the instant 2021-04-29T13:30:00Z, got 'yesterday'"):
        checks.check_same_instant("yesterday", "2021-04-29T13:30:00Z", rule="SENT-4", what="sent", in_utc=False)
    with fails("SENT-1", "written in UTC"):
        checks.check_same_instant("2021-04-29T08:30:00-05:00", "2021-04-29T13:30:00Z", rule="SENT-1", what="sent")

def _bundle(total, ids, relations):
    return {"resourceType": "Bundle", "type": "searchset", "total": total,
            "link": [{"relation": r, "url": f"{BASE}/Communication?{r}"} for r in relations],
            "entry": [{"resource": {"resourceType": "Communication", "id": i}} for i in ids]}


def test_searchset_and_page_links():
    total, found = checks.check_searchset(_bundle(3, ["a", "b"], ["self", "first", "next", "last"]))
    assert (total, [r["id"] for r in found]) == (3, ["a", "b"])
    checks.check_page_links(_bundle(3, ["a", "b"], ["self", "first", "next", "last"]), last_page=False)
    checks.check_page_links(_bundle(3, ["c"], ["self", "first", "prev", "last"]), last_page=True)
    with fails("FHIR-7", "'next'"):
        checks.check_page_links(_bundle(3, ["a", "b"], ["self", "first", "last"]), last_page=False)
    with fails("FHIR-7", "no 'next' link on the last page"):
        checks.check_page_links(_bundle(3, ["c"], ["self", "first", "next", "last"]), last_page=True)
    with fails("FHIR-7", "'last'"):
        checks.check_page_links(_bundle(3, ["c"], ["self", "first"]), last_page=True)
    for broken in ({"resourceType": "Bundle", "type": "collection", "total": 1},
                   {"resourceType": "Bundle", "type": "searchset"},
                   {"resourceType": "Bundle", "type": "searchset", "total": True},
                   {"resourceType": "OperationOutcome"}):
        with fails("FHIR-7"):
            checks.check_searchset(broken)


@pytest.mark.parametrize("content_type", ["application/fhir+json", "application/json; charset=utf-8",
                                          "Application/FHIR+JSON;charset=UTF-8"])
def test_json_media_types(content_type):
    checks.check_json_media_type(content_type)


@pytest.mark.parametrize("content_type", [None, "text/html", "application/xml", "application/fhir+xml"])
def test_json_media_type_failures(content_type):
    with fails("FHIR-8", "Content-Type"):
        checks.check_json_media_type(content_type)


def test_token_grant():
    good = {"access_token": "t", "token_type": "bearer", "expires_in": 36000, "scope": "system/Communication.write"}
    checks.check_token_grant(200, good)
    for change, shown in (({"token_type": "mac"}, "token_type"), ({"expires_in": 0}, "expires_in"),
                          ({"expires_in": None}, "expires_in"), ({"access_token": ""}, "access_token"),
                          ({"scope": None}, "scope")):
        with fails("FHIR-3", shown):
            checks.check_token_grant(200, {**good, **change})
    with fails("FHIR-3", "status 200"):
        checks.check_token_grant(401, {"error": "invalid_client"})


def test_counts_unchanged():
    checks.check_counts_unchanged({"all messages": 4}, {"all messages": 4}, rule="PAY-3")
    with fails("PAY-3", "all messages: 4 -> 5"):
        checks.check_counts_unchanged({"all messages": 4}, {"all messages": 5}, rule="PAY-3")


def test_not_a_server_error():
    checks.check_not_server_error(422)
    with fails("FHIR-2", "never a 5xx"):
        checks.check_not_server_error(500)


@pytest.mark.parametrize("got, says", [
    (checks.ABSENT, "expected a date-time in UTC: the instant 2021-04-29T14:00:00Z (given as 2021-04-29T10:00:00-04:00), "
                    "got no such element (absent)"),
    (None, "expected a date-time in UTC: the instant 2021-04-29T14:00:00Z (given as 2021-04-29T10:00:00-04:00), "
           "got null (the element is there, with no value)"),
    ("2021-04-29T13:30:00Z", "expected the instant 2021-04-29T14:00:00Z (given as 2021-04-29T10:00:00-04:00), "
                             "got '2021-04-29T13:30:00Z'"),
])
def test_an_instant_failure_quotes_the_expected_value_and_tells_absent_from_null(got, says):
    with pytest.raises(AssertionError) as failed:
        checks.check_same_instant(got, "2021-04-29T10:00:00-04:00", rule="RECV-1", what="the stored received")
    assert says in str(failed.value) and "such as" not in str(failed.value)


def test_a_window_failure_quotes_the_window():
    low = datetime(2022, 2, 10, 15, 0, tzinfo=timezone.utc)
    with pytest.raises(AssertionError) as failed:
        checks.check_within(checks.ABSENT, low, low + timedelta(seconds=10), rule="SENT-2", what="sent")
    assert "an instant between 2022-02-10T15:00:00+00:00 and 2022-02-10T15:00:10+00:00, got no such element" \
        in str(failed.value)
