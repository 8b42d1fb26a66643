"""Hostile input: every malformed create is a 4xx OperationOutcome and stores nothing (FHIR-1, FHIR-2, FHIR-8).

The bodies are derived from the fixture message (one element broken at a time), so each case
names exactly what is wrong with it. The table helper is itself shown to fail against an
endpoint that accepts everything. Every test runs on both profiles (canvas-2022, canvas-current):
v2's errors say it in ``details.text`` where v1's say it in ``diagnostics``.
"""
from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest
from flask import Flask

from mock_server.fhir_types import FHIR_JSON
from mock_server.outcome import CORRELATION_HEADER
from mock_server.profiles import PROFILES

from .conftest import issue_text

# Every element of the fixture message a client could get wrong, as a path into the body.
ELEMENTS = [("resourceType",), ("status",), ("sent",), ("recipient",), ("recipient", 0),
            ("recipient", 0, "reference"), ("sender",), ("sender", "reference"), ("payload",),
            ("payload", 0), ("payload", 0, "contentString")]
WRONG_TYPES = {"number": 12, "huge number": 1e308, "boolean": True, "object": {"x": 1}, "array": [1],
               "string": "x", "null": None}


class Hostile(NamedTuple):
    """One bad request: raw body bytes and the Content-Type it is sent with."""

    name: str
    body: bytes
    content_type: str | None = FHIR_JSON
    status: int | None = None  # when one status is the only right answer


# The rule an answer of that status names: the body is no JSON Communication (FHIR-1), too large
# for the server (FHIR-2: an OperationOutcome however it is refused), not a JSON media type (FHIR-8).
RULE_OF_STATUS = {400: "FHIR-1", 413: "FHIR-2", 415: "FHIR-8"}


@pytest.fixture(params=PROFILES)
def app(request):
    """A fresh mock of each profile (this module's tests run once per profile)."""
    from mock_server import create_app

    return create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test", "PROFILE": request.param})


def replaced(document: dict, path: tuple, value: Any) -> dict:
    """A deep copy of ``document`` with the element at ``path`` replaced by ``value``."""
    copy = json.loads(json.dumps(document))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


def is_wrong_type(value: Any, current: Any) -> bool:
    return type(value) is not type(current) and not (isinstance(value, (int, float)) and
                                                    isinstance(current, (int, float)))


def hostile_bodies(message: dict) -> list[Hostile]:
    cases = [
        Hostile("not JSON", b"{resourceType: Communication", status=400),
        Hostile("form-like text", b"sent=yesterday", status=400),
        Hostile("truncated JSON", b'{"resourceType": "Communication", ', status=400),
        Hostile("empty body", b"", status=400),
        Hostile("JSON null", b"null", status=400),
        Hostile("a JSON array", b"[]", status=400),
        Hostile("a JSON string", b'"Communication"', status=400),
        Hostile("not UTF-8", b"\xff\xfe" + json.dumps(message).encode("utf-16-le"), status=400),
        Hostile("not UTF-8 inside a string", b'{"resourceType": "Communicati\xff\xfe"}', status=400),
        Hostile("Latin-1 text", json.dumps({**message, "payload": [{"contentString": "caf\u00e9"}]},
                                           ensure_ascii=False).encode("latin-1"), status=400),
        Hostile("nested 5000 deep", b"[" * 5000 + b"]" * 5000, status=400),
        Hostile("nested 5000 deep inside the message",
                json.dumps(message)[:-1].encode() + b', "note": ' + b"[" * 5000 + b"]" * 5000 + b"}", status=400),
        Hostile("objects nested 40 deep", b'{"a":' * 40 + b"1" + b"}" * 40, status=400),
        Hostile("nested 40 deep in an ignored element",
                json.dumps({**message, "meta": json.loads("[" * 40 + "]" * 40)}).encode(), status=400),
        Hostile("over the size limit", json.dumps(
            {**message, "payload": [{"contentString": "x" * 70_000}]}).encode(), status=413),
        Hostile("over the size limit and no message", b'{"pad": "' + b"x" * 70_000 + b'"}', status=413),
        Hostile("NaN for sent in a bare resource", b'{"resourceType": "Communication", "sent": NaN}', status=400),
        Hostile("NaN", json.dumps(message).replace('"unknown"', "NaN").encode(), status=400),
        Hostile("Infinity", json.dumps(message).replace('"unknown"', "-Infinity").encode(), status=400),
        Hostile("a 5000-digit number", json.dumps(message).replace('"unknown"', "9" * 5000).encode(), status=400),
        Hostile("1e400 for sent", json.dumps(message).replace('"sent": "2021-04-29T13:30:00.000Z"', '"sent": 1e400').encode(),
                status=400),
        Hostile("text/plain", json.dumps(message).encode(), "text/plain", status=415),
        Hostile("no Content-Type", json.dumps(message).encode(), None, status=415),
        Hostile("XML", b"<Communication/>", "application/fhir+xml", status=415),
        Hostile("a form", b"resourceType=Communication", "application/x-www-form-urlencoded", status=415),
    ]
    for value in ("2021-02-30T25:00:00Z", "2021-02-30T10:00:00Z", "2021-13-01T00:00:00Z",
                  "2016-12-31T23:59:60Z", "2021-04-29T13:30:00+25:00", "2021-04-29T13:30:00",
                  "2021-04-29", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "yesterday", ""):
        for element in ("sent", "received"):
            cases.append(Hostile(f"{element} {value!r}", json.dumps({**message, element: value}).encode(), status=400))
    for path in ELEMENTS:
        current = message
        for step in path:
            current = current[step]
        for type_name, value in WRONG_TYPES.items():
            if is_wrong_type(value, current):
                cases.append(Hostile(f"{'.'.join(map(str, path))} as {type_name}",
                                     json.dumps(replaced(message, path, value)).encode()))
    null_everywhere = {key: None for key in message}
    cases.append(Hostile("every element null", json.dumps(null_everywhere).encode(), status=400))
    return cases


