"""Hostile clients of a shared mock (issue 14, items 9 to 12): each attack, bounded, and what it costs now.

Each test is the attack as a client on loopback sends it (a bounded number of requests, each with a
time-out), against the mock under waitress in a thread, or at the WSGI boundary where what the app
reads from the body has to be counted. The server runs in this process, so ``time.process_time``
around a request counts the server's CPU as well as the client's.
"""
from __future__ import annotations

import io
import json
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests

from mock_server import DEFAULTS, create_app
from mock_server.limits import PIECE
from mock_server.outcome import MAX_ISSUES

from ..mock_helpers import bearer, fetch_token

FHIR = {"Content-Type": "application/fhir+json"}
LIMIT = DEFAULTS["MAX_CONTENT_LENGTH"]


def is_outcome(answer: requests.Response, status: int, rule: str | None = None) -> dict:
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["resourceType"] == "OperationOutcome"
    if rule:
        assert any(i["diagnostics"].startswith(f"[{rule}]") for i in body["issue"]), body
    return body


# -- item 12: a bad create's cost is bounded --------------------------------------------------
@pytest.mark.parametrize("element", ["recipient", "payload"])
def test_a_body_with_30000_wrong_elements_costs_milliseconds_and_answers_kilobytes(threaded_mock, message, element):
    """Before: 1.4 s of CPU and a 5.5 MB answer listing 30,000 issues. Now: about 10 ms, 18 KB, 101 issues."""
    base, auth = threaded_mock()
    body = message()
    body[element] = [1] * 30_000
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) < LIMIT
    with requests.Session() as client:
        client.get(f"{base}/metadata", timeout=10)  # the connection, and the validators, are ready
        client.post(f"{base}/Communication", data=b'{"resourceType": "Communication"}', headers={**auth, **FHIR},
                    timeout=10)
        cpu = []
        for _ in range(3):
            started = time.process_time()
            answer = client.post(f"{base}/Communication", data=raw, headers={**auth, **FHIR}, timeout=30)
            cpu.append(time.process_time() - started)
    issues = is_outcome(answer, 400, "FHIR-1")["issue"]
    assert len(issues) == MAX_ISSUES + 1
    assert "more problems were found" in issues[-1]["diagnostics"]
    assert all(f"Communication.{element}[" in i["expression"][0] for i in issues[:-1])
    assert len(answer.content) < 32 * 1024
    assert min(cpu) < 0.25, cpu


def test_a_few_problems_are_all_listed_with_no_summary(api, message, outcome):
    body = message()
    body["recipient"] = [1] * MAX_ISSUES
    issues = outcome(api.create(body), 400, "FHIR-1")["issue"]
    assert len(issues) == MAX_ISSUES and not any("more problems" in i["diagnostics"] for i in issues)


# -- item 11: the clock cannot lock anyone out ------------------------------------------------
HOSTILE_CLOCKS = [
    '{"now": "9999-12-31T14:00:00Z"}', '{"now": "0001-01-01T00:00:00+14:00"}', '{"now": "1899-12-31T23:59:59Z"}',
    '{"now": "2201-01-01T00:00:00Z"}', '{"shift_seconds": 3e11}', '{"shift_seconds": -3e11}',
    '{"shift_seconds": 1e400}', '{"shift_seconds": NaN}', '{"shift_seconds": -Infinity}',
    '{"shift_seconds": ' + "9" * 400 + "}", '{"now": "2200-12-31T23:00:00Z", "shift_seconds": 7200}',
]


def test_no_clock_setting_locks_anyone_out(threaded_mock, message):
    """Before: after 9999-12-31 every token was expired and grants answered 500; after a shift of
    3e11 s every request that read the clock (the reset included) answered 500."""
    base, auth = threaded_mock()
    other = bearer(fetch_token(base))  # another client's token
    with requests.Session() as client:
        for setting in HOSTILE_CLOCKS:
            answer = client.put(f"{base}/_mock/clock", data=setting, headers={**auth, "Content-Type": "application/json"},
                                timeout=10)
            assert "range" in is_outcome(answer, 400, "FHIR-2")["issue"][0]["diagnostics"], setting
            clock = client.get(f"{base}/_mock/clock", headers=other, timeout=10).json()
            assert not clock["frozen"] and clock["offset_seconds"] == 0, setting  # refused: nothing changed
            assert client.post(f"{base}/auth/token/", data=_grant(), timeout=10).status_code == 200, setting
            assert client.get(f"{base}/metadata", timeout=10).status_code == 200, setting
            assert client.post(f"{base}/_mock/reset", headers=other, timeout=10).status_code == 200, setting
        created = client.post(f"{base}/Communication", json=message(), headers=other, timeout=10)
        assert created.status_code == 201


