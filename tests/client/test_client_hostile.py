"""The recording client against hostile answers, on loopback (hostile.py's ``Front``) or ``responses``.

Each test is one rule of the client's at its own depth: credentials only to the base URL's
origin and never across a redirect, nothing added by ``requests`` from a URL or ``~/.netrc``,
every answer bounded in size after decoding and in time with its headers, and numbers
from a target read sanely.
"""
from __future__ import annotations

import gzip
import json
import time
import zlib

import pytest
import responses

from canvas_conformance.client import Client, Evidence, ExchangeError, TargetUnavailable, origin
from canvas_conformance.retry import RetryPolicy

from .hostile import Front, endless_body, gzip_bomb, raw_answer, slow_headers

TOKEN = "bearer-for-hostile-tests-7d2c"
MIB = 1024 * 1024



def ok_json(body: bytes = b'{"resourceType": "Bundle"}', extra: bytes = b""):
    return raw_answer(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nConnection: close\r\n"
                      b"Content-Length: %d" % len(body) + extra, body)


def test_origins_compare_scheme_host_and_port_with_the_default_port_filled_in():
    assert origin("http://Target.test/fhir") == origin("http://target.test:80/other") == ("http", "target.test", 80)
    assert origin("https://target.test/") == ("https", "target.test", 443)
    assert origin("https://target.test:8443/") != origin("https://target.test/")
    assert origin("ftp://target.test/") is None and origin("http://target.test:99999/") is None


def test_the_bearer_token_and_any_request_stay_on_the_base_urls_origin(fronts):
    target = fronts(None, lambda seen: ok_json())
    other = fronts(None, lambda seen: ok_json())
    client = Client(target.base_url, token=TOKEN, timeout=5)
    client.evidence = Evidence()
    assert client.request("page 1", "GET", "Communication").status == 200
    for elsewhere in (f"{other.base_url}/Communication?page=2",  # another port: another origin
                      target.base_url.replace("http://", "https://") + "/Communication"):
        with pytest.raises(ExchangeError, match="not sent: .* is not on the target's origin"):
            client.request("page 2", "GET", elsewhere)
    with pytest.raises(ExchangeError, match="not sent: the URL holds a user name or password") as raised:
        client.request("page 2", "GET", f"http://someone:pw-in-url-1@{target.base_url.removeprefix('http://')}/x")
    assert "pw-in-url-1" not in str(raised.value)
    assert not client.on_target(f"http://someone:pw-in-url-1@{target.base_url.removeprefix('http://')}/x")
    assert other.seen == []
    assert [s.headers.get("authorization") for s in target.seen] == [f"Bearer {TOKEN}"]
    assert "pw-in-url-1" not in " ".join(client.evidence.notes)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_answer_and_is_never_followed(fronts, status):
    other = fronts(None, lambda seen: ok_json())
    target = fronts(None, lambda seen: raw_answer(b"HTTP/1.1 %d Moved\r\nLocation: %s/auth/token/\r\nContent-Length: 0\r\n"
                                            b"Connection: close" % (status, other.base_url.encode())))
    client = Client(target.base_url, client_id="me", client_secret="secret-not-to-travel-9e1", timeout=5)
    assert client.grant("grant").status == status
    assert client.request("read", "GET", "Communication/1", authorize=False).status == status
    assert other.seen == []
    assert len(target.seen) == 2


def test_requests_adds_no_credentials_of_its_own_from_netrc(fronts, tmp_path, monkeypatch):
    target = fronts(None, lambda seen: ok_json())
    host = target.base_url.removeprefix("http://").split(":")[0]
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {host} login someone password netrc-password-4a1\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = Client(target.base_url, token=TOKEN, timeout=5)
    client.request("read", "GET", "Communication/1")
    client.request("read without token", "GET", "Communication/1", authorize=False)
    assert [s.headers.get("authorization") for s in target.seen] == [f"Bearer {TOKEN}", None]


