"""The browser side of the UI checks: is this target the reference mock with its pages, one signed-in
page per scenario, and a screenshot of every page a check read.

Why this shape: the UI rules are about what a person sees, so where the target serves
the reference mock's pages the checks read them in a real browser; everywhere else the
scenarios stay "manual". Whether the pages are there is learnt once per run over HTTP
(the mock's sign-in page and its clock control), never by importing the mock. The
browser itself is one per run (``chromium`` in conftest.py, started by the first
scenario that needs it); each scenario gets a fresh context (its own cookies), signs
in there with the run's client credentials, and reads each page into plain records in
one round trip (``ui_checks`` judges them). Every page read is captured (the full page,
or its top down to the messages checked when it is very tall) when the scenario leaves
it or ends, passed or failed, and attached to the scenario.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest

from canvas_conformance.client import Evidence
from canvas_conformance.ui_checks import AppMessage, TimelineCard

from .target import Target

SIGN_IN_MARKER = 'data-testid="sign-in-form"'  # the mock's sign-in form, as its template marks it
# A full page is captured; a page taller than this (a chart holding the whole run's messages) is
# captured from the top down to the last message the checks read, so a screenshot stays readable,
# small in report.html and quick to take.
MAX_SHOT_HEIGHT = 2400

_READ_TIMELINE = """() => {
  const shown = (el) => !!el && el.checkVisibility();
  const text = (card, id) => { const el = card.querySelector(`[data-testid="${id}"]`); return shown(el) ? el.innerText : null; };
  return Array.from(document.querySelectorAll('[data-testid="timeline-message"]')).filter(shown).map((card) => {
    const content = card.querySelector('[data-testid="message-content"]');
    return {
      message_id: card.dataset.messageId || "", text: card.innerText,
      state: text(card, "message-state"), created: text(card, "message-created"),
      content: shown(content) ? content.innerText : null,
      content_elements: content ? content.querySelectorAll("*").length : 0,
      caption: text(card, "message-caption"), unread: text(card, "message-unread"),
      buttons: Array.from(card.querySelectorAll('button, input[type="submit"], [role="button"]'))
        .filter(shown).map((b) => (b.innerText || b.value || "").trim()),
    };
  });
}"""

_READ_APP = """() => {
  const shown = (el) => !!el && el.checkVisibility();
  const text = (bubble, id) => { const el = bubble.querySelector(`[data-testid="${id}"]`); return shown(el) ? el.innerText : null; };
  return Array.from(document.querySelectorAll('[data-testid="app-message"]')).filter(shown).map((bubble) => {
    const content = bubble.querySelector('[data-testid="app-message-content"]');
    return {
      message_id: bubble.dataset.messageId || "", text: bubble.innerText,
      author: text(bubble, "app-message-author"), content: shown(content) ? content.innerText : null,
      content_elements: content ? content.querySelectorAll("*").length : 0, date: text(bubble, "app-message-date"),
    };
  });
}"""

# The page's size, and how far down the messages the checks read reach. Those messages are outlined
# for the screenshot (through the CSSOM, which the pages' Content-Security-Policy allows), so a person
# finds them among the chart's other entries.
_PAGE_SIZE = """(ids) => {
  let bottom = 0;
  for (const el of document.querySelectorAll("[data-message-id]")) {
    if (!ids.includes(el.dataset.messageId)) continue;
    el.style.outline = "3px solid #d9480f";
    el.style.outlineOffset = "3px";
    bottom = Math.max(bottom, el.getBoundingClientRect().bottom + window.scrollY);
  }
  return {height: document.documentElement.scrollHeight, width: document.documentElement.clientWidth, bottom: bottom};
}"""


class PagesOffer(NamedTuple):
    """Whether the run can check the UI rules in a browser, and why (not)."""

    usable: bool
    why: str


class SignIn:
    """The run's sign-in to the pages: made through the form by the first scenario that reads a page,
    then handed to every later scenario's fresh context as its session cookie (kept in memory only),
    which spares each scenario the sign-in round trips."""

    def __init__(self) -> None:
        self.cookies: list[dict] = []


class PageError(RuntimeError):
    """A page could not be read (sign-in refused, an error page): an error, not a verdict on a rule."""


@pytest.fixture(scope="session")
def mock_pages(target: Target) -> PagesOffer:
    """Does the target serve the reference mock's pages? Asked once, over HTTP, by the first UI scenario."""
    if not target.mock_controls:
        return PagesOffer(False, "the target has no mock clock control, so it is not the reference mock")
    answer = target.client.request("look for the mock's sign-in page", "GET", "sign-in", authorize=False)
    target.client.session.cookies.clear()  # the page's session cookie has no business in API requests
    if answer.status != 200 or SIGN_IN_MARKER not in answer.text:
        return PagesOffer(False, f"GET /sign-in answered {answer.status} without the mock's sign-in form")
    if not target.client.has_credentials:
        return PagesOffer(False, "the mock's pages need the client id and secret to sign in; only a token was given")
    return PagesOffer(True, "the target serves the reference mock's pages")


@pytest.fixture(scope="session")
def ui_sign_in() -> SignIn:
    return SignIn()


