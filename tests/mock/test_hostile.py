"""Bodies no client should send: always a 4xx OperationOutcome, never a 5xx, nothing stored."""
from __future__ import annotations

import pytest

HOSTILE = [
    # (name, raw body, status)
    ("not JSON", b"sent=yesterday", 400),
    ("truncated JSON", b'{"resourceType": "Communication", ', 400),
    ("empty body", b"", 400),
    ("not UTF-8", b'{"resourceType": "Communicati\xff\xfe"}', 400),
    ("nested thousands deep", b"[" * 5000 + b"]" * 5000, 400),
    ("nested objects", b'{"a":' * 40 + b"1" + b"}" * 40, 400),
    ("NaN", b'{"resourceType": "Communication", "sent": NaN}', 400),
    ("a JSON array", b"[]", 400),
    ("a JSON string", b'"Communication"', 400),
    ("too large", b'{"pad": "' + b"x" * 70_000 + b'"}', 413),
]


@pytest.mark.parametrize("name, raw, status", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies(api, outcome, name, raw, status):
    before = api.total()
    outcome(api.create(raw), status, "FHIR-2" if status == 413 else "FHIR-1")
    assert api.total() == before


def test_wrong_types_everywhere_are_400(api, message, outcome):
    body = message("practitioner_to_patient")
    body.update(sent=1, recipient=[{"reference": 5}], sender={"reference": ["x"]},
                payload=[{"contentString": {"text": "hi"}}], status=None)
    answer = api.create(body)
    issues = outcome(answer, 400, "FHIR-1")["issue"]
    where = {e for i in issues for e in i.get("expression", [])}
    assert {"Communication.sent", "Communication.recipient[0].reference", "Communication.sender.reference",
            "Communication.payload[0].contentString", "Communication.status"} <= where
