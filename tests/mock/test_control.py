"""The /_mock/ control surface: reset, clock, stored messages, SMS outbox."""
from __future__ import annotations

import pytest


def test_reset_forgets_messages_but_keeps_people_and_tokens(api, client, auth, message):
    api.created(message("minimal"))
    assert client.post("/_mock/reset", headers=auth).status_code == 200
    assert api.total() == 0
    assert client.get("/Patient", headers=auth).json["total"] == 3


def test_clock_freeze_shift_and_reset(client, auth):
    frozen = client.put("/_mock/clock", json={"now": "2022-02-10T10:04:00-05:00"}, headers=auth).json
    assert frozen["frozen"] and frozen["now"] == "2022-02-10T15:04:00+00:00"
    moved = client.put("/_mock/clock", json={"shift_seconds": 60}, headers=auth).json
    assert moved["now"] == "2022-02-10T15:05:00+00:00"
    real = client.delete("/_mock/clock", headers=auth).json
    assert not real["frozen"] and real["offset_seconds"] == 0


@pytest.mark.parametrize("body", [{}, {"now": "yesterday"}, {"now": "2022-02-10T10:04:00"},
                                  {"shift_seconds": "60"}, {"shift_seconds": True}, []])
def test_bad_clock_settings_are_400(client, auth, outcome, body):
    outcome(client.put("/_mock/clock", json=body, headers=auth), 400, "FHIR-2")


def test_stored_messages_show_created_and_patient(api, client, auth, message):
    client.put("/_mock/clock", json={"now": "2022-02-10T15:04:00Z"}, headers=auth)
    resource = api.created(message("patient_to_practitioner"))
    rows = client.get("/_mock/communications", headers=auth).json
    assert rows["total"] == 1
    row = rows["messages"][0]
    assert (row["id"], row["created"], row["patient"], row["ui_sent_at"]) == (
        resource["id"], "2022-02-10T15:04:00.000000+00:00", "5350cd20de8a470aa570a852859ac87e", None)


def test_sms_outbox_starts_empty(client, auth):
    assert client.get("/_mock/sms", headers=auth).json == {"messages": []}
