"""The recording client against answers that are not answers: 429/503 with Retry-After, drops, hangs.

``responses`` plays the target; the client's ``sleep`` is replaced by a list that records the
waits, so the waits are checked without being spent.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
import responses

from canvas_conformance.client import GIVE_UP_AFTER, Client, Evidence, ExchangeError, TargetUnavailable
from canvas_conformance.retry import RetryPolicy

BASE = "https://target.test/fhir"


def client(**options) -> tuple[Client, list[float]]:
    waits: list[float] = []
    made = Client(BASE, token="t0ken-for-tests", sleep=waits.append, **options)
    made.evidence = Evidence()
    return made, waits


@responses.activate
def test_a_503_is_sent_again_after_its_retry_after_and_each_attempt_is_evidence(message):
    responses.post(f"{BASE}/Communication", status=503, headers={"Retry-After": "2"},
                   json={"resourceType": "OperationOutcome", "issue": [{"code": "transient"}]})
    responses.post(f"{BASE}/Communication", status=201, headers={"Location": "Communication/n1"})
    made, waits = client()
    answer = made.request("create message", "POST", "Communication", json_body=message())
    assert answer.status == 201
    assert waits == [2.0]
    names = [(e.name, e.status) for e in made.evidence.exchanges]
    assert names == [("create message (attempt 1)", 503), ("create message (attempt 2)", 201)]
    first, second = made.evidence.exchanges
    assert first.request_body == second.request_body  # the same create, sent again
    assert first.response_headers["Retry-After"] == "2"
    assert made.evidence.notes == ["create message (attempt 1): 503 with Retry-After 2: sent again after 2 s"]
    assert answer.exchange is second


@responses.activate
def test_an_http_date_retry_after_is_waited_for():
    now = datetime.now(timezone.utc).replace(microsecond=0)
    responses.get(f"{BASE}/Communication", status=429, headers={
        "Retry-After": format_datetime(now + timedelta(seconds=3), usegmt=True),
        "Date": format_datetime(now, usegmt=True)})
    responses.get(f"{BASE}/Communication", json={"resourceType": "Bundle", "total": 0})
    made, waits = client()
    assert made.request("count", "GET", "Communication").status == 200
    assert waits == [3.0]


@responses.activate
def test_still_unavailable_after_the_last_attempt_is_target_unavailable():
    answered = responses.get(f"{BASE}/Communication", status=503, headers={"Retry-After": "1"})
    made, waits = client(retry=RetryPolicy(retries=2, max_wait=5))
    with pytest.raises(TargetUnavailable, match=r"count \(attempt 3\): GET .*: still 503 after 3 attempts"):
        made.request("count", "GET", "Communication")
    assert answered.call_count == 3 and waits == [1.0, 1.0]
    assert [e.name for e in made.history] == ["count (attempt 1)", "count (attempt 2)", "count (attempt 3)"]
    assert all(e.status == 503 and e.error is None for e in made.history)


@responses.activate
def test_a_retry_after_above_the_cap_is_not_waited_for_at_all():
    answered = responses.post(f"{BASE}/Communication", status=429, headers={"Retry-After": "60"})
    made, waits = client(retry=RetryPolicy(retries=2, max_wait=5))
    with pytest.raises(TargetUnavailable, match="Retry-After 60 s, longer than the 5 s"):
        made.request("create message", "POST", "Communication", json_body={})
    assert answered.call_count == 1 and waits == []
    assert [e.name for e in made.history] == ["create message"]  # one attempt: no number


@responses.activate
def test_no_retries_when_told_so():
    answered = responses.get(f"{BASE}/Communication", status=503)
    made, waits = client(retry=RetryPolicy(retries=0))
    with pytest.raises(TargetUnavailable, match="still 503 after 1 attempt"):
        made.request("count", "GET", "Communication")
    assert answered.call_count == 1 and waits == []


@responses.activate
@pytest.mark.parametrize("status", [500, 502, 504, 400])
def test_other_errors_are_answers_for_the_checks_and_never_sent_again(status):
    answered = responses.post(f"{BASE}/Communication", status=status, body="<html>oops</html>",
                              content_type="text/html", headers={"Retry-After": "1"})
    made, waits = client()
    answer = made.request("create message", "POST", "Communication", json_body={})
    assert answer.status == status and answer.text == "<html>oops</html>"
    assert answered.call_count == 1 and waits == []


@responses.activate
def test_a_dropped_create_is_never_sent_again():
    dropped = responses.post(f"{BASE}/Communication", body=requests.ConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"))
    made, waits = client()
    with pytest.raises(ExchangeError, match="closed by the target without a complete answer; not sent again") as raised:
        made.request("create message", "POST", "Communication", json_body={})
    assert not isinstance(raised.value, TargetUnavailable)
    assert dropped.call_count == 1 and waits == []
    (exchange,) = made.history
    assert exchange.name == "create message" and exchange.status is None
    assert "may have acted on it" in exchange.error


@responses.activate
def test_a_dropped_read_is_an_error_too_and_not_sent_again():
    dropped = responses.get(f"{BASE}/Communication/x", body=requests.ConnectionError("Connection aborted."))
    made, _ = client()
    with pytest.raises(ExchangeError, match="closed by the target") as raised:
        made.request("read", "GET", "Communication/x")
    assert "not sent again" not in str(raised.value)  # nothing to warn about for a read
    assert dropped.call_count == 1


@responses.activate
def test_a_timeout_is_never_sent_again():
    slow = responses.post(f"{BASE}/Communication", body=requests.ReadTimeout("read timed out"))
    made, waits = client(timeout=0.5)
    with pytest.raises(ExchangeError, match=r"no answer within 0.5 s \(timeout\)"):
        made.request("create message", "POST", "Communication", json_body={})
    assert slow.call_count == 1 and waits == []


@responses.activate
def test_after_three_requests_in_a_row_get_no_answer_the_rest_are_not_sent():
    silent = responses.get(f"{BASE}/Communication", body=requests.ReadTimeout("read timed out"))
    made, _ = client(timeout=0.5)
    for _ in range(GIVE_UP_AFTER):
        with pytest.raises(ExchangeError, match="no answer within"):
            made.request("count", "GET", "Communication")
    with pytest.raises(ExchangeError, match=r"not sent, the target stopped answering \(3 requests in a row"):
        made.request("count again", "GET", "Communication")
    assert silent.call_count == GIVE_UP_AFTER
    assert [e.name for e in made.history] == ["count"] * GIVE_UP_AFTER  # nothing recorded as sent
    assert made.evidence.notes[-1] == "count again: not sent: the target gave no answer to the last 3 requests"


@responses.activate
def test_one_answer_between_silences_starts_the_count_again():
    responses.get(f"{BASE}/Communication", body=requests.ConnectionError("Connection refused"))
    responses.get(f"{BASE}/Communication", body=requests.ConnectionError("Connection refused"))
    responses.get(f"{BASE}/Communication", json={"resourceType": "Bundle", "total": 0})
    made, _ = client()
    outcomes = []
    for _ in range(5):
        try:
            outcomes.append(made.request("count", "GET", "Communication").status)
        except ExchangeError:
            outcomes.append("no answer")
    # responses repeats its last registration: the run never went silent three times in a row
    assert outcomes == ["no answer", "no answer", 200, 200, 200]


@responses.activate
def test_the_token_grant_is_retried_on_503_too():
    responses.post(f"{BASE}/auth/token/", status=503, headers={"Retry-After": "0"})
    responses.post(f"{BASE}/auth/token/", json={"access_token": "granted-token-1234", "expires_in": 60})
    responses.get(f"{BASE}/Communication", json={"resourceType": "Bundle"})
    waits: list[float] = []
    made = Client(BASE, client_id="cid", client_secret="sec-abcdef", sleep=waits.append)
    made.request("count", "GET", "Communication")
    assert [e.name for e in made.history] == ["obtain a bearer token for the run (attempt 1)",
                                             "obtain a bearer token for the run (attempt 2)", "count"]
    assert waits == [0.0] and "granted-token-1234" in made.secrets()


@pytest.mark.parametrize("interval_s", [
    pytest.param(0.1, id="trickling: each byte well within the timeout, 10 s in all"),
    pytest.param(30.0, id="stalled: headers, then nothing"),
])
def test_a_body_that_does_not_come_whole_ends_at_the_timeout(trickle_server, interval_s):
    """A trickle never trips requests' per-read timeout; only a deadline on the whole answer stops it."""
    target = trickle_server(body_bytes=100, interval_s=interval_s)
    made = Client(target.base_url, token="t0ken-for-tests", timeout=0.5)
    with pytest.raises(ExchangeError, match=r"no complete answer within 0.5 s") as raised:
        made.request("read slowly", "GET", "Communication/x")
    assert not isinstance(raised.value, TargetUnavailable)
    (exchange,) = made.history
    assert exchange.status is None and "the body was still coming" in exchange.error
    made.close()
