"""fastpath.py answers create, read and search outside Flask's dispatch: these tests hold every answer
equal, byte for byte (status line, headers in order, body), to what Flask's own dispatch gives for the
same request on the same data, in both profiles: successes, refusals, unexpected errors, and the
requests the fast path leaves to Flask (HEAD, OPTIONS, cookies, trailing slashes, odd bodies).

Only what differs between any two answers is set aside: the correlation id's value (its form is
compared) and, for creates, the new message's id.
"""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.urls import iri_to_uri

from mock_server import create_app
from mock_server.fastpath import FastRoutes
from mock_server.outcome import CORRELATION_HEADER, uri

from ..mock_helpers import token_from

PROFILES = ("canvas-2022", "canvas-current")
ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _fast(app) -> FastRoutes:
    layer = app.wsgi_app
    while not isinstance(layer, FastRoutes):
        layer = layer.wsgi_app
    return layer


class Mock:
    """An app whose answers can be taken through the fast path or through Flask alone."""

    def __init__(self, profile: str, config: dict | None = None) -> None:
        self.app = create_app({"DATABASE": ":memory:", "PROFILE": profile, **(config or {})})
        self.fast = _fast(self.app)
        client = self.app.test_client()
        self.token = token_from(client, self.app.config)
        freeze = client.put("/_mock/clock", json={"now": "2022-02-10T15:04:00Z"},
                            headers={"Authorization": f"Bearer {self.token}"})
        assert freeze.status_code == 200
        self.flask_calls = 0
        inner = self.fast.wsgi_app

        def counted(environ, start_response):
            self.flask_calls += 1
            return inner(environ, start_response)

        self.fast.wsgi_app = counted

    def answer(self, *, fast: bool, **options) -> tuple[str, list, bytes]:
        """(status line, header list, body) of one request built by EnvironBuilder(**options)."""
        self.fast._checked = None if fast else False  # False: every request goes to Flask
        environ = EnvironBuilder(**options).get_environ()
        started = []
        body = self.app(environ, lambda status, headers, exc_info=None: started.append((status, headers)))
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        (status, headers), = started
        return status, list(headers), data

    def both(self, **options) -> tuple[tuple, tuple]:
        """The request answered through Flask, then through the fast path, each made comparable."""
        return _comparable(self.answer(fast=False, **options)), _comparable(self.answer(fast=True, **options))


def _comparable(answer: tuple[str, list, bytes]) -> tuple:
    status, headers, body = answer
    kept = []
    for name, value in headers:
        if name == CORRELATION_HEADER:
            value = ID.sub("<id>", value) if ID.fullmatch(value) else re.sub("[0-9a-f]", "h", value)
        elif name == "Location":
            value = ID.sub("<id>", value)
        kept.append((name, value))
    return status, kept, ID.sub("<id>", body.decode("latin-1")) if status.startswith("201") else body


@pytest.fixture(params=PROFILES)
def mock(request):
    return Mock(request.param, {"BASE_URL": "http://mock.test"})


def _auth(mock) -> dict:
    return {"Authorization": f"Bearer {mock.token}"}


def _create(mock, body, **extra) -> dict:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return dict(path="/Communication", method="POST", data=data, content_type="application/fhir+json",
                headers={**_auth(mock), **extra.pop("headers", {})}, **extra)


def _body(mock, message, name="practitioner_to_patient") -> dict:
    body = message(name)
    if mock.app.config["PROFILE"] == "canvas-current":
        body["status"] = "completed"
        for payload in body.get("payload", []):
            if "content" in payload:
                payload["contentString"] = payload.pop("content")
    return body


def test_a_create_is_answered_alike_and_the_fast_path_takes_it(mock, message):
    flask, fast = mock.both(**_create(mock, _body(mock, message)))
    assert flask == fast and flask[0] == "201 CREATED"
    before = mock.flask_calls
    mock.answer(fast=True, **_create(mock, _body(mock, message)))
    assert mock.flask_calls == before  # answered without Flask's dispatch


