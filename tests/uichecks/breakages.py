"""Pages that break one UI rule each: tests/suite/twists.py's Twist (WSGI middleware around the real mock).

Each breakage rewrites the HTML answer of the chart or the patient app (or the
``/_mock/sms`` and read-back answers) the way a real UI might get it wrong: a timeline
listed by sent date, a caption measured from the created date, no Send button, a
draft shown to the patient, an SMS sent on Send, a sent time rewritten on Send,
markup let through as markup. Everything else stays the real mock's.

``BREAKAGES`` holds them per profile: the canvas-current pages (no drafts, unread messages
marked read, the text stored as HTML) break UI-1, UI-4, UI-5, UI-6 and RECV-3 in ways of their
own. ``VARIANTS`` are pages a real Canvas may legitimately show (other captions and buttons,
newest first, other ties, the stored HTML laid out as HTML): every UI rule passes them.
"""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from typing import Callable

from canvas_conformance.ui_checks import ordinal_date
from mock_server.ui import html_text

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
        # <base>/Communication/<id>, or .../Communication/<id>/_history/1 (canvas-current)
        memory[re.search(r"/Communication/([^/]+)", response.headers["Location"])[1]] = memory.pop("pending")

    def all_texts(app, block: str) -> str:
        payload = memory.get(MESSAGE_ID.search(block).group(1), [])
        rest = " ".join(html.escape(p.get("contentString", "")) for p in payload[1:])
        return re.sub(r'(data-testid="message-content">.*?)(</p>)', lambda m: f"{m[1]} {rest}{m[2]}", block,
                      count=1, flags=re.S)

    return on_page("/chart/", each(CARD, all_texts))(app, incoming, response, memory)


# -- canvas-current ------------------------------------------------------------------------------
READ_PATH = re.compile(r"^/chart/(?P<patient>[^/]+)/messages/(?P<id>[^/]+)/read$")
CONTENT = re.compile(r'(data-testid="(?:message-content|app-message-content)">)(.*?)(</p>)', re.S)


def _clock_now(app) -> datetime:
    return app.extensions["mock_clock"].now()


def _stored_text(app, block: str) -> str:
    return _message(app, block).resource["payload"][0]["contentString"]


def _app_by_sent(app, page: str) -> str:
    """UI-1: the app placing messages by their sent time (as the 2022 app dated them), not by ingestion."""
    bubbles = BUBBLE.findall(page)
    if len(bubbles) < 2:
        return page
    start, end = page.index(bubbles[0]), page.rindex(bubbles[-1]) + len(bubbles[-1])
    ordered = sorted(bubbles, key=lambda block: _message(app, block).resource["sent"])
    return page[:start] + "\n".join(ordered) + page[end:]


def _html_shown_as_text(app, block: str) -> str:
    """UI-5: the stored HTML written out as text: the patient reads "<p>...</p>" and entities."""
    return CONTENT.sub(lambda m: m[1] + html.escape(_stored_text(app, block)) + m[3], block, count=1)


def _line_breaks_dropped(app, block: str) -> str:
    """UI-5: the HTML's tags stripped with its <br> too, so the two lines run together."""
    joined = html_text(re.sub(r"<br\s*/?>", "", _stored_text(app, block)))
    return CONTENT.sub(lambda m: m[1] + html.escape(joined) + m[3], block, count=1)


SEND_FORM = ('<form method="post" action="#" class="inline"><button type="submit" class="btn btn-primary" '
             'data-testid="send-button">Send</button></form>')


def _send_on_old_messages(app, block: str) -> str:
    """UI-6: a practitioner's message sent more than a day before the clock is offered a Send button."""
    if 'data-state="sent"' not in block:
        return block
    sent = datetime.fromisoformat(_message(app, block).resource["sent"])
    if _clock_now(app) - sent <= timedelta(days=1):
        return block
    return block.replace('</div>\n  </li>', SEND_FORM + '</div>\n  </li>', 1)