def assert_refused(client, auth, case: Hostile) -> None:
    """The request is answered 4xx with an OperationOutcome that says what was wrong; nothing is stored.

    When the case expects one status, an issue names the rule of that status (RULE_OF_STATUS).
    """
    headers = dict(auth)
    if case.content_type:
        headers["Content-Type"] = case.content_type
    answer = client.post("/Communication", data=case.body, headers=headers)
    assert 400 <= answer.status_code < 500, f"{case.name}: answered {answer.status_code}"
    if case.status:
        assert answer.status_code == case.status, f"{case.name}: answered {answer.status_code}, not {case.status}"
    outcome = answer.get_json(force=True, silent=True)
    assert isinstance(outcome, dict) and outcome.get("resourceType") == "OperationOutcome", \
        f"{case.name}: the error is not an OperationOutcome"
    assert all(issue.get("severity") in ("error", "fatal") and issue.get("code") and issue_text(issue)
               for issue in outcome["issue"]), f"{case.name}: an issue lacks an error severity, a code or a text"
    assert answer.headers.get("Content-Type", "").startswith(FHIR_JSON), f"{case.name}: not {FHIR_JSON}"
    assert answer.headers.get(CORRELATION_HEADER), f"{case.name}: no correlation id"
    if case.status:
        rule = RULE_OF_STATUS[case.status]
        assert any(issue_text(issue).startswith(f"[{rule}]") for issue in outcome["issue"]), \
            f"{case.name}: no issue names {rule}"
    stored = client.get("/_mock/communications", headers=auth)
    assert stored.status_code == 200 and stored.get_json()["total"] == 0, f"{case.name}: something was stored"


def test_the_table_covers_every_element_and_type(message):
    names = [case.name for case in hostile_bodies(message())]
    assert len(names) == len(set(names))
    for path in ELEMENTS:
        assert any(name.startswith(".".join(map(str, path)) + " as ") for name in names)
    assert len(names) > 80


def test_every_hostile_create_is_refused_and_nothing_is_stored(client, auth, message):
    for case in hostile_bodies(message()):
        assert_refused(client, auth, case)


@pytest.mark.parametrize("query", [
    "_count=-1", "_count=abc", "_count=1.5", "_count=%C2%B2", "_count=%D9%A1", "_offset=-5", "_offset=1e3",
    "patient=Practitioner/5eede137ecfe4124b8b773040e33be14", "sender=Observation/1", "recipient=Patient/",
    "unknown=1", "_sort=sent",
])
def test_hostile_search_parameters_are_refused(client, auth, query):
    answer = client.get(f"/Communication?{query}", headers=auth)
    assert answer.status_code == 400
    assert answer.json["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("query", ["_count=" + "9" * 5000, "_offset=" + "9" * 5000, "_count=" + "0" * 4999 + "7",
                                   "_offset=99999999999999999999", "_count=101", "_id=" + "x" * 8000, "sender=%00"])
def test_extreme_but_well_formed_search_parameters_are_served(client, auth, query):
    answer = client.get(f"/Communication?{query}", headers=auth)
    assert answer.status_code == 200
    assert answer.json["resourceType"] == "Bundle" and answer.json["total"] == 0