@pytest.mark.parametrize("case", ["no token", "unknown token", "basic", "text/plain", "no type", "not json",
                                  "empty", "not utf-8", "array", "deep", "control char", "unknown patient",
                                  "same kinds", "no text", "wrong resourceType", "missing everything"])
def test_every_refused_create_is_answered_alike(mock, message, case):
    body = _body(mock, message)
    options = _create(mock, body)
    if case == "no token":
        options["headers"] = {}
    elif case == "unknown token":
        options["headers"] = {"Authorization": "Bearer nope"}
    elif case == "basic":
        options["headers"] = {"Authorization": "Basic eDp5"}
    elif case == "text/plain":
        options["content_type"] = "text/plain"
    elif case == "no type":
        options.pop("content_type")
    elif case == "not json":
        options["data"] = "{nope"
    elif case == "empty":
        options["data"] = "  "
    elif case == "not utf-8":
        options["data"] = b'{"a": "\xff"}'
    elif case == "array":
        options["data"] = "[]"
    elif case == "deep":
        options["data"] = "[" * 40 + "]" * 40
    elif case == "control char":
        options["data"] = json.dumps({**body, "note": "a\u0001b"})
    elif case == "unknown patient":
        body["recipient"] = [{"reference": "Patient/nobody"}]
        options["data"] = json.dumps(body)
    elif case == "same kinds":
        body["recipient"] = [dict(body["sender"])]
        options["data"] = json.dumps(body)
    elif case == "no text":
        body["payload"] = [{"contentString": " "}]
        options["data"] = json.dumps(body)
    elif case == "wrong resourceType":
        options["data"] = json.dumps({**body, "resourceType": "Patient"})
    elif case == "missing everything":
        options["data"] = json.dumps({"resourceType": "Communication", "sent": "yesterday"})
    flask, fast = mock.both(**options)
    assert flask == fast
    assert flask[0][:3] in ("400", "401", "415", "422"), flask


@pytest.mark.parametrize("case", ["declared too long", "length not a number", "body shorter than declared",
                                  "chunked", "cookie", "trailing slash", "HEAD search", "OPTIONS", "PUT"])
def test_requests_left_to_flask_are_answered_alike(mock, message, case):
    body = json.dumps(_body(mock, message)).encode()
    options = _create(mock, body)
    if case == "declared too long":
        options["environ_overrides"] = {"CONTENT_LENGTH": str(10**6)}
    elif case == "length not a number":
        options["environ_overrides"] = {"CONTENT_LENGTH": "12a"}
    elif case == "body shorter than declared":
        options["environ_overrides"] = {"CONTENT_LENGTH": str(len(body) + 10)}
    elif case == "chunked":
        options["environ_overrides"] = {"HTTP_TRANSFER_ENCODING": "chunked"}
    elif case == "cookie":
        options["headers"]["Cookie"] = "session=whatever"
    elif case == "trailing slash":
        options["path"] = "/Communication/"
    elif case == "HEAD search":
        options = dict(path="/Communication", method="HEAD", headers=_auth(mock))
    elif case == "OPTIONS":
        options = dict(path="/Communication", method="OPTIONS", headers=_auth(mock))
    elif case == "PUT":
        options["method"] = "PUT"
    flask, fast = mock.both(**options)
    assert flask == fast


def test_an_unexpected_error_is_answered_alike(mock, message, monkeypatch):
    store = mock.app.extensions["mock_store"]

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "insert_communication", broken)
    monkeypatch.setattr(store, "communication_json", broken)
    monkeypatch.setattr(store, "search_communication_json", broken)
    for options in (_create(mock, _body(mock, message)), dict(path="/Communication/x", headers=_auth(mock)),
                    dict(path="/Communication", headers=_auth(mock))):
        flask, fast = mock.both(**options)
        assert flask == fast and flask[0].startswith("500")


