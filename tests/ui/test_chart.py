"""The chart timeline: order (UI-1), draft captions (UI-2), the patient's messages (UI-4), content (UI-5)."""
from __future__ import annotations

import pytest


def cards(page):
    return page.all("timeline-message")


def test_timeline_orders_messages_by_created_date_not_by_sent_or_insertion(ui, mock_api, message, patient_id, other_patient_id):
    """UI-1: created on the mock's clock in the order B, A, C; inserted A, B, C; sent in yet another order."""
    late_draft = message("practitioner_to_patient")  # sent 2021-04-29
    mock_api.freeze("2022-06-15T12:00:00Z")
    a = mock_api.create(late_draft)
    mock_api.freeze("2022-06-14T09:00:00Z")  # earlier than a's creation
    b = mock_api.create(message("patient_to_practitioner"))  # sent 2022-02-10
    mock_api.freeze("2022-06-16T08:00:00Z")
    c = mock_api.create(message("minimal"))  # sent = now
    someone_else = message("minimal")
    someone_else["recipient"][0]["reference"] = f"Patient/{other_patient_id}"
    mock_api.create(someone_else)

    page = ui.page(f"/chart/{patient_id}")
    assert [card.attrs["data-message-id"] for card in cards(page)] == [b, a, c]
    assert [card.one("message-created").attrs["datetime"] for card in cards(page)] == [
        "2022-06-14T09:00:00+00:00", "2022-06-15T12:00:00+00:00", "2022-06-16T08:00:00+00:00"]
    assert page.one("timeline-count").text == "3 messages · oldest first"


def test_a_chart_without_messages_says_so(ui, patient_id):
    page = ui.page(f"/chart/{patient_id}")
    assert cards(page) == []
    assert page.one("timeline-empty").text == "No messages in this chart yet."


def test_patient_banner_names_the_patient_and_birth_date(ui, mock_api, patient_id):
    mock_api.freeze("2022-06-15T12:00:00Z")
    banner = ui.page(f"/chart/{patient_id}").one("patient-banner")
    assert banner.one("patient-name").text == "Amara Lindqvist"
    assert banner.one("patient-birth-date").text == "Born Mar 12th, 1984"
    assert "(38 years)" in banner.text


def test_practitioner_message_is_a_draft_with_the_documented_caption(ui, mock_api, draft, patient_id):
    """UI-2: the document's own example, on a clock frozen four months later."""
    mock_api.freeze("2022-06-15T12:00:00Z")
    message_id = mock_api.create(draft)
    card = ui.page(f"/chart/{patient_id}").one("timeline-message")
    assert card.attrs["data-message-id"] == message_id
    assert card.attrs["data-state"] == "draft"
    assert card.one("message-state").text == "Draft"
    assert card.one("message-caption").text == "Drafted 4 months ago on Feb 10th, 2022 by Canvas Bot"
    assert card.one("message-sent-date").attrs["datetime"] == "2022-02-10T15:04:00+00:00"
    assert card.one("send-button").text == "Send"


@pytest.mark.parametrize(("sent", "now", "caption"), [
    ("2022-02-10T15:04:00Z", "2023-06-15T12:00:00Z", "Drafted 1 year, 4 months ago on Feb 10th, 2022 by Canvas Bot"),
    ("2022-02-10T15:04:00Z", "2022-02-13T15:04:00Z", "Drafted 3 days ago on Feb 10th, 2022 by Canvas Bot"),
    ("2022-02-10T15:04:00Z", "2022-02-10T15:09:00Z", "Drafted 5 minutes ago on Feb 10th, 2022 by Canvas Bot"),
    # The date is the UTC one: 23:30 at -05:00 on the 1st is 04:30 UTC on the 2nd.
    ("2022-03-01T23:30:00-05:00", "2022-03-05T12:00:00Z", "Drafted 3 days ago on Mar 2nd, 2022 by Canvas Bot"),
    ("2021-07-03T08:00:00Z", "2021-07-03T08:00:30Z", "Drafted 30 seconds ago on Jul 3rd, 2021 by Canvas Bot"),
    ("2021-12-21T08:00:00Z", "2022-01-21T08:00:00Z", "Drafted a month ago on Dec 21st, 2021 by Canvas Bot"),
])
def test_draft_caption_follows_the_mock_clock_and_the_utc_date(ui, mock_api, draft, patient_id, sent, now, caption):
    draft["sent"] = sent
    mock_api.freeze(now)
    mock_api.create(draft)
    assert ui.page(f"/chart/{patient_id}").one("message-caption").text == caption


def test_moving_the_clock_on_changes_the_caption(ui, mock_api, draft, patient_id):
    mock_api.freeze("2022-06-15T12:00:00Z")
    mock_api.create(draft)
    mock_api.shift(365 * 24 * 3600)
    assert ui.page(f"/chart/{patient_id}").one("message-caption").text == \
        "Drafted 1 year, 4 months ago on Feb 10th, 2022 by Canvas Bot"


