"""Pages that break one UI rule each: tests/suite/twists.py's Twist (WSGI middleware around the real mock).

Each breakage rewrites the HTML answer of the chart or the patient app (or the
``/_mock/sms`` and read-back answers) the way a real UI might get it wrong: a timeline
listed by sent date, a caption measured from the created date, no Send button, a
draft shown to the patient, an SMS sent on Send, a sent time rewritten on Send,
markup let through as markup. Everything else stays the real mock's.
"""
from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Callable

from canvas_conformance.ui_checks import ordinal_date

from ..suite.twists import Incoming, Twist, body_of, with_body

CARD = re.compile(r'<li class="card [^"]*"[^>]*>.*?</li>', re.S)
BUBBLE = re.compile(r'<li class="bubble [^"]*"[^>]*>.*?</li>', re.S)
SEND_PATH = re.compile(r"^/chart/(?P<patient>[^/]+)/messages/(?P<id>[^/]+)/send$")
MESSAGE_ID = re.compile(r'data-message-id="([^"]+)"')


def _store(app):
    return app.extensions["mock_store"]


def on_page(prefix: str, change: Callable[[object, str], str]) -> Callable:
    """An ``after`` that rewrites the HTML of the pages whose path starts with ``prefix``."""
    def after(app, incoming: Incoming, response, memory):
        if incoming.method == "GET" and incoming.path.startswith(prefix) and response.status_code == 200 \
                and response.mimetype == "text/html":
            response.set_data(change(app, response.get_data(as_text=True)))
        return response
    return after


def each(pattern: re.Pattern, change: Callable[[object, str], str]) -> Callable[[object, str], str]:
    """Apply ``change(app, block)`` to every card (or bubble) of a page."""
    return lambda app, page: pattern.sub(lambda m: change(app, m.group(0)), page)


def _message(app, block: str):
    return _store(app).get_communication(MESSAGE_ID.search(block).group(1))


# -- UI-1 -------------------------------------------------------------------------------------------
def _by_sent(app, page: str) -> str:
    cards = CARD.findall(page)
    if len(cards) < 2:
        return page
    start, end = page.index(cards[0]), page.rindex(cards[-1]) + len(cards[-1])
    ordered = sorted(cards, key=lambda block: re.search(r'datetime="([^"]+)" data-testid="message-sent-date"',
                                                         block).group(1))
    return page[:start] + "\n".join(ordered) + page[end:]


# -- UI-2 -------------------------------------------------------------------------------------------
def _caption_from_created(app, block: str) -> str:
    if 'data-state="draft"' not in block:
        return block
    created = re.search(r'data-testid="message-created"[^>]*>([^,]+, \d{4})', block).group(1)
    return re.sub(r'(data-testid="message-caption">).*?(</p>)', rf"\1Drafted now on {created} by Canvas Bot\2",
                  block, flags=re.S)


def _no_send_button(app, block: str) -> str:
    return re.sub(r'<form method="post" action="[^"]*/send"[^>]*>.*?</form>', "", block, flags=re.S)


def _drafts_in_app(app, page: str) -> str:
    patient = re.search(r'data-testid="patient-banner" data-patient-id="([^"]+)"', page).group(1)
    drafts = [m for m in _store(app).messages_for_patient(patient)
              if m.sender_type == "Practitioner" and m.ui_sent_at is None]
    bubbles = "".join(
        f'<li class="bubble bubble-in" data-testid="app-message" data-message-id="{m.id}">'
        f'<p class="bubble-author" data-testid="app-message-author">Your care team</p>'
        f'<p class="bubble-text" data-testid="app-message-content">'
        f'{html.escape(m.resource["payload"][0]["contentString"])}</p>'
        f'<time class="bubble-date" data-testid="app-message-date">{m.resource["sent"]}</time></li>'
        for m in drafts)
    page = re.sub(r'<li class="thread-empty".*?</li>', "", page, flags=re.S)
    return page.replace('data-testid="app-messages">', 'data-testid="app-messages">' + bubbles, 1)


# -- UI-3 -------------------------------------------------------------------------------------------
def _remember_send(app, incoming: Incoming, memory):
    match = SEND_PATH.match(incoming.path) if incoming.method == "POST" else None
    if match:
        message = _store(app).get_communication(match["id"])
        memory.setdefault("sent", []).append(match["id"])
        memory.setdefault("sms", []).append({"patient": match["patient"], "created": "when Send was pressed",
                                             "body": message.resource["payload"][0]["contentString"]})
    return None


