"""The pages in a real browser, read as a person reads them (UI-1 to UI-5).

One headless Chromium for the whole module and one mock served on a free loopback
port; every test gets a fresh page in its own context (so it signs in itself) and
starts from an empty mock. If no browser can start, the module's tests error out:
they are never skipped. Each test leaves a screenshot in its tmp_path.
"""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from canvas_conformance import browser as chromium
from mock_server import create_app
from mock_server.serve import start_in_thread


@pytest.fixture(scope="module")
def browser():
    running = chromium.start()  # BrowserUnavailable fails every test here, loudly
    yield running
    running.stop()


@pytest.fixture(scope="module")
def served():
    app = create_app({"DATABASE": ":memory:", "CLIENT_SECRET": secrets.token_urlsafe(24)})
    running = start_in_thread(app)
    yield app, running.base_url
    running.stop()


@pytest.fixture
def mock(served, mock_api_for):
    """The served mock's API, emptied before each test and back on the real clock after it.

    The clock goes back at teardown, with the token issued on the real clock: a token
    issued on a frozen 2022 clock would already be expired once real time is back.
    """
    app, _ = served
    mock_api = mock_api_for(app)
    assert mock_api.client.post("/_mock/reset", headers=mock_api.headers).status_code == 200
    yield mock_api
    assert mock_api.client.delete("/_mock/clock", headers=mock_api.headers).status_code == 200


@pytest.fixture
def page(browser, served):
    _, base_url = served
    with browser.page(base_url=base_url) as fresh:
        yield fresh


def sign_in(page, served, path: str) -> None:
    """Open ``path``, land on the sign-in form, fill it in, and come back to ``path``."""
    app, base_url = served
    page.goto(path)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Client id").fill(app.config["CLIENT_ID"])
    page.get_by_label("Client secret").fill(app.config["CLIENT_SECRET"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + path)


def test_sign_in_then_read_the_draft_caption_on_the_chart(page, served, mock, draft, patient_id, tmp_path):
    """UI-1, UI-2, UI-5: the document's example caption, on a clock frozen four months later."""
    mock.freeze("2022-06-15T12:00:00Z")
    drafted = mock.create(draft)
    sign_in(page, served, f"/chart/{patient_id}")
    expect(page.get_by_test_id("patient-name")).to_have_text("Amara Lindqvist")
    card = page.get_by_test_id("timeline-message")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-message-id", drafted)
    expect(card.get_by_test_id("message-caption")).to_have_text(
        "Drafted 4 months ago on Feb 10th, 2022 by Canvas Bot")
    expect(card.get_by_test_id("message-content")).to_have_text(draft["payload"][0]["contentString"])
    expect(card.get_by_role("button", name="Send")).to_be_visible()
    page.screenshot(path=tmp_path / "chart.png", full_page=True)


def test_send_from_the_chart_puts_the_draft_in_the_patient_app(page, served, mock, draft, message, patient_id, tmp_path):
    """UI-2 before Send, UI-3 after it, UI-4 throughout."""
    mock.freeze("2022-06-15T12:00:00Z")
    drafted = mock.create(draft)
    own = mock.create(message("patient_to_practitioner"))
    sign_in(page, served, f"/patient-app/{patient_id}")
    shown = page.get_by_test_id("app-message")
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("data-message-id", own)
    page.screenshot(path=tmp_path / "app-before.png", full_page=True)

    page.get_by_test_id("tab-chart").click()
    draft_card = page.locator(f'[data-message-id="{drafted}"]')
    expect(draft_card).to_have_attribute("data-state", "draft")
    draft_card.get_by_role("button", name="Send").click()
    expect(draft_card).to_have_attribute("data-state", "sent")
    expect(draft_card.get_by_role("button", name="Send")).to_have_count(0)
    expect(page.locator(f'[data-message-id="{own}"]').get_by_test_id("message-caption")).to_have_text(
        "Sent 4 months ago on Feb 10th, 2022 to Dr. Helen Okafor")
    page.screenshot(path=tmp_path / "chart-after-send.png", full_page=True)
    assert mock.sms() == []
    assert mock.read(drafted)["sent"] == "2022-02-10T15:04:00+00:00"

    page.get_by_test_id("tab-app").click()
    expect(shown).to_have_count(2)
    sent_draft = page.locator(f'[data-testid="app-message"][data-message-id="{drafted}"]')
    expect(sent_draft.get_by_test_id("app-message-content")).to_have_text(draft["payload"][0]["contentString"])
    expect(sent_draft.get_by_test_id("app-message-date")).to_have_text("Feb 10th, 2022 · 15:04 UTC")
    page.screenshot(path=tmp_path / "app-after-send.png", full_page=True)


def test_markup_in_a_message_shows_as_text_and_never_runs(page, served, mock, draft, patient_id, tmp_path):
    """UI-5: what the browser shows is the literal text; nothing in it became an element or ran."""
    markup = "<img src=x onerror=\"document.title='ran'\"><b>bold?</b>"
    draft["payload"][0]["contentString"] = markup
    mock.create(draft)
    sign_in(page, served, f"/chart/{patient_id}")
    content = page.get_by_test_id("message-content")
    expect(content).to_have_text(markup)
    expect(content.locator("img, b")).to_have_count(0)
    assert page.title() == "Amara Lindqvist · Chart · Canvas mock"
    page.screenshot(path=tmp_path / "markup.png", full_page=True)


def test_a_wrong_secret_keeps_the_pages_closed(page, served, patient_id):
    app, _ = served
    page.goto(f"/chart/{patient_id}")
    page.get_by_label("Client id").fill(app.config["CLIENT_ID"])
    page.get_by_label("Client secret").fill("not-the-secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page.get_by_label("Client secret")).to_have_value("")
    assert "not-the-secret" not in page.content()
    page.goto(f"/chart/{patient_id}")
    expect(page.get_by_test_id("sign-in-form")).to_be_visible()
