"""The recording client: one token per run, every request recorded under its name, secrets known."""
from __future__ import annotations

import pytest
import requests
import responses

from canvas_conformance import client as client_module
from canvas_conformance.client import MAX_BODY_CHARS, Client, Evidence, ExchangeError, NoAnswer, TokenError, why_no_answer

BASE = "https://target.test/fhir"


@responses.activate
def test_token_is_granted_once_and_every_request_recorded():
    grant = responses.post(f"{BASE}/auth/token/", json={"access_token": "tok-123456", "token_type": "Bearer",
                                                        "expires_in": 600, "scope": "x"})
    responses.get(f"{BASE}/Communication/abc", json={"resourceType": "Communication", "id": "abc"},
                  headers={"x-request-id": "req-9"})
    responses.post(f"{BASE}/Communication", status=201, headers={"Location": "Communication/n1",
                                                                 "fumage-correlation-id": "corr-1"})
    client = Client(BASE, client_id="cid", client_secret="sec-abcdef")
    client.evidence = Evidence()
    read = client.request("read one", "GET", "Communication/abc")
    made = client.request("create one", "POST", "/Communication", json_body={"resourceType": "Communication"},
                          content_type="application/json")
    assert grant.call_count == 1 and client.token_lifetime == 600
    assert read.json()["id"] == "abc" and made.status == 201
    names = [e.name for e in client.history]
    assert names == ["obtain a bearer token for the run", "read one", "create one"]
    assert [e.name for e in client.evidence.exchanges] == names
    token_request, got, created = client.history
    assert "client_secret=sec-abcdef" in token_request.request_body
    assert got.request_headers["Authorization"] == "Bearer tok-123456"
    assert got.correlation_id == "req-9" and created.correlation_id == "corr-1"
    assert created.request_headers["Content-Type"] == "application/json"
    assert created.url == f"{BASE}/Communication"
    assert set(client.secrets()) == {"sec-abcdef", "tok-123456"}
    assert "tok-123456" not in repr(got) and "tok-123456" not in repr(made)


@responses.activate
def test_a_given_token_is_used_as_is_and_a_request_can_go_without():
    seen = responses.get(f"{BASE}/Communication", json={"resourceType": "Bundle"})
    client = Client(BASE, token="ready-token")
    client.request("search", "GET", "Communication", params={"patient": "p1"})
    client.request("search without token", "GET", "Communication", authorize=False)
    client.request("search with another", "GET", "Communication", bearer="other-token")
    headers = [c.request.headers.get("Authorization") for c in seen.calls]
    assert headers == ["Bearer ready-token", None, "Bearer other-token"]
    assert client.history[0].url == f"{BASE}/Communication?patient=p1"
    assert client.secrets() == ("ready-token",)


@responses.activate
def test_refused_credentials_are_a_token_error():
    responses.post(f"{BASE}/auth/token/", status=401, json={"error": "invalid_client"})
    with pytest.raises(TokenError, match="refused the client credentials"):
        Client(BASE, client_id="cid", client_secret="wrong-secret").token()
    with pytest.raises(TokenError, match="no bearer token"):
        Client(BASE).token()


@responses.activate
def test_no_answer_is_recorded_and_raised_as_an_exchange_error():
    responses.get(f"{BASE}/Communication/slow", body=requests.Timeout("read timed out"))
    client = Client(BASE, token="t0ken", timeout=0.5)
    with pytest.raises(ExchangeError, match=r"read slow: GET .*: no answer within 0.5 s \(timeout\)"):
        client.request("read slow", "GET", "Communication/slow")
    (exchange,) = client.history
    assert exchange.status is None and exchange.response_body is None and "timeout" in exchange.error


@responses.activate
def test_large_bodies_are_clipped_in_evidence():
    responses.get(f"{BASE}/Communication", body="x" * (MAX_BODY_CHARS + 10))
    client = Client(BASE, token="t0ken")
    answer = client.request("big", "GET", "Communication")
    assert len(answer.text) == MAX_BODY_CHARS + 10
    assert client.history[0].response_body.endswith("[10 more characters not kept]")


