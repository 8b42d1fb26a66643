"""The pages under the canvas-current profile: no drafts (UI-6), both pages by ingestion date (UI-1),
the stored HTML's text content shown as text (UI-5, PAY-6), unread until marked read (RECV-3)."""
from __future__ import annotations

import re

import pytest

from mock_server import create_app
from mock_server.ui import html_text

from ..mock_helpers import bearer, token_from

NOW = "2022-06-15T12:00:00Z"


@pytest.fixture
def app():
    """Every fixture built on ``app`` (the API, the signed-in visitor) gets the canvas-current mock."""
    return create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test", "PROFILE": "canvas-current"})


def cards(page):
    return page.all("timeline-message")


def raw_text(node) -> str:
    """The node's own text as served (line breaks kept), not collapsed as Node.text is."""
    return "".join(child for child in node.children if isinstance(child, str))


def mark_read(ui, patient_id, message_id, *, token=None):
    token = ui.csrf() if token is None else token
    return ui.client.post(f"/chart/{patient_id}/messages/{message_id}/read", data={"csrf_token": token})


# -- UI-6 ---------------------------------------------------------------------------------------------
def test_a_practitioners_message_is_no_draft_and_in_the_app_at_once(ui, mock_api, draft, patient_id):
    mock_api.freeze(NOW)
    message_id = mock_api.create(draft)
    card = ui.page(f"/chart/{patient_id}").one("timeline-message")
    assert card.attrs["data-state"] == "sent"
    assert card.one("message-state").text == "To patient"
    assert card.one("message-caption").text == "Sent 4 months ago on Feb 10th, 2022 to Amara Lindqvist"
    assert not card.has("send-button") and not card.has("mark-read-button") and not card.has("message-unread")
    assert "Draft" not in card.text and "Canvas Bot" not in card.one("message-caption").text
    app_page = ui.page(f"/patient-app/{patient_id}")
    assert [m.attrs["data-message-id"] for m in app_page.all("app-message")] == [message_id]
    assert not app_page.has("app-hidden-drafts")


def test_there_is_nothing_to_send(ui, mock_api, draft, patient_id):
    message_id = mock_api.create(draft)
    answer = ui.send(patient_id, message_id)
    assert answer.status_code == 404
    assert mock_api.stored(message_id)["ui_sent_at"] is None


# -- UI-1 ---------------------------------------------------------------------------------------------
def test_the_timeline_and_the_app_place_messages_by_ingestion_date(ui, mock_api, message, patient_id):
    """Created B, A, C on the mock's clock (sent in yet another order): both pages list B, A, C."""
    mock_api.freeze("2022-06-15T12:00:00Z")
    a = mock_api.create(message("practitioner_to_patient"))  # sent 2021-04-29
    mock_api.freeze("2022-06-14T09:00:00Z")
    b = mock_api.create(message("patient_to_practitioner"))  # sent 2022-02-10
    mock_api.freeze("2022-06-16T08:00:00Z")
    c = mock_api.create(message("minimal"))  # sent now
    chart = ui.page(f"/chart/{patient_id}")
    assert [card.attrs["data-message-id"] for card in cards(chart)] == [b, a, c]
    app_page = ui.page(f"/patient-app/{patient_id}")
    bubbles = app_page.all("app-message")
    assert [m.attrs["data-message-id"] for m in bubbles] == [b, a, c]
    # dated where they are placed: at ingestion, not at sent
    assert [m.one("app-message-date").attrs["datetime"] for m in bubbles] == [
        "2022-06-14T09:00:00+00:00", "2022-06-15T12:00:00+00:00", "2022-06-16T08:00:00+00:00"]
    assert bubbles[1].one("app-message-date").text == "Jun 15th, 2022 · 12:00 UTC"


# -- UI-5 / PAY-6 -------------------------------------------------------------------------------------
def test_the_pages_show_the_stored_htmls_text_content_as_text(ui, mock_api, message, patient_id):
    body = message("patient_to_practitioner")
    text = "<b>Bring</b> your card & list\nevery <i>medicine</i>"
    body["payload"] = [{"contentString": text}]
    message_id = mock_api.create(body)
    assert mock_api.read(message_id)["payload"][0]["contentString"] == (
        "<p>&lt;b&gt;Bring&lt;/b&gt; your card &amp; list<br>every &lt;i&gt;medicine&lt;/i&gt;</p>")
    page_html = ui.client.get(f"/chart/{patient_id}").get_data(as_text=True)
    assert "<b>" not in page_html and "<br>" not in page_html and "&lt;b&gt;Bring" in page_html
    content = ui.page(f"/chart/{patient_id}").one("message-content")
    assert raw_text(content) == text and content.children == [text]
    bubble = ui.page(f"/patient-app/{patient_id}").one("app-message-content")
    assert raw_text(bubble) == text and bubble.children == [text]