def test_wrong_types_everywhere_are_400_naming_each_element(api, message, outcome):
    body = message("practitioner_to_patient")
    body.update(sent=1, recipient=[{"reference": 5}], sender={"reference": ["x"]},
                payload=[{"contentString": {"text": "hi"}}], status=None)
    answer = api.create(body)
    issues = outcome(answer, 400, "FHIR-1")["issue"]
    where = {e for i in issues for e in i.get("expression", [])}
    assert {"Communication.sent", "Communication.recipient[0].reference", "Communication.sender.reference",
            "Communication.payload[0].contentString", "Communication.status"} <= where


def test_hostile_reads_are_404_outcomes(client, auth):
    for message_id in ("x" * 5000, "%00", "..%2F..%2Fetc%2Fpasswd", "' OR 1=1 --"):
        answer = client.get(f"/Communication/{message_id}", headers=auth)
        assert answer.status_code == 404
        assert answer.json["resourceType"] == "OperationOutcome"


def test_hostile_tokens_are_401_outcomes(client, message):
    for value in ("Bearer", "Bearer " + "x" * 10000, "Basic dXNlcjpwYXNz", "Bearer \x7f", "bearer  "):
        answer = client.post("/Communication", json=message(), headers={"Authorization": value})
        assert answer.status_code == 401
        assert answer.json["resourceType"] == "OperationOutcome"


def test_assert_refused_fails_against_an_endpoint_that_accepts_anything(message, auth):
    accepting = Flask(__name__)
    stored: list[bytes] = []

    @accepting.post("/Communication")
    def create():
        stored.append(b"")
        return "", 201

    @accepting.get("/_mock/communications")
    def communications():
        return {"total": len(stored)}

    with pytest.raises(AssertionError):
        assert_refused(accepting.test_client(), auth, hostile_bodies(message())[0])


# -- generated hostile requests (Hypothesis): nothing a client sends gets a 5xx -------------------
# Seeded (derandomize) and bounded, so every run sends the same few hundred requests in seconds.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from urllib.parse import urlencode  # noqa: E402

from mock_server import create_app  # noqa: E402

GENERATED = settings(derandomize=True, max_examples=150, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Characters Hypothesis rarely or never draws on its own: lone surrogates, controls, non-characters.
NASTY_CHARS = ["\ud800", "\udfff", "\x00", "\x1b", "\x7f", "\x85", "\ufffe", "\U0010ffff", "\u2028", "\\", '"']
TEXT = st.one_of(st.text(max_size=40), st.text(st.sampled_from(NASTY_CHARS), min_size=1, max_size=8),
                 st.tuples(st.text(max_size=10), st.sampled_from(NASTY_CHARS), st.text(max_size=10)).map("".join))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-10 ** 30, max_value=10 ** 30)
    | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12)
CONTENT_TYPES = st.sampled_from([FHIR_JSON, "application/json", "application/fhir+json; charset=latin-1",
                                 "text/plain", "multipart/form-data; boundary=x", "", None])
# Every API path a client can reach (the pages answer HTML errors, and the grant OAuth JSON).
API_PATHS = st.sampled_from(["/Communication", "/Communication/x", "/Communication/" + "9" * 70, "/metadata",
                             "/Patient", "/Patient/x", "/Practitioner/%00", "/_mock/clock", "/_mock/reset",
                             "/_mock/communications", "/_mock/sms", "/_mock/faults", "/openapi.json", "/nowhere"])
METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
SEARCH_KEYS = st.sampled_from(["_id", "patient", "sender", "recipient", "_count", "_offset", "_sort", "x", ""])
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)


def _served(fixture_message: dict, profile: str):
    """A fresh mock, a bearer header for it, and one valid create body (outside Hypothesis' loop)."""
    app = create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test", "PROFILE": profile})
    client = app.test_client()
    token = client.post("/auth/token/", data={"grant_type": "client_credentials", "client_id": app.config["CLIENT_ID"],
                                              "client_secret": app.config["CLIENT_SECRET"]}).json["access_token"]
    return app, client, {"Authorization": f"Bearer {token}"}


def assert_no_5xx(answer, what) -> None:
    assert answer.status_code < 500, f"{what}: answered {answer.status_code}"
    if answer.status_code >= 400 and answer.request.method != "HEAD":
        outcome = answer.get_json(force=True, silent=True)
        assert isinstance(outcome, dict) and outcome.get("resourceType") == "OperationOutcome", \
            f"{what}: {answer.status_code} is not an OperationOutcome"


