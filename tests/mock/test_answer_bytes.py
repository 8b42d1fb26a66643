"""Read and search answer the stored text of a resource as it is (db._resource_json), not decoded
and encoded again: these tests hold that the bytes are still exactly the answer's JSON encoding.

Why it matters: a change to how resources are stored (another separator, ``ensure_ascii=False``)
would otherwise reach clients as a different body from the one the mock gives for the same
resource elsewhere. Texts with what JSON escapes (quotes, backslashes, non-ASCII, emoji, a
lone surrogate written straight into storage as an older database holds it) are the ones where
the two encodings could part.
"""
from __future__ import annotations

import json

import pytest

from mock_server.db import get_db

TEXTS = ["plain", 'quote " and \\ backslash', "Zoë – naïve café", "emoji \U0001F600", "tab\tand\nnewline",
         "</script>&<'>"]


def _encoded(text: str) -> str:
    return json.dumps(json.loads(text), separators=(",", ":"))


@pytest.mark.parametrize("text", TEXTS)
def test_read_and_search_bodies_are_the_compact_encoding_of_what_they_hold(api, message, text):
    body = message("practitioner_to_patient")
    body["payload"] = [{"contentString": text}]
    made = api.create(body)
    assert made.status_code == 201, made.json
    message_id = made.headers["Location"].rsplit("/", 1)[1]
    read = api.read(message_id)
    assert read.status_code == 200
    raw = read.get_data(as_text=True)
    assert raw == _encoded(raw)
    assert read.json["payload"] == [{"contentString": text}]
    patient = body["recipient"][0]["reference"]
    for params in ({"_id": message_id}, {"patient": patient, "_count": 5}, {"_count": 0}):
        found = api.search(**params)
        assert found.status_code == 200
        raw = found.get_data(as_text=True)
        assert raw == _encoded(raw), params
        assert list(found.json) == ["resourceType", "type", "total", "link", "entry"]
    assert api.search(_id=message_id).json["entry"][0]["resource"] == read.json


def test_a_stored_lone_surrogate_is_answered_as_the_escape_it_was_stored_as(app, api, message):
    body = message("practitioner_to_patient")
    resource = {"resourceType": "Communication", "id": "odd", "status": "unknown", "recipient": body["recipient"],
                "sender": body["sender"], "payload": [{"contentString": "lone \ud800"}]}
    with app.app_context():
        get_db().insert_communication(resource, created="2022-02-10T15:04:00.000000+00:00",
                                      patient_id=body["recipient"][0]["reference"].split("/")[1])
    raw = api.read("odd").get_data(as_text=True)
    assert "\\ud800" in raw and raw == _encoded(raw)
    raw = api.search(_id="odd").get_data(as_text=True)
    assert "\\ud800" in raw and raw == _encoded(raw)
