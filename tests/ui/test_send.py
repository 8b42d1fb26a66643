"""Sending a draft from the chart, and what the patient app shows before and after (UI-2, UI-3, UI-4)."""
from __future__ import annotations


def app_ids(ui, patient_id):
    return [m.attrs["data-message-id"] for m in ui.page(f"/patient-app/{patient_id}").all("app-message")]


def test_a_draft_is_not_in_the_patient_app_until_sent(ui, mock_api, draft, message, patient_id):
    """UI-2 then UI-3; the patient's own message (UI-4) is there from the start."""
    mock_api.freeze("2022-06-15T12:00:00Z")
    drafted = mock_api.create(draft)
    own = mock_api.create(message("patient_to_practitioner"))
    before = ui.page(f"/patient-app/{patient_id}")
    assert [m.attrs["data-message-id"] for m in before.all("app-message")] == [own]
    assert before.one("app-hidden-drafts").text == "1 draft in the chart is not shown until sent."

    assert ui.send(patient_id, drafted).status_code == 303
    after = ui.page(f"/patient-app/{patient_id}")
    assert sorted(m.attrs["data-message-id"] for m in after.all("app-message")) == sorted([own, drafted])
    assert not after.has("app-hidden-drafts")


def test_an_empty_patient_app_says_so(ui, mock_api, draft, patient_id):
    mock_api.create(draft)
    page = ui.page(f"/patient-app/{patient_id}")
    assert page.all("app-message") == []
    assert page.one("app-empty").text == "No messages yet."


def test_send_marks_the_draft_sent_in_the_chart(ui, mock_api, draft, patient_id):
    """UI-3: the card turns from draft to sent, and its Send button goes."""
    mock_api.freeze("2022-06-15T12:00:00Z")
    drafted = mock_api.create(draft)
    mock_api.shift(3600)
    answer = ui.send(patient_id, drafted)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/chart/{patient_id}#message-{drafted}"
    card = ui.page(f"/chart/{patient_id}").one("timeline-message")
    assert card.attrs["data-state"] == "sent"
    assert card.one("message-state").text == "Sent"
    assert not card.has("send-button")
    assert card.one("message-caption").text == "Drafted 4 months ago on Feb 10th, 2022 by Canvas Bot"
    assert card.one("message-ui-sent").text.startswith("Sent to the patient app on Jun 15th, 2022, 13:00 UTC")


def test_send_sends_no_sms(ui, mock_api, draft, patient_id):
    """UI-3: the mock's SMS outbox stays empty."""
    drafted = mock_api.create(draft)
    assert mock_api.sms() == []
    ui.send(patient_id, drafted)
    assert mock_api.sms() == []


def test_send_leaves_the_stored_message_and_its_sent_unchanged(ui, mock_api, draft, patient_id):
    """UI-3: read back through the API, the message is what it was; only the chart's own mark is new."""
    mock_api.freeze("2022-06-15T12:00:00Z")
    drafted = mock_api.create(draft)
    before = mock_api.read(drafted)
    mock_api.shift(86400)
    ui.send(patient_id, drafted)
    after = mock_api.read(drafted)
    assert after == before
    assert after["sent"] == "2022-02-10T15:04:00+00:00"
    assert mock_api.stored(drafted)["ui_sent_at"] == "2022-06-16T12:00:00+00:00"


def test_patient_app_dates_a_sent_draft_at_its_sent_time_not_when_send_was_pressed(ui, mock_api, draft, patient_id):
    """UI-3: dated at the time it was drafted."""
    mock_api.freeze("2022-06-15T12:00:00Z")
    drafted = mock_api.create(draft)
    mock_api.shift(30 * 86400)
    ui.send(patient_id, drafted)
    shown = ui.page(f"/patient-app/{patient_id}").one("app-message")
    assert shown.one("app-message-date").text == "Feb 10th, 2022 · 15:04 UTC"
    assert shown.one("app-message-date").attrs["datetime"] == "2022-02-10T15:04:00+00:00"
    assert shown.one("app-message-author").text == "Canvas Bot"
    assert shown.one("app-message-content").text == draft["payload"][0]["contentString"]


def test_patient_app_lists_messages_by_their_dates(ui, mock_api, draft, message, patient_id):
    """Sent in 2021, created last; sent in 2022, created first: the app goes by the dates it shows."""
    own = mock_api.create(message("patient_to_practitioner"))  # sent Feb 10th, 2022
    old = message("practitioner_to_patient")  # sent Apr 29th, 2021
    drafted = mock_api.create(old)
    ui.send(patient_id, drafted)
    assert app_ids(ui, patient_id) == [drafted, own]


def test_patient_app_shows_the_patients_own_message_with_its_recipient(ui, mock_api, message, patient_id):
    """UI-4: visible at once, from the patient's side."""
    own = mock_api.create(message("patient_to_practitioner"))
    shown = ui.page(f"/patient-app/{patient_id}").one("app-message")
    assert shown.attrs["data-message-id"] == own
    assert shown.one("app-message-author").text == "You to Dr. Helen Okafor"
    assert shown.one("app-message-date").text == "Feb 10th, 2022 · 15:04 UTC"


def test_sending_twice_keeps_the_first_send(ui, mock_api, draft, patient_id):
    mock_api.freeze("2022-06-15T12:00:00Z")
    drafted = mock_api.create(draft)
    ui.send(patient_id, drafted)
    mock_api.shift(60)
    assert ui.send(patient_id, drafted).status_code == 303
    assert mock_api.stored(drafted)["ui_sent_at"] == "2022-06-15T12:00:00+00:00"


def test_send_without_the_form_token_is_refused_and_changes_nothing(ui, mock_api, draft, patient_id, read_page):
    drafted = mock_api.create(draft)
    for token in ["", "forged-token"]:
        answer = ui.send(patient_id, drafted, token=token)
        assert answer.status_code == 400
        assert read_page(answer.get_data(as_text=True)).one("error-page").attrs["data-status"] == "400"
    assert mock_api.stored(drafted)["ui_sent_at"] is None


def test_send_without_a_session_goes_to_sign_in_and_changes_nothing(client, mock_api, draft, patient_id):
    drafted = mock_api.create(draft)
    answer = client.post(f"/chart/{patient_id}/messages/{drafted}/send", data={"csrf_token": "x"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/sign-in"
    assert mock_api.stored(drafted)["ui_sent_at"] is None


def test_send_is_refused_for_what_is_not_this_patients_draft(ui, mock_api, draft, message, patient_id, other_patient_id):
    """A patient's own message is no draft; a message is sent from its own patient's chart only."""
    drafted = mock_api.create(draft)
    own = mock_api.create(message("patient_to_practitioner"))
    for patient, message_id in [(patient_id, own), (patient_id, "no-such-message"),
                                (other_patient_id, drafted), ("no-such-patient", drafted)]:
        assert ui.send(patient, message_id).status_code == 404, (patient, message_id)
    assert mock_api.stored(drafted)["ui_sent_at"] is None
    assert mock_api.stored(own)["ui_sent_at"] is None
