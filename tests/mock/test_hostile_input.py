"""Hostile input: every malformed create is a 4xx OperationOutcome and stores nothing (FHIR-1, FHIR-2, FHIR-8).

The bodies are derived from the fixture message (one element broken at a time), so each case
names exactly what is wrong with it. The table helper is itself shown to fail against an
endpoint that accepts everything.
"""
from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest
from flask import Flask

from mock_server.fhir_types import FHIR_JSON
from mock_server.outcome import CORRELATION_HEADER

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
    assert all(issue.get("severity") in ("error", "fatal") and issue.get("code") and issue.get("diagnostics") for issue in outcome["issue"]), \
        f"{case.name}: an issue lacks an error severity, a code or diagnostics"
    assert answer.headers.get("Content-Type", "").startswith(FHIR_JSON), f"{case.name}: not {FHIR_JSON}"
    assert answer.headers.get(CORRELATION_HEADER), f"{case.name}: no correlation id"
    if case.status:
        rule = RULE_OF_STATUS[case.status]
        assert any(issue["diagnostics"].startswith(f"[{rule}]") for issue in outcome["issue"]), \
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
