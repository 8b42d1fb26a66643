"""The pages show whatever the database already holds, never a 500 (issue 14, item 10).

The API refuses lone surrogates and control characters since validation checks for them, so
these messages are written straight into storage, as a database from before that check holds
them; the clock is also set to its far ends, where date arithmetic on old messages once failed.
"""
from __future__ import annotations

import pytest

from mock_server.db import get_db

ODD_TEXTS = ["lone \ud800 surrogate", "\udfff", "nul \x00 and bell \x07"]


def stored(app, message_id: str, resource: dict, *, created: str, patient_id: str) -> None:
    with app.app_context():
        get_db().insert_communication({**resource, "id": message_id}, created=created, patient_id=patient_id)


def resource(body: dict, text: str, sent: str | None = "2022-02-10T15:04:00+00:00") -> dict:
    out = {"resourceType": "Communication", "status": "unknown", "recipient": body["recipient"],
           "sender": body["sender"], "payload": [{"contentString": text}]}
    if sent is not None:
        out["sent"] = sent
    return out


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_a_stored_text_no_page_can_carry_is_shown_replaced(app, ui, message, patient_id, text):
    stored(app, "odd-draft", resource(message("practitioner_to_patient"), text),
           created="2022-02-10T15:04:00.000000+00:00", patient_id=patient_id)
    stored(app, "odd-own", resource(message("patient_to_practitioner"), text),
           created="2022-02-10T15:05:00.000000+00:00", patient_id=patient_id)
    chart = ui.page(f"/chart/{patient_id}")
    shown = [card.one("message-content").text for card in chart.all("timeline-message")]
    assert len(shown) == 2 and all("\ufffd" in t for t in shown)
    app_page = ui.page(f"/patient-app/{patient_id}")
    assert "\ufffd" in app_page.one("app-message-content").text
    assert ui.client.get("/").status_code == 200


@pytest.mark.parametrize("sent", ["not a date", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", None])
@pytest.mark.parametrize("now", ["1900-01-01T00:00:00Z", "2200-12-31T23:59:59Z"])
def test_odd_stored_instants_at_either_end_of_the_clock_still_give_a_page(app, ui, mock_api, message, patient_id,
                                                                          sent, now):
    stored(app, "odd-sent", resource(message("patient_to_practitioner"), "hello", sent),
           created="2022-02-10T15:04:00.000000+00:00", patient_id=patient_id)
    mock_api.freeze(now)
    chart = ui.page(f"/chart/{patient_id}")
    assert chart.one("message-content").text == "hello"
    assert ui.page(f"/patient-app/{patient_id}").one("app-message-content").text == "hello"