def test_caption_names_canvas_bot_whichever_practitioner_sent_it(ui, mock_api, draft, patient_id, fixture_data):
    """UI-2: API drafts are Canvas Bot's in the caption; the card still shows the sender by name."""
    doctor = fixture_data["people"]["practitioners"][1]
    draft["sender"]["reference"] = f"Practitioner/{doctor['id']}"
    mock_api.freeze("2022-06-15T12:00:00Z")
    mock_api.create(draft)
    card = ui.page(f"/chart/{patient_id}").one("timeline-message")
    assert card.one("message-caption").text.endswith("by Canvas Bot")
    assert card.one("message-parties").text == "Dr. Helen Okafor → Amara Lindqvist"


def test_patient_message_shows_its_sent_date_and_recipient_not_as_a_draft(ui, mock_api, message, patient_id):
    """UI-4."""
    mock_api.freeze("2022-06-15T12:00:00Z")
    mock_api.create(message("patient_to_practitioner"))
    card = ui.page(f"/chart/{patient_id}").one("timeline-message")
    assert card.attrs["data-state"] == "patient"
    assert card.one("message-state").text == "From patient"
    assert card.one("message-caption").text == "Sent 4 months ago on Feb 10th, 2022 to Dr. Helen Okafor"
    assert card.one("message-recipient").text == "Dr. Helen Okafor"
    assert not card.has("send-button")
    assert "Drafted" not in card.text


def test_card_shows_the_first_payload_element_only(ui, mock_api, draft, patient_id):
    """UI-5 (with PAY-2: only the first element is stored)."""
    first = draft["payload"][0]["contentString"]
    draft["payload"].append({"contentString": "A second element nobody should see."})
    mock_api.create(draft)
    page = ui.page(f"/chart/{patient_id}")
    assert page.one("message-content").text == first
    assert "A second element" not in page.text


def test_content_written_as_content_shows_too(ui, mock_api, message, patient_id):
    """UI-5 with PAY-4: the document's example writes the text under ``content``."""
    body = message("document_example")
    mock_api.create(body)
    assert ui.page(f"/chart/{patient_id}").one("message-content").text == body["payload"][0]["content"]


def test_markup_in_a_message_is_shown_as_text_never_as_markup(ui, mock_api, draft, patient_id):
    """UI-5: the text is what the patient wrote, shown literally; nothing in it runs."""
    markup = "<script>document.title='ran'</script><b onmouseover=\"alert(1)\">bold</b> & <i>more</i>"
    draft["payload"][0]["contentString"] = markup
    mock_api.create(draft)
    answer = ui.client.get(f"/chart/{patient_id}")
    html = answer.get_data(as_text=True)
    assert "<script>document.title" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;document.title=&#39;ran&#39;&lt;/script&gt;" in html
    from_page = ui.page(f"/chart/{patient_id}").one("message-content").text
    assert from_page == markup


@pytest.mark.parametrize("unknown", ["no-such-patient", "x" * 400, "%C3%BC", "5eede137ecfe4124b8b773040e33be14"])
@pytest.mark.parametrize("page", ["chart", "patient-app"])
def test_unknown_patient_is_a_404_page(ui, read_page, page, unknown):
    """The last id is Canvas Bot's: a practitioner is not a patient."""
    answer = ui.client.get(f"/{page}/{unknown}")
    assert answer.status_code == 404
    assert answer.content_type.startswith("text/html")
    found = read_page(answer.get_data(as_text=True))
    assert found.one("error-page").attrs["data-status"] == "404"
    assert found.one("error-detail").text == "No patient with that id exists on this server."


def test_index_lists_every_patient_with_links_to_chart_and_app(ui, mock_api, draft, fixture_data):
    mock_api.create(draft)
    rows = ui.page("/").all("patient-row")
    patients = fixture_data["people"]["patients"]
    assert [row.attrs["data-patient-id"] for row in rows] == [p["id"] for p in patients]
    first = rows[0]
    assert first.one("chart-link").attrs["href"] == f"/chart/{patients[0]['id']}"
    assert first.one("app-link").attrs["href"] == f"/patient-app/{patients[0]['id']}"
    assert "Amara Lindqvist" in first.text


def test_no_page_answers_5xx(ui, mock_api, draft, message, patient_id):
    """Every page, every odd id: a page or a 4xx, never a server error."""
    drafted = mock_api.create(draft)
    own = mock_api.create(message("patient_to_practitioner"))
    token = ui.csrf()
    for path in ["/", "/sign-in", f"/chart/{patient_id}", f"/patient-app/{patient_id}", "/chart/%00",
                 "/patient-app/%FF", "/chart/" + "é" * 50]:
        assert ui.client.get(path).status_code < 500, path
    for message_id in [drafted, own, "nope", "%00"]:
        for patient in [patient_id, "nope"]:
            answer = ui.client.post(f"/chart/{patient}/messages/{message_id}/send", data={"csrf_token": token})
            assert answer.status_code < 500, (patient, message_id)