def test_a_gzip_bomb_is_cut_at_the_bound_after_decoding(fronts):
    target = fronts(None, lambda seen: gzip_bomb(256 * MIB))
    client = Client(target.base_url, token=TOKEN, timeout=10, max_answer_bytes=MIB)
    with pytest.raises(ExchangeError, match=f"the answer is larger than {MIB} bytes"):
        client.request("metadata", "GET", "metadata", authorize=False)
    (kept,) = client.history
    assert kept.status is None and kept.response_body is None


@pytest.mark.parametrize("coding, compress", [
    ("gzip", gzip.compress), ("deflate", zlib.compress),
    ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
])
def test_a_compressed_answer_within_the_bound_reads_as_its_text(fronts, coding, compress):
    body = json.dumps({"resourceType": "Bundle", "total": 3, "pad": "x" * 200_000}).encode()
    squeezed = compress(body)
    target = fronts(None, lambda seen: ok_json(squeezed, b"\r\nContent-Encoding: " + coding.encode()))
    client = Client(target.base_url, token=TOKEN, timeout=10, max_answer_bytes=len(body))
    answer = client.request("search", "GET", "Communication")
    assert answer.json()["total"] == 3 and len(answer.text) == len(body)
    assert target.seen[0].headers["accept-encoding"] == "gzip, deflate"


def test_an_endless_answer_is_cut_at_the_bound(fronts):
    target = fronts(None, lambda seen: endless_body(64 * MIB))
    client = Client(target.base_url, token=TOKEN, timeout=10, max_answer_bytes=MIB)
    started = time.monotonic()
    with pytest.raises(ExchangeError, match=f"the answer is larger than {MIB} bytes"):
        client.request("metadata", "GET", "metadata")
    assert time.monotonic() - started < 5


def test_headers_a_byte_at_a_time_end_at_the_timeout(fronts):
    target = fronts(None, lambda seen: slow_headers(0.1, most_s=10))
    client = Client(target.base_url, token=TOKEN, timeout=1)
    started = time.monotonic()
    with pytest.raises(ExchangeError, match=r"answer within 1 s"):
        client.request("read", "GET", "Communication/1")
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("length", [b"-5", b"abc", b"99999999999999999999999"])
def test_a_content_length_that_is_no_length_is_no_answer_not_a_crash(fronts, length):
    target = fronts(None, lambda seen: raw_answer(b"HTTP/1.1 200 OK\r\nContent-Length: " + length
                                            + b"\r\nConnection: close", b"{}"))
    client = Client(target.base_url, token=TOKEN, timeout=2)
    try:
        answer = client.request("read", "GET", "Communication/1")
    except ExchangeError:
        return
    assert answer.status == 200 and len(answer.text) <= 2


@responses.activate
@pytest.mark.parametrize("expires_in", ["NaN", "Infinity", "-Infinity", "1e400", "-5", "true", "1e12", '"3600"'])
def test_an_expires_in_that_is_no_lifetime_is_ignored(expires_in):
    responses.post("https://target.test/auth/token/", status=200, content_type="application/json",
                   body='{"access_token": "granted-token-1234", "expires_in": %s}' % expires_in)
    client = Client("https://target.test", client_id="me", client_secret="s3cret-abcd")
    assert client.token() == "granted-token-1234"
    assert client.token_lifetime is None


@responses.activate
def test_a_sane_expires_in_is_kept():
    responses.post("https://target.test/auth/token/", json={"access_token": "granted-token-1234", "expires_in": 3600})
    client = Client("https://target.test", client_id="me", client_secret="s3cret-abcd")
    client.token()
    assert client.token_lifetime == 3600


@responses.activate
@pytest.mark.parametrize("retry_after", ["9" * 400, "9" * 5000, "²"])
def test_a_retry_after_of_any_length_or_digit_is_read_not_crashed_on(retry_after):
    responses.get("https://target.test/Communication", status=503, headers={"Retry-After": retry_after})
    client = Client("https://target.test", token=TOKEN, sleep=lambda s: None, retry=RetryPolicy(1, 5))
    with pytest.raises(TargetUnavailable):
        client.request("search", "GET", "Communication")