def _draft_once_a_day_old(app, block: str) -> str:
    """UI-6: a practitioner's message badged a draft once it has been in the chart a day."""
    if 'data-state="sent"' not in block:
        return block
    created = datetime.fromisoformat(_message(app, block).created)
    if _clock_now(app) - created <= timedelta(days=1):
        return block
    return re.sub(r'(data-testid="message-state">)[^<]*(</span>)', r"\1Draft\2", block, count=1)


def _app_after_a_reload(app, incoming: Incoming, response, memory):
    """UI-6: the app lists a practitioner's message from the second look on, never at the first."""
    seen = memory.setdefault("seen", set())

    def hide_new(app, block: str) -> str:
        message = _message(app, block)
        if message.sender_type != "Practitioner" or message.id in seen:
            return block
        seen.add(message.id)
        return ""

    return on_page("/patient-app/", each(BUBBLE, hide_new))(app, incoming, response, memory)


UNREAD = '<span class="unread-dot" data-testid="message-unread" title="Not read yet">Unread</span>'


def _unread_kept(app, block: str) -> str:
    """RECV-3: marked read (received stored), yet the timeline still shows it unread."""
    if 'data-state="patient"' not in block or 'data-testid="message-unread"' in block:
        return block
    return block.replace('<span class="card-parties"', UNREAD + ' <span class="card-parties"', 1)


def _no_mark_read(app, block: str) -> str:
    return re.sub(r'<form method="post" action="[^"]*/read"[^>]*>.*?</form>', "", block, flags=re.S)


def _remember_read(app, incoming: Incoming, memory):
    match = READ_PATH.match(incoming.path) if incoming.method == "POST" else None
    if match:
        memory.setdefault("read", []).append(match["id"])
    return None


def _read_back(change: Callable[[object, dict, dict], None]) -> Callable:
    """An ``after`` that changes the read-back of a message once it was marked read."""
    def after(app, incoming: Incoming, response, memory):
        if incoming.read_id() in memory.get("read", ()) and response.status_code == 200:
            body = body_of(response)
            change(app, body, memory)
            return with_body(response, body)
        return response
    return after


def _sent_instead(app, body: dict, memory) -> None:
    body["sent"] = body.pop("received")


def _received_at_creation(app, body: dict, memory) -> None:
    body["received"] = _store(app).get_communication(body["id"]).created


def _received_on_real_time(app, body: dict, memory) -> None:
    body["received"] = datetime.now(timezone.utc).isoformat()


# -- pages a real Canvas may show, which keep every rule -----------------------------------------
def _more_captions(app, block: str) -> str:
    """Another caption, and other buttons, on every card ("Sent via API", Reply, Print)."""
    extra = ('<p class="caption">Sent via API · Delivered</p><form class="inline"><button type="button" '
             'class="btn">Reply</button> <button type="button" class="btn">Print</button></form>')
    block = block.replace('</div>\n  </li>', extra + '</div>\n  </li>', 1)
    return block.replace('data-testid="message-received">Read', 'data-testid="message-received">Read by the care team')


def _newest_first(pattern: re.Pattern) -> Callable[[object, str], str]:
    def change(app, page: str) -> str:
        blocks = pattern.findall(page)
        if len(blocks) < 2:
            return page
        start, end = page.index(blocks[0]), page.rindex(blocks[-1]) + len(blocks[-1])
        return page[:start] + "\n".join(reversed(blocks)) + page[end:]
    return change


def _ties_the_other_way(app, page: str) -> str:
    """Messages added within the same minute (the shown created times tie) listed newest first."""
    cards = CARD.findall(page)
    if len(cards) < 2:
        return page
    start, end = page.index(cards[0]), page.rindex(cards[-1]) + len(cards[-1])
    shown = [re.search(r'data-testid="message-created"[^>]*>([^<]*)<', c).group(1) for c in cards]
    runs, out = [], []
    for label, block in zip(shown, cards):
        if runs and runs[-1][0] == label:
            runs[-1][1].append(block)
        else:
            runs.append((label, [block]))
    for _, blocks in runs:
        out.extend(reversed(blocks))
    return page[:start] + "\n".join(out) + page[end:]