WHY_NO_ANSWER = [
    (requests.ReadTimeout("read timed out"), "no answer within 2.5 s", "no answer within 2.5 s (timeout)"),
    (requests.ConnectTimeout("connect timed out"), "no answer within 2.5 s", "no answer within 2.5 s (timeout)"),
    (client_module._IncompleteAnswer("cut"), "no complete answer within 2.5 s",
     "no complete answer within 2.5 s (timeout: the body was still coming)"),
    (requests.ConnectionError("[Errno 111] Connection refused"), "connection refused (nothing listens there)",
     "connection failed: refused (nothing listens there)"),
    (requests.ConnectionError("('Connection aborted.', RemoteDisconnected('closed'))"),
     "the connection was closed without an answer", "connection failed: closed by the target without a complete answer"),
    (requests.ConnectionError("IncompleteRead(10 bytes read, 90 more expected)"),
     "the connection was closed without an answer", "connection failed: closed by the target without a complete answer"),
    (requests.exceptions.SSLError("certificate verify failed"), "TLS handshake failed (certificate or protocol)",
     "connection failed: TLS handshake failed (certificate or protocol)"),
    (requests.ConnectionError("NameResolutionError: Failed to resolve 'canvas.invalid'"), "host name not found",
     "connection failed: host name not found"),
    (requests.ConnectionError("Network is unreachable"), "the connection failed (refused, reset or unreachable)",
     "connection failed (refused, reset or unreachable)"),
    (requests.exceptions.MissingSchema("No scheme supplied"), "not a valid URL", "not a valid URL"),
    (requests.exceptions.InvalidURL("Failed to parse"), "not a valid URL", "not a valid URL"),
    (requests.TooManyRedirects("30 redirects"), "TooManyRedirects", "TooManyRedirects"),
]


@pytest.mark.parametrize("err, brief, detail", WHY_NO_ANSWER, ids=[type(e).__name__ + ": " + str(e)
                                                                  for e, _, _ in WHY_NO_ANSWER])
def test_why_no_answer_is_read_once_and_said_two_ways(err, brief, detail):
    assert why_no_answer(err, timeout=2.5) == NoAnswer(brief, detail)


@responses.activate
def test_an_exchange_error_carries_the_brief_why_apart_from_the_request():
    responses.post(f"{BASE}/Communication", body=requests.ReadTimeout("read timed out"))
    client = Client(BASE, token="ready-token", timeout=2.5)
    with pytest.raises(ExchangeError) as raised:
        client.request("create one", "POST", "Communication", json_body={})
    assert raised.value.why == "no answer within 2.5 s"
    assert str(raised.value) == (f"create one: POST {BASE}/Communication: no answer within 2.5 s (timeout); "
                                 "not sent again, as the target may have acted on it")


def test_a_path_that_is_no_url_is_an_exchange_error_and_nothing_is_sent():
    client = Client("not-a-url", token="ready-token")
    with pytest.raises(ExchangeError, match="^read: GET not-a-url/Communication/x: not a valid URL$"):
        client.request("read", "GET", "Communication/x")
    assert client.history == []


def test_overlapped_calls_keep_their_evidence_in_the_order_given_and_raise_the_first_failure():
    """Calls that finish in the reverse order still leave their notes in the order they were given;
    the first failing call (in that order) raises, after its own notes, and a later call's are not shown."""
    import threading
    import time

    client = Client("http://127.0.0.1:9")
    client.evidence = Evidence()
    threads = set()

    def call(n: int, fail: bool = False):
        def run():
            time.sleep((5 - n) / 200)  # the last given finishes first
            threads.add(threading.get_ident())
            client.note(f"call {n}")
            if fail:
                raise ValueError(f"call {n} failed")
            return n
        return run

    assert client.overlapped([call(n) for n in range(5)], at_once=5) == [0, 1, 2, 3, 4]
    assert client.evidence.notes == [f"call {n}" for n in range(5)] and len(threads) > 1
    client.evidence = Evidence()
    with pytest.raises(ValueError, match="call 2 failed"):
        client.overlapped([call(0), call(1), call(2, fail=True), call(3, fail=True), call(4)], at_once=5)
    assert client.evidence.notes == ["call 0", "call 1", "call 2"]
    client.evidence = Evidence()
    assert client.overlapped([call(0), call(1)], at_once=1) == [0, 1] and client.evidence.notes == ["call 0", "call 1"]