def test_plain_reads_and_searches_are_taken_by_the_fast_path(mock, message):
    mock.answer(fast=True, **_create(mock, _body(mock, message)))
    before = mock.flask_calls
    found = json.loads(mock.answer(fast=True, path="/Communication", query_string="_count=1", headers=_auth(mock))[2])
    status, _, _ = mock.answer(fast=True, path=f"/Communication/{found['entry'][0]['resource']['id']}",
                               headers=_auth(mock))
    assert status == "200 OK" and mock.flask_calls == before


def test_reads_are_answered_alike(mock, message):
    mock.answer(fast=True, **_create(mock, _body(mock, message)))
    found = json.loads(mock.answer(fast=True, path="/Communication", headers=_auth(mock))[2])
    message_id = found["entry"][0]["resource"]["id"]
    for path in (f"/Communication/{message_id}", "/Communication/missing", "/Communication/caf\u00e9",
                 f"/Communication/{message_id}/", f"/Communication/{message_id}/_history/1",
                 f"/Communication/{message_id}/_history/9"):
        for headers in (_auth(mock), {}):
            flask, fast = mock.both(path=path, headers=headers)
            assert flask == fast, path


@pytest.mark.parametrize("query", ["", "_count=0", "_count=1", "_count=2&_offset=1", "_count=1&_offset=3",
                                   "patient=Patient/5350cd20de8a470aa570a852859ac87e", "patient=nobody",
                                   "sender=Practitioner/x&recipient=y", "_id=abc", "_count=x", "colour=red",
                                   "patient=a/b", "_count=1000", "patient=caf%C3%A9", "patient=%FF", "patient=",
                                   "_count=3&_count=1"])
def test_searches_are_answered_alike(mock, message, query):
    for _ in range(3):
        mock.answer(fast=True, **_create(mock, _body(mock, message)))
    flask, fast = mock.both(path="/Communication", query_string=query, headers=_auth(mock))
    assert flask == fast


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("base", ["http://localhost", "https://a.example:8443/mock", "http://B\u00fccher.example",
                                  "http://[::1]:9000", "http://h.example:080", "http://h.example/a b"])
def test_answers_from_the_request_s_own_root_are_alike(profile, base, message):
    mock = Mock(profile)
    body = _body(mock, message)
    mock.answer(fast=False, **_create(mock, body, base_url=base))  # Flask works the root out first
    flask, fast = mock.both(**_create(mock, body, base_url=base))
    assert flask == fast
    flask, fast = mock.both(path="/Communication", query_string="_count=1", base_url=base, headers=_auth(mock))
    assert flask == fast


def test_a_base_url_with_a_newline_is_answered_alike(message):
    mock = Mock("canvas-2022", {"BASE_URL": "http://mock.test/\nx"})
    flask, fast = mock.both(**_create(mock, _body(mock, message)))
    assert flask == fast


def test_a_hook_added_after_create_app_sends_every_request_to_flask():
    app = create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test"})
    app.after_request(lambda response: response)
    fast = _fast(app)
    assert fast._checked is None
    assert app.test_client().get("/Communication").status_code == 401
    assert fast._checked is False  # the app is not as create_app left it: Flask answers everything


URL_TEXT = st.text(alphabet="abcXYZ019.-_~%!$&'()*+,/:;=@?#[] \u00fc\t", max_size=30)


@settings(max_examples=400, deadline=None)
@example("http", "a", "70000", "/x")
@example("http", "a", "080", "/x")
@example("http", "A.b", None, "/x")
@example("http", "a..b", None, "/x")
@example("http", "a", None, "/x y?z")
@given(scheme=st.sampled_from(["http", "https", "HTTP", "ftp"]), host=URL_TEXT,
       port=st.one_of(st.none(), st.integers(0, 99999).map(str), st.sampled_from(["080", "", "x"])), path=URL_TEXT)
def test_location_uri_is_iri_to_uri(scheme, host, port, path):
    location = f"{scheme}://{host}{'' if port is None else ':' + port}{path}"
    try:
        expected = iri_to_uri(location)
    except Exception as err:  # noqa: BLE001
        with pytest.raises(type(err)):
            uri(location)
        return
    assert uri(location) == expected