def _html_laid_out(app, block: str) -> str:
    """The stored HTML embedded as HTML (what Canvas's docs suggest, "a library like Interweave")."""
    block = re.sub(r'<p class="(card-text|bubble-text)" data-testid="(message-content|app-message-content)">'
                   r'(.*?)</p>', lambda m: f'<div class="{m[1]}" data-testid="{m[2]}">{_stored_text(app, block)}'
                   '</div>', block, count=1, flags=re.S)
    return block


def _other_mark_read_wording(app, block: str) -> str:
    block = block.replace('title="Not read yet">Unread</span>', 'title="Not read yet">New</span>')
    return block.replace('data-testid="mark-read-button">Mark read</button>',
                         'data-testid="mark-read-button">Mark as read</button>')


def chained(*changes: Callable) -> Callable:
    """An ``after`` applying each of ``changes`` in turn."""
    def after(app, incoming, response, memory):
        for change in changes:
            response = change(app, incoming, response, memory)
        return response
    return after


CHART, APP = "/chart/", "/patient-app/"

# rule -> the breakages of it (each: the name of the way the page breaks it, and the twist)
BREAKAGES_2022: dict[str, list[Twist]] = {
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

CURRENT: dict[str, list[Twist]] = {
    "UI-1": [
        BREAKAGES_2022["UI-1"][0],
        Twist("lists the patient app by sent date", after=on_page(APP, _app_by_sent)),
    ],
    "UI-4": BREAKAGES_2022["UI-4"],
    "UI-5": [
        *BREAKAGES_2022["UI-5"],
        Twist("shows the stored HTML as text, tags and entities included",
              after=on_page(CHART, each(CARD, _html_shown_as_text))),
        Twist("runs the lines of a message together (drops the stored <br>)",
              after=chained(on_page(CHART, each(CARD, _line_breaks_dropped)),
                          on_page(APP, each(BUBBLE, _line_breaks_dropped)))),
    ],
    "UI-6": [
        Twist("offers a Send button on a practitioner's message sent more than a day before",
              after=on_page(CHART, each(CARD, _send_on_old_messages))),
        Twist("badges a practitioner's message a draft once it is a day old in the chart",
              after=on_page(CHART, each(CARD, _draft_once_a_day_old))),
        Twist("lists a practitioner's message in the patient app only after a reload", after=_app_after_a_reload),
    ],
    "RECV-3": [
        Twist("keeps the unread mark after the message is marked read", after=on_page(CHART, each(CARD, _unread_kept))),
        Twist("offers no way to mark an unread message read", after=on_page(CHART, each(CARD, _no_mark_read))),
        Twist("sets sent instead of received when a message is marked read", before=_remember_read,
              after=_read_back(_sent_instead)),
        Twist("sets received to the message's creation time when it is marked read", before=_remember_read,
              after=_read_back(_received_at_creation)),
        Twist("sets received on the server's real time, not its clock, when a message is marked read",
              before=_remember_read, after=_read_back(_received_on_real_time)),
    ],
}

# profile -> rule -> the breakages of it
BREAKAGES: dict[str, dict[str, list[Twist]]] = {"canvas-2022": BREAKAGES_2022, "canvas-current": CURRENT}

# Pages a real Canvas (canvas-current) may legitimately show: every UI rule of the profile passes them.
VARIANTS: list[Twist] = [
    Twist("shows more captions and buttons on every card", after=on_page(CHART, each(CARD, _more_captions))),
    Twist("lists the timeline and the patient app newest first",
          after=chained(on_page(CHART, _newest_first(CARD)), on_page(APP, _newest_first(BUBBLE)))),
    Twist("lists messages added in the same minute newest first", after=on_page(CHART, _ties_the_other_way)),
    Twist("lays the stored HTML out as HTML", after=chained(on_page(CHART, each(CARD, _html_laid_out)),
                                                          on_page(APP, each(BUBBLE, _html_laid_out)))),
    Twist("words the unread mark and its action otherwise ('New', 'Mark as read')",
          after=on_page(CHART, each(CARD, _other_mark_read_wording))),
]
