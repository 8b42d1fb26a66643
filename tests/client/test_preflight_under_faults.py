"""Before a run: a target whose metadata hangs, drops or trickles, or whose token endpoint is busy.

The promise (README, exit codes): the run cannot start, so exit code 2 and one line on stderr,
within 30 s, never a secret, and no report folder.
"""
from __future__ import annotations

import subprocess
import time

import pytest
import requests
import responses

from canvas_conformance import preflight
from canvas_conformance.client import why_no_answer
from canvas_conformance.retry import RetryPolicy

from ..mock_helpers import CAPABILITIES
from .conftest import hang_on

PREFLIGHT_BOUND_S = 30  # the README's promise for "could not start"


def one_line(run) -> str:
    assert run.code == 2, (run.out, run.err)
    assert len(run.err_lines) == 1, run.err
    assert run.out == ""
    assert not run.report.exists()  # nothing is written for a run that never started
    return run.err_lines[0]


def run_within_bound(run_harness, target, *args):
    try:
        return run_harness(target, *args)
    except subprocess.TimeoutExpired:
        pytest.fail("the pre-flight did not give up in time")


def test_metadata_that_hangs_exits_2_in_one_line(serve, run_harness):
    target = serve(hang_on("/metadata"))
    run = run_within_bound(run_harness, target, "--timeout", "1")
    print(f"hanging /metadata, --timeout 1: exit 2 after {run.elapsed_s:.2f} s")
    assert run.elapsed_s < PREFLIGHT_BOUND_S
    line = one_line(run)
    assert line == f"canvas-conformance: cannot reach the target at {target.base_url}/metadata: no answer within 1 s"
    assert target.client_secret not in run.err


def test_metadata_that_drops_the_connection_exits_2_in_one_line(serve, run_harness):
    target = serve(FAULTS=[{"kind": "drop", "path": "/metadata"}])
    run = run_within_bound(run_harness, target)
    line = one_line(run)
    assert "cannot reach the target at" in line and "the connection was closed without an answer" in line
    assert target.client_secret not in run.err


def test_a_busy_token_endpoint_is_unavailable_not_refusing(serve, run_harness):
    target = serve(FAULTS=[{"kind": "503", "path": "/auth/token/", "retry_after": 0}])
    run = run_within_bound(run_harness, target, "--retries", "1")
    line = one_line(run)
    assert f"the token endpoint {target.base_url}/auth/token/ is unavailable: still 503 after 2 attempts" in line
    assert "refused" not in line and target.client_secret not in run.err


def creds(**policy) -> preflight.Credentials:
    return preflight.Credentials("http://127.0.0.1:5996", "http://127.0.0.1:5996/auth/token/", "me",
                                 "pre-flight-secret-0427", None, 5, RetryPolicy(**policy))


@responses.activate
def test_the_grant_is_asked_again_after_a_503(monkeypatch):
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)
    responses.get("http://127.0.0.1:5996/metadata", json=CAPABILITIES)
    responses.post("http://127.0.0.1:5996/auth/token/", status=503, headers={"Retry-After": "2"})
    responses.post("http://127.0.0.1:5996/auth/token/", json={"access_token": "probe-token-31337"})
    assert preflight.probe(creds()) == "probe-token-31337"
    assert waits == [2.0]


@responses.activate
def test_a_grant_asking_for_a_long_wait_is_not_waited_for(monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("no wait above the cap"))
    responses.get("http://127.0.0.1:5996/metadata", json=CAPABILITIES)
    responses.post("http://127.0.0.1:5996/auth/token/", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(preflight.Refusal, match="is unavailable: 429 with Retry-After 3600 s, longer than the 5 s"):
        preflight.probe(creds(max_wait=5))


def test_metadata_that_trickles_is_cut_off_by_the_whole_preflight_deadline(trickle_server):
    """Every byte comes within the read timeout, so only the overall deadline ends it."""
    target = trickle_server(body_bytes=200, interval_s=0.1)  # 20 s of body
    slow = preflight.Credentials(target.base_url, f"{target.base_url}/auth/token/", "me", "s3cret-value",
                                 None, 5)
    with pytest.raises(preflight.Refusal, match=r"did not answer the pre-flight checks within 1 s"):
        preflight.probe(slow, deadline_s=1)


def test_a_drop_is_described_as_one():
    err = requests.ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end closed connection'))")
    assert why_no_answer(err, timeout=10).brief == "the connection was closed without an answer"


def test_metadata_that_trickles_is_cut_off_at_the_runs_timeout(trickle_server):
    """The pre-flight's requests are the client's: its deadline on the whole answer holds there too."""
    target = trickle_server(body_bytes=200, interval_s=0.1)  # 20 s of body
    slow = preflight.Credentials(target.base_url, f"{target.base_url}/auth/token/", "me", "s3cret-value", None, 0.5)
    with pytest.raises(preflight.Refusal) as refused:
        preflight.probe(slow)
    assert str(refused.value) == (f"cannot reach the target at {target.base_url}/metadata: "
                                  "no complete answer within 0.5 s")


@responses.activate
def test_metadata_still_unavailable_is_said_to_be(monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda s: None)
    answered = responses.get("http://127.0.0.1:5996/metadata", status=503, headers={"Retry-After": "1"})
    with pytest.raises(preflight.Refusal) as refused:
        preflight.probe(creds(retries=1))
    assert str(refused.value) == ("the target at http://127.0.0.1:5996/metadata is unavailable: still 503 after "
                                  "2 attempts; the target is unavailable (see --retries)")
    assert answered.call_count == 2


@responses.activate
def test_a_dropped_grant_is_worded_by_the_client_without_the_exchange_detail():
    responses.get("http://127.0.0.1:5996/metadata", json=CAPABILITIES)
    responses.post("http://127.0.0.1:5996/auth/token/", body=requests.ConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"))
    with pytest.raises(preflight.Refusal) as refused:
        preflight.probe(creds())
    assert str(refused.value) == ("cannot reach the token endpoint http://127.0.0.1:5996/auth/token/: "
                                  "the connection was closed without an answer")


@responses.activate
def test_a_token_url_that_is_no_url_is_said_to_be_none():
    responses.get("http://127.0.0.1:5996/metadata", json=CAPABILITIES)
    odd = creds()._replace(token_url="token-endpoint")
    with pytest.raises(preflight.Refusal, match="^cannot reach the token endpoint token-endpoint: not a valid URL$"):
        preflight.probe(odd)


@responses.activate
def test_a_ready_token_is_checked_with_a_search_and_no_grant():
    search = responses.get("http://127.0.0.1:5996/Communication", status=401)
    responses.get("http://127.0.0.1:5996/metadata", json=CAPABILITIES)
    ready = creds()._replace(client_id=None, client_secret=None, token="ready-token-77")
    with pytest.raises(preflight.Refusal, match="refused the bearer token given with --token: HTTP 401"):
        preflight.probe(ready)
    (call,) = search.calls
    assert call.request.url == "http://127.0.0.1:5996/Communication?_count=1"
    assert call.request.headers["Authorization"] == "Bearer ready-token-77"
