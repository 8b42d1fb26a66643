"""retry.py: which answers are sent again, after how long, and when the harness gives up."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from canvas_conformance.config import for_suite, parse_max_wait, parse_retries
from canvas_conformance.retry import DEFAULT_MAX_WAIT, DEFAULT_RETRIES, RetryPolicy, retry_after_seconds

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@pytest.mark.parametrize("value, seconds", [
    ("0", 0.0), ("3", 3.0), (" 12 ", 12.0), ("120", 120.0),
    ("-1", None), ("1.5", None), ("soon", None), ("", None), (None, None), ("3 s", None),
])
def test_delay_seconds_are_whole_non_negative_numbers(value, seconds):
    assert retry_after_seconds(value, now=NOW) == seconds


def test_an_http_date_counts_from_the_answers_own_date_header():
    asked = http_date(NOW + timedelta(seconds=4))
    assert retry_after_seconds(asked, now=NOW) == 4.0
    # the target's clock is 10 minutes behind ours: its Date header says how long it meant
    behind = NOW - timedelta(minutes=10)
    assert retry_after_seconds(http_date(behind + timedelta(seconds=3)), date=http_date(behind), now=NOW) == 3.0


def test_an_http_date_already_past_means_no_wait():
    assert retry_after_seconds(http_date(NOW - timedelta(seconds=30)), now=NOW) == 0.0


def test_only_429_and_503_are_sent_again():
    policy = RetryPolicy()
    for status in (200, 201, 400, 401, 404, 500, 502, 504):
        assert not policy.decide(status, {"Retry-After": "1"}, 1).retry
    for status in (429, 503):
        decision = policy.decide(status, {"Retry-After": "2"}, 1)
        assert decision.retry and decision.wait_s == 2.0 and "Retry-After 2" in decision.why


def test_attempts_are_bounded():
    policy = RetryPolicy(retries=2, max_wait=5)
    assert [policy.decide(503, {"Retry-After": "0"}, n).retry for n in (1, 2, 3)] == [True, True, False]
    assert "still 503 after 3 attempts" in policy.decide(503, {}, 3).why
    never = RetryPolicy(retries=0)
    assert not never.decide(429, {"Retry-After": "0"}, 1).retry
    assert "still 429 after 1 attempt;" in never.decide(429, {}, 1).why


def test_a_wait_above_the_cap_is_not_shortened_but_given_up():
    decision = RetryPolicy(max_wait=5).decide(429, {"Retry-After": "30"}, 1)
    assert not decision.retry
    assert "Retry-After 30 s" in decision.why and "longer than the 5 s" in decision.why
    assert "--max-retry-wait" in decision.why
    at_cap = RetryPolicy(max_wait=5).decide(429, {"retry-after": "5"}, 1)  # header names are case-blind
    assert at_cap.retry and at_cap.wait_s == 5.0


def test_without_a_usable_retry_after_the_wait_doubles_up_to_the_cap():
    policy = RetryPolicy(retries=5, max_wait=3)
    assert [policy.decide(503, {}, n).wait_s for n in (1, 2, 3, 4)] == [1.0, 2.0, 3.0, 3.0]
    decision = policy.decide(503, {"Retry-After": "tomorrow"}, 1)
    assert decision.retry and decision.wait_s == 1.0 and "unreadable Retry-After 'tomorrow'" in decision.why


def test_an_http_date_retry_after_is_honoured_in_decisions():
    headers = {"Retry-After": http_date(NOW + timedelta(seconds=2)), "Date": http_date(NOW)}
    decision = RetryPolicy().decide(503, headers, 1)
    assert decision.retry and decision.wait_s == 2.0


def test_defaults_and_the_environment():
    assert for_suite({}).retry == RetryPolicy(DEFAULT_RETRIES, DEFAULT_MAX_WAIT) == RetryPolicy(2, 5.0)
    assert for_suite({"CANVAS_RETRIES": "0", "CANVAS_MAX_RETRY_WAIT": "0.5"}).retry == RetryPolicy(0, 0.5)
    with pytest.raises(ValueError, match="CANVAS_RETRIES 'many' must be a whole number from 0 to 10"):
        for_suite({"CANVAS_RETRIES": "many"})


@pytest.mark.parametrize("raw", ["-1", "11", "2.5", "x"])
def test_bad_retries_are_refused(raw):
    with pytest.raises(ValueError, match="--retries"):
        parse_retries(raw, "--retries")


@pytest.mark.parametrize("raw", ["-1", "301", "soon", "nan"])
def test_bad_max_waits_are_refused(raw):
    with pytest.raises(ValueError, match="--max-retry-wait"):
        parse_max_wait(raw, "--max-retry-wait")