@pytest.fixture
def pages(request: pytest.FixtureRequest, target: Target, mock_pages: PagesOffer, evidence: Evidence,
          screenshot_dir: Path, ui_sign_in: SignIn, rule: str):
    """This scenario's signed-in browser page on the mock's pages, or None where there are none.

    The run's browser is asked for only here, so a run whose target has no pages never starts one;
    if it cannot start, the scenario errors with the reason (never skipped).
    """
    if not mock_pages.usable:
        evidence.note(f"{rule}: not read in a browser ({mock_pages.why}), so a person checks it")
        yield None
        return
    browser = request.getfixturevalue("chromium")
    stem = f"{rule}-{_slug(request.node.name.removeprefix('test_'))[:48]}"
    viewer = Pages(browser, target=target, evidence=evidence, shots=screenshot_dir, stem=stem, rule=rule,
                   signed_in=ui_sign_in)
    try:
        yield viewer
    finally:
        viewer.close()  # captures the page on screen: after the checks, or where one failed


class Pages:
    """One scenario's view of the mock's pages through a fresh browser context."""

    def __init__(self, browser, *, target: Target, evidence: Evidence, shots: Path, stem: str, rule: str,
                 signed_in: SignIn) -> None:
        self._target = target
        self._signed_in = signed_in
        self._evidence = evidence
        self._shots = shots
        self._stem = stem
        self._rule = rule
        self._count = 0
        self._browser_version = browser.version
        with contextlib.ExitStack() as stack:
            self.page = stack.enter_context(
                browser.page(base_url=target.base_url, timeout_ms=int(target.client.timeout * 1000)))
            if signed_in.cookies:
                self.page.context.add_cookies(signed_in.cookies)
                evidence.note(f"{rule}: a fresh browser context, carrying the session cookie of the run's sign-in")
            self._stack = stack.pop_all()  # closed by close(); closed here if the lines above failed
        self._on_screen: str | None = None  # what the page shows and has not been captured yet
        self.focus: list[str] = []  # ids of the messages the checks read (kept in view in a capture)

    # -- reading pages ---------------------------------------------------------------------
    def timeline(self, patient_id: str, *, title: str | None = None) -> list[TimelineCard]:
        self.open(f"/chart/{patient_id}", title or "the chart timeline")
        return [TimelineCard(**{**card, "buttons": tuple(card["buttons"])})
                for card in self.page.evaluate(_READ_TIMELINE)]

    def app(self, patient_id: str, *, title: str | None = None) -> list[AppMessage]:
        self.open(f"/patient-app/{patient_id}", title or "the patient app")
        return [AppMessage(**bubble) for bubble in self.page.evaluate(_READ_APP)]

    def open(self, path: str, title: str) -> None:
        """Go to ``path`` (signing in on the way when the target asks), capturing the page left."""
        self.capture()
        response = self.page.goto(path)
        if _path(self.page.url) == "/sign-in":
            response = self._sign_in(path)
        self._arrived(path, title, response)

    def press_send(self, message_id: str, *, title: str = "the chart after pressing Send") -> None:
        """Press Send on the draft's card, as a person does, and wait for the page that follows (UI-3)."""
        self.press(message_id, "Send", title=title)

    def press(self, message_id: str, button_name: str, *, title: str) -> None:
        """Press the button named ``button_name`` on the message's card and wait for the page that follows."""
        card = self.page.locator(f'[data-testid="timeline-message"][data-message-id="{message_id}"]')
        button = card.get_by_role("button", name=button_name, exact=True)
        self.capture()
        with self.page.expect_navigation() as navigation:
            button.click()
        self._arrived(_path(self.page.url), title, navigation.value)

    def _sign_in(self, path: str):
        client = self._target.client
        form = self.page.get_by_test_id("sign-in-form")
        form.get_by_test_id("client-id").fill(client.client_id or "")
        form.get_by_test_id("client-secret").fill(client.client_secret or "")
        with self.page.expect_navigation() as navigation:
            form.get_by_test_id("sign-in-button").click()
        if _path(self.page.url) != path:
            status = navigation.value.status if navigation.value else "no answer"
            raise PageError(f"signing in to the target's pages with the run's client id and secret failed "
                            f"(answer {status}, then {_path(self.page.url)})")
        self._signed_in.cookies = self.page.context.cookies()
        self._evidence.note(f"{self._rule}: signed in to the pages with the run's client id and secret, typed "
                            "into the sign-in form (a password field: the secret is never shown)")
        return navigation.value

    def _arrived(self, path: str, title: str, response) -> None:
        status = response.status if response is not None else None
        self._on_screen = title
        self._evidence.note(f"{self._rule}: read {title} at {self.page.url} in Chromium {self._browser_version} "
                            f"(HTTP {status})")
        if status != 200:
            raise PageError(f"{path} answered {status} in the browser, not the page")

    # -- screenshots ---------------------------------------------------------------------
    def capture(self) -> None:
        """A screenshot of the page on screen (once per page shown), attached to the scenario."""
        if self._on_screen is None:
            return
        title, self._on_screen = self._on_screen, None
        self._count += 1
        name = f"{self._stem}-{self._count}-{_slug(title)[:32]}.png"
        self._shots.mkdir(parents=True, exist_ok=True)
        size = self.page.evaluate(_PAGE_SIZE, self.focus)
        options = {"path": str(self._shots / name), "full_page": True, "animations": "disabled"}
        if size["height"] > MAX_SHOT_HEIGHT:
            height = min(MAX_SHOT_HEIGHT, max(int(size["bottom"]) + 24, self.page.viewport_size["height"]))
            options["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": height}
            title += f" (the top {height} px of a {size['height']} px page, down to the messages checked)"
        self.page.screenshot(**options)
        self._evidence.attach(kind="screenshot", path=f"{self._shots.name}/{name}", title=title)

    def close(self) -> None:
        try:
            self.capture()
        finally:
            self._stack.close()


def _path(url: str) -> str:
    return urlsplit(url).path


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