@pytest.mark.parametrize("setting", [{"now": "2200-12-31T23:59:59Z"}, {"now": "1900-01-01T00:00:00Z"},
                                     {"shift_seconds": DEFAULTS["TOKEN_LIFETIME"] + 60}])
def test_moving_the_clock_expires_only_the_movers_token(threaded_mock, message, setting):
    """Before: moving the clock past a token's lifetime expired every client's token at once."""
    base, mover = threaded_mock()
    other = bearer(fetch_token(base))
    with requests.Session() as client:
        assert client.put(f"{base}/_mock/clock", json=setting, headers=mover, timeout=10).status_code == 200
        assert client.post(f"{base}/Communication", json=message(), headers=other, timeout=10).status_code == 201
        assert client.get(f"{base}/Communication", headers=other, timeout=10).status_code == 200
        moved_on = "now" not in setting or setting["now"] > "2100"
        mover_create = client.post(f"{base}/Communication", json=message(), headers=mover, timeout=10)
        if moved_on:  # FHIR-3 is still testable: the mover's own token has expired on the moved clock
            is_outcome(mover_create, 401, "FHIR-3")
        else:
            assert mover_create.status_code == 201
        # A fresh grant works whatever the clock says, and so does the clock control with it.
        fresh = bearer(fetch_token(base))
        assert client.put(f"{base}/_mock/clock", json={"now": "2022-06-15T12:00:00Z"}, headers=fresh,
                          timeout=10).status_code == 200
        assert client.delete(f"{base}/_mock/clock", headers=bearer(fetch_token(base)), timeout=10).status_code == 200
        assert client.get(f"{base}/Communication", headers=mover, timeout=10).status_code == 200  # real time again


def test_a_huge_token_lifetime_still_grants(client_for):
    client, config = client_for({"TOKEN_LIFETIME": 10 ** 13})
    answer = client.post("/auth/token/", data=_grant(config))
    assert answer.status_code == 200
    assert client.get("/Communication", headers=bearer(answer.json["access_token"])).status_code == 200


@pytest.fixture
def client_for():
    def make(config: dict):
        app = create_app({"DATABASE": ":memory:", **config})
        return app.test_client(), app.config
    return make


def _grant(config=DEFAULTS) -> dict:
    return {"grant_type": "client_credentials", "client_id": config["CLIENT_ID"], "client_secret": config["CLIENT_SECRET"]}


# -- item 10: text that is no Unicode text is refused, naming the element ------------------------
@pytest.mark.parametrize("escape, where", [
    ("\\ud800", "Communication.payload[0].contentString"), ("x\\udfffy", "Communication.payload[0].contentString"),
    ("\\ude00\\ud83d", "Communication.payload[0].contentString"), ("\\u0000", "Communication.payload[0].contentString"),
    ("tab\\u001b", "Communication.payload[0].contentString"),
])
def test_a_lone_surrogate_or_control_character_is_refused_naming_the_element(threaded_mock, message, escape, where):
    """Before: accepted (201), and from then on the patient's chart answered 500 until a reset."""
    base, auth = threaded_mock()
    raw = json.dumps(message()).replace('"contentString": "', f'"contentString": "{escape}', 1).encode()
    with requests.Session() as client:
        answer = client.post(f"{base}/Communication", data=raw, headers={**auth, **FHIR}, timeout=10)
        issue = is_outcome(answer, 400, "FHIR-1")["issue"][0]
        assert issue["expression"] == [where]
        assert client.get(f"{base}/_mock/communications", headers=auth, timeout=10).json()["total"] == 0


def test_a_surrogate_in_an_ignored_element_or_a_name_is_refused_too(api, message, outcome):
    raw = json.dumps({**message(), "note": [{"text": "\ud800"}], "x\udfff": 1})
    issues = outcome(api.create(raw.encode()), 400, "FHIR-1")["issue"]
    assert {e for i in issues for e in i["expression"]} == {"Communication.note[0].text", "Communication"}