def _sms_on_send(app, incoming: Incoming, response, memory):
    if incoming.method == "GET" and incoming.path == "/_mock/sms" and response.status_code == 200:
        body = body_of(response)
        body["messages"] = body["messages"] + memory.get("sms", [])
        return with_body(response, body)
    return response


def _sent_rewritten_on_send(app, incoming: Incoming, response, memory):
    if incoming.read_id() in memory.get("sent", ()) and response.status_code == 200:
        body = body_of(response)
        body["sent"] = _store(app).get_communication(incoming.read_id()).ui_sent_at
        return with_body(response, body)
    return response


def _app_dated_at_send(app, block: str) -> str:
    message = _message(app, block)
    if message.ui_sent_at is None:
        return block
    pressed = datetime.fromisoformat(message.ui_sent_at)
    date = f"{ordinal_date(pressed)} · {pressed:%H:%M} UTC"
    return re.sub(r'(data-testid="app-message-date">).*?(</time>)', rf"\g<1>{date}\2", block, flags=re.S)


# -- UI-4 -------------------------------------------------------------------------------------------
def _own_messages_hidden(app, block: str) -> str:
    return "" if "bubble-out" in block else block


def _no_recipient(app, block: str) -> str:
    if 'data-state="patient"' not in block:
        return block
    block = re.sub(r' <span role="img" aria-label="to">→</span> [^<]*', "", block)
    return re.sub(r' to <span data-testid="message-recipient">.*?</span>', "", block, flags=re.S)


# -- UI-5 -------------------------------------------------------------------------------------------
def _markup_let_through(app, incoming, response, memory):
    """Message text written into the page unescaped, and no Content-Security-Policy to stop it."""
    response = on_page("/chart/", each(CARD, lambda app, block: re.sub(
        r'(data-testid="message-content">)(.*?)(</p>)', lambda m: m[1] + html.unescape(m[2]) + m[3], block,
        flags=re.S)))(app, incoming, response, memory)
    response.headers.pop("Content-Security-Policy", None)
    return response


def _payload_given(app, incoming: Incoming, memory):
    """Keep every payload element a create gave (the mock stores only the first, PAY-2)."""
    if incoming.method == "POST" and incoming.path == "/Communication":
        memory["pending"] = (incoming.message or {}).get("payload", [])


def _every_payload_element(app, incoming: Incoming, response, memory):
    if incoming.method == "POST" and incoming.path == "/Communication" and response.status_code == 201:
        memory[response.headers["Location"].rsplit("/", 1)[1]] = memory.pop("pending")

    def all_texts(app, block: str) -> str:
        payload = memory.get(MESSAGE_ID.search(block).group(1), [])
        rest = " ".join(html.escape(p.get("contentString", "")) for p in payload[1:])
        return re.sub(r'(data-testid="message-content">.*?)(</p>)', lambda m: f"{m[1]} {rest}{m[2]}", block,
                      count=1, flags=re.S)

    return on_page("/chart/", each(CARD, all_texts))(app, incoming, response, memory)


# rule -> the breakages of it (each: the name of the way the page breaks it, and the twist)
BREAKAGES: dict[str, list[Twist]] = {
    "UI-1": [Twist("lists the chart timeline by sent date", after=on_page("/chart/", _by_sent))],
    "UI-2": [
        Twist("captions a draft with its created date", after=on_page("/chart/", each(CARD, _caption_from_created))),
        Twist("shows no Send button on a draft", after=on_page("/chart/", each(CARD, _no_send_button))),
        Twist("shows drafts in the patient app before Send", after=on_page("/patient-app/", _drafts_in_app)),
    ],
    "UI-3": [
        Twist("sends an SMS when Send is pressed", before=_remember_send, after=_sms_on_send),
        Twist("rewrites the stored sent time when Send is pressed", before=_remember_send,
              after=_sent_rewritten_on_send),
        Twist("dates a sent draft in the patient app at the moment of Send",
              after=on_page("/patient-app/", each(BUBBLE, _app_dated_at_send))),
    ],
    "UI-4": [
        Twist("hides the patient's own messages from the patient app",
              after=on_page("/patient-app/", each(BUBBLE, _own_messages_hidden))),
        Twist("shows a patient's message without its recipient", after=on_page("/chart/", each(CARD, _no_recipient))),
    ],
    "UI-5": [
        Twist("writes markup in a message into the page as markup", after=_markup_let_through),
        Twist("shows every payload element, not just the first", before=_payload_given,
              after=_every_payload_element),
    ],
}
