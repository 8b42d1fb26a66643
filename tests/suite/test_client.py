"""The recording client: one token per run, every request recorded under its name, secrets known."""
from __future__ import annotations

import pytest
import requests
import responses

from canvas_conformance.client import MAX_BODY_CHARS, Client, Evidence, ExchangeError, TokenError

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