def test_escaped_text_that_is_real_unicode_is_kept(api, message):
    raw = json.dumps(message()).replace('"contentString": "', '"contentString": "\\ud83d\\ude00 \\u00e9\\t', 1)
    assert api.created(raw.encode())["payload"][0]["contentString"].startswith("\U0001F600 \u00e9\t")


# -- item 9: a body over the limit is refused before it is read ---------------------------------
class EndlessBody(io.RawIOBase):
    """A client that never stops sending: every read is answered in full; counts what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        buffer[:] = b"x" * len(buffer)
        self.read_bytes += len(buffer)
        return len(buffer)


def call_wsgi(app, method: str, path: str, environ: dict) -> tuple[str, dict, bytes]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    base = {"REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "mock.test", "SERVER_PORT": "80",
            "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(), "CONTENT_TYPE": "application/fhir+json",
            "SERVER_PROTOCOL": "HTTP/1.1"}
    body = b"".join(app(base | environ, start_response))
    return seen["status"], seen["headers"], body


ROUTES = [("POST", "/Communication"), ("GET", "/metadata"), ("POST", "/auth/token/"), ("PUT", "/_mock/clock"),
          ("POST", "/sign-in"), ("POST", "/nowhere")]


@pytest.mark.parametrize("method, path", ROUTES)
def test_a_declared_gigabyte_is_refused_unread_on_every_route(method, path):
    """Before: 401, 200, 400, 404... depending on the route, while the body stayed on the wire to be drained."""
    app = create_app({"DATABASE": ":memory:"})
    stream = EndlessBody()
    status, headers, body = call_wsgi(app, method, path, {"CONTENT_LENGTH": str(10 ** 9), "wsgi.input": stream})
    assert status.startswith("413")
    assert json.loads(body)["issue"][0]["diagnostics"].startswith("[FHIR-2]")
    assert stream.read_bytes == 0


@pytest.mark.parametrize("method, path", ROUTES)
def test_an_endless_body_of_no_declared_length_is_read_only_to_the_limit(method, path):
    """A server that de-chunks (``wsgi.input_terminated``) hands the app an endless stream."""
    app = create_app({"DATABASE": ":memory:"})
    stream = EndlessBody()
    status, headers, body = call_wsgi(app, method, path, {"wsgi.input": stream, "wsgi.input_terminated": True})
    assert status.startswith("413")
    assert json.loads(body)["resourceType"] == "OperationOutcome"
    assert LIMIT < stream.read_bytes <= LIMIT + PIECE


def test_a_body_of_no_declared_length_within_the_limit_is_served(message):
    app = create_app({"DATABASE": ":memory:"})
    token = app.test_client().post("/auth/token/", data=_grant()).json["access_token"]
    raw = json.dumps(message()).encode()
    status, headers, _ = call_wsgi(app, "POST", "/Communication", {
        "wsgi.input": io.BytesIO(raw), "wsgi.input_terminated": True, "HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert status.startswith("201") and headers["Location"]


@pytest.mark.parametrize("declared", ["abc", "-1", "1e9", "１２"])
def test_a_content_length_that_is_no_number_is_400(declared):
    app = create_app({"DATABASE": ":memory:"})
    status, _, body = call_wsgi(app, "POST", "/Communication", {"CONTENT_LENGTH": declared,
                                                                "wsgi.input": EndlessBody()})
    assert status.startswith("400") and json.loads(body)["resourceType"] == "OperationOutcome"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_a_declared_gigabyte_is_answered_before_the_body_is_sent(message):
    """On a server that streams the body to the app (the standard library's), the client that
    declares 1 GB and waits (as ``Expect: 100-continue`` clients do) hears 413 at once, with no token."""
    import socket

    app = create_app({"DATABASE": ":memory:"})
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    server.timeout = 0.5
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        with socket.create_connection(server.server_address, timeout=5) as sock:
            sock.sendall(b"POST /Communication HTTP/1.1\r\nHost: mock\r\nContent-Type: application/fhir+json\r\n"
                         b"Content-Length: 1000000000\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                piece = sock.recv(65536)
                if not piece:
                    break
                answer += piece
        assert answer.split(b"\r\n", 1)[0].endswith(b"413 REQUEST ENTITY TOO LARGE"), answer[:200]
    finally:
        thread.join(timeout=10)
        server.server_close()