def assert_pages_render(app, client) -> None:
    """Whatever was stored, every patient's chart and patient app still render."""
    ui = app.test_client()
    with ui.session_transaction() as session:
        session["signed_in"] = True
    for patient in client.get("/Patient", headers=client.auth).json["entry"]:
        for page in ("chart", "patient-app"):
            answer = ui.get(f"/{page}/{patient['resource']['id']}")
            assert answer.status_code == 200, f"/{page}: {answer.status_code}"


def _mutations(message: dict):
    """The fixture message with one element (or a new one) set to a generated JSON value."""
    keys = st.sampled_from([*message.keys(), "note", "meta", "x"])
    return st.builds(lambda key, value: {**message, key: value}, keys, JSON_VALUES)


def _payload_texts(message: dict):
    return st.builds(lambda text: {**message, "payload": [{"contentString": text}]}, TEXT)


@pytest.mark.parametrize("profile", PROFILES)
def test_no_generated_create_gets_a_5xx_and_the_pages_still_render(message, profile):
    app, client, auth = _served(message(), profile)
    client.auth = auth
    body = st.one_of(
        st.binary(max_size=200),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        _mutations(message()).map(lambda v: json.dumps(v).encode()),
        _payload_texts(message()).map(lambda v: json.dumps(v).encode()),  # ensure_ascii: surrogates as \ud800
    )

    @GENERATED
    @given(body=body, content_type=CONTENT_TYPES)
    def check(body, content_type):
        headers = dict(auth)
        if content_type is not None:
            headers["Content-Type"] = content_type
        assert_no_5xx(client.post("/Communication", data=body, headers=headers), f"create {body[:80]!r}")

    check()
    assert_pages_render(app, client)


@pytest.mark.parametrize("profile", PROFILES)
def test_no_generated_clock_setting_gets_a_5xx_or_locks_another_client_out(message, profile):
    app, client, other = _served(message(), profile)  # ``other``: a client that never touches the clock
    grant = {"grant_type": "client_credentials", "client_id": app.config["CLIENT_ID"],
             "client_secret": app.config["CLIENT_SECRET"]}
    setting = st.dictionaries(st.sampled_from(["now", "shift_seconds", "x"]),
                              st.one_of(JSON_VALUES, st.floats(), st.integers(), st.datetimes().map(
                                  lambda d: d.isoformat() + "Z"), TEXT), max_size=2)

    def fresh() -> dict:
        answer = client.post("/auth/token/", data=grant)
        assert answer.status_code == 200, f"a grant answered {answer.status_code}"
        return {"Authorization": f"Bearer {answer.json['access_token']}"}

    @GENERATED
    @given(setting=setting)
    def check(setting):
        raw = json.dumps(setting)  # NaN and Infinity as JSON's decoder reads them
        answer = client.put("/_mock/clock", data=raw, headers={**fresh(), "Content-Type": "application/json"})
        assert_no_5xx(answer, f"clock {raw[:80]}")
        assert client.get("/Communication", headers=other).status_code == 200, f"after clock {raw[:80]}"
        assert client.get("/metadata").status_code == 200, f"after clock {raw[:80]}"
        assert client.delete("/_mock/clock", headers=fresh()).status_code == 200, f"after clock {raw[:80]}"

    check()


@pytest.mark.parametrize("profile", PROFILES)
def test_no_generated_request_line_headers_or_query_gets_a_5xx(message, profile):
    app, client, auth = _served(message(), profile)
    query = st.lists(st.tuples(SEARCH_KEYS, TEXT), max_size=4)
    extra_headers = st.dictionaries(st.sampled_from(["Authorization", "Content-Type", "Content-Length", "Accept",
                                                     "Host", "X-Forwarded-For", "Cookie", "Prefer", "If-None-Exist"]),
                                    HEADER_TEXT, max_size=3)

    @GENERATED
    @given(method=METHODS, path=API_PATHS, query=query, headers=extra_headers, keep_token=st.booleans(),
           body=st.binary(max_size=100))
    def check(method, path, query, headers, keep_token, body):
        # Encoded as a client on the wire would: UTF-8 bytes, a lone surrogate as its (invalid) 3 bytes.
        query = urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in query])
        sent = {**(auth if keep_token else {}), **headers}
        if "Content-Length" in sent:  # the test client sets its own; a hostile value goes in the environ
            declared = sent.pop("Content-Length")
            answer = client.open(path, method=method, query_string=query, headers=sent, data=body,
                                 environ_overrides={"CONTENT_LENGTH": declared})
        else:
            answer = client.open(path, method=method, query_string=query, headers=sent, data=body)
        assert_no_5xx(answer, f"{method} {path}?{query} {headers}")

    check()