@pytest.mark.parametrize(("stored", "shown"), [
    ("<p>plain</p>", "plain"),
    ("<p>a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39;</p>", "a & b <c> \"d\" 'e'"),
    ("<p>one<br>two<br/>three</p>", "one\ntwo\nthree"),
    ("<p>first</p><p>second</p>", "first\nsecond"),
    ("<div><p>in <strong>bold</strong></p></div>", "in bold"),
    ("<p>x</p><script>alert(1)</script><style>p{}</style>", "x"),
    ("text before 2022-10-26, never HTML", "text before 2022-10-26, never HTML"),
    ("<p>unclosed <b>tag", "unclosed tag"),
    ("", ""),
])
def test_the_text_content_of_stored_html(stored, shown):
    assert html_text(stored) == shown


# -- RECV-3 -------------------------------------------------------------------------------------------
def test_a_patients_message_to_a_practitioner_is_unread_until_marked_read(ui, mock_api, message, patient_id):
    mock_api.freeze(NOW)
    message_id = mock_api.create(message("patient_to_practitioner"))
    assert "received" not in mock_api.read(message_id)
    card = ui.page(f"/chart/{patient_id}").one("timeline-message")
    assert card.one("message-unread").text == "Unread"
    assert card.one("mark-read-button").text == "Mark read"
    index = ui.page("/")
    row = next(r for r in index.all("patient-row") if r.attrs["data-patient-id"] == patient_id)
    assert "Unread" in index.text and [cell.text for cell in row.children if getattr(cell, "tag", "") == "td"][3] == "1"

    mock_api.shift(300)
    answer = mark_read(ui, patient_id, message_id)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/chart/{patient_id}#message-{message_id}"
    read_back = mock_api.read(message_id)
    assert read_back["received"] == "2022-06-15T12:05:00+00:00"  # when it was marked, on the mock's clock
    assert read_back["sent"] == "2022-02-10T15:04:00+00:00"  # sent untouched
    assert read_back["meta"] == {"versionId": "2", "lastUpdated": "2022-06-15T12:05:00+00:00"}
    # ID-3: the create's Location names version 1, which still reads as created; version 2 is the read one
    versions = {n: mock_api.client.get(f"/Communication/{message_id}/_history/{n}", headers=mock_api.headers)
                for n in ("1", "2", "3")}
    assert versions["1"].status_code == 200 and "received" not in versions["1"].json
    assert versions["1"].json["meta"]["versionId"] == "1" and versions["1"].json["sent"] == read_back["sent"]
    assert versions["2"].status_code == 200 and versions["2"].json == read_back
    assert versions["3"].status_code == 404
    card = ui.page(f"/chart/{patient_id}").one("timeline-message")
    assert not card.has("message-unread") and not card.has("mark-read-button")
    assert card.one("message-received").text == "Read Jun 15th, 2022, 12:05 UTC"

    mock_api.shift(600)  # marking it again (a second tab) changes nothing
    assert mark_read(ui, patient_id, message_id).status_code == 303
    assert mock_api.read(message_id)["received"] == "2022-06-15T12:05:00+00:00"


def test_a_message_given_received_or_to_the_patient_is_never_unread(ui, mock_api, message, draft, patient_id):
    given = message("patient_to_practitioner")
    given["received"] = "2022-02-10T16:00:00Z"
    with_received = mock_api.create(given)
    to_patient = mock_api.create(draft)
    for card in cards(ui.page(f"/chart/{patient_id}")):
        assert not card.has("message-unread") and not card.has("mark-read-button"), card.text
    assert mark_read(ui, patient_id, to_patient).status_code == 404
    assert mark_read(ui, patient_id, with_received).status_code == 303
    assert mock_api.read(with_received)["received"] == "2022-02-10T16:00:00+00:00"
    assert "received" not in mock_api.read(to_patient)


def test_marking_read_needs_the_form_of_this_site_and_the_right_chart(ui, mock_api, message, patient_id,
                                                                      other_patient_id, app):
    message_id = mock_api.create(message("patient_to_practitioner"))
    assert mark_read(ui, patient_id, message_id, token="forged").status_code == 400
    assert mark_read(ui, other_patient_id, message_id).status_code == 404
    assert mark_read(ui, patient_id, "no-such-message").status_code == 404
    stranger = app.test_client()
    answer = stranger.post(f"/chart/{patient_id}/messages/{message_id}/read", data={"csrf_token": ui.csrf()})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/sign-in")
    assert "received" not in mock_api.read(message_id)


def test_the_2022_pages_have_no_mark_read(fixture_data, message, sign_in):
    """canvas-2022: RECV-3 is not that edition's: nothing is unread and the action is not there."""
    old = create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test"})
    api = old.test_client()
    headers = bearer(token_from(api, old.config))
    created = api.post("/Communication", json=message("patient_to_practitioner"), headers=headers)
    message_id = created.headers["Location"].split("/Communication/")[1]
    visitor = old.test_client()
    assert sign_in(visitor, old).status_code == 303
    patient = fixture_data["people"]["patients"][0]["id"]
    page = visitor.get(f"/chart/{patient}").get_data(as_text=True)
    assert 'data-testid="message-unread"' not in page and "Mark read" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = visitor.post(f"/chart/{patient}/messages/{message_id}/read", data={"csrf_token": token})
    assert answer.status_code == 404
    assert "received" not in api.get(f"/Communication/{message_id}", headers=headers).json
