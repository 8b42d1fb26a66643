"""Checks of the UI rules (UI-1 to UI-6, RECV-3) over what a person reads on the pages.

Why plain records and pure functions: the browser part of the suite
(steps/ui_browser.py) reads each page once into ``TimelineCard`` and ``AppMessage``
records (the text shown, the buttons, whether markup became page elements), and every
rule is judged here, where it is unit-tested without a browser. Each check raises
``AssertionError`` whose message starts with the rule ID and shows what was expected
against what the page showed. Expected texts are worked out here from what the run
itself knows (the instant it held the target's clock at, the sent time it gave, the
names the API gives), never taken from the page under test.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Iterable, NamedTuple, Sequence

import humanize

from .checks import fail, parse_instant, same_instant

DRAFTED_BY = "Canvas Bot"  # UI-2: API-created drafts are captioned as drafted by Canvas's bot user
SEND = "Send"  # UI-2/UI-3: the button that sends a draft from the chart
MARK_READ = "Mark read"  # RECV-3: the action that marks a patient's message read (the mock's label)
_MARK_READ_LABELS = ("mark read", "mark as read")  # RECV-3: labels a real chart may give that action
_DRAFT_WORD = re.compile(r"\bdraft(ed|s)?\b", re.I)  # UI-6: what a draft caption or badge says
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SHOWN_DATE = re.compile(r"(?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2})(?:st|nd|rd|th), (?P<year>\d{4})"
                         r"(?:,? (?P<hour>\d{1,2}):(?P<minute>\d{2}))?")
_HH_MM = re.compile(r"\b(\d{1,2}):(\d{2})\b")


class TimelineCard(NamedTuple):
    """One message on a chart timeline, as a person reads it."""

    message_id: str
    text: str  # the whole card
    state: str | None  # its badge: "Draft", "Sent", "From patient"
    created: str | None  # when it was added to the chart, e.g. "Jun 10th, 2022, 15:04 UTC"
    content: str | None  # the message text
    content_elements: int  # page elements inside the message text (markup that was not escaped)
    caption: str | None  # "Drafted 4 months ago on Feb 10th, 2022 by Canvas Bot", "Sent ... to ..."
    buttons: tuple[str, ...]  # the visible buttons on the card
    unread: str | None = None  # RECV-3: the visible unread marker, e.g. "Unread" (None: none shown)


class AppMessage(NamedTuple):
    """One message in the patient messaging app, as the patient reads it."""

    message_id: str
    text: str  # the whole bubble
    author: str | None
    content: str | None
    content_elements: int
    date: str | None  # e.g. "Feb 10th, 2022 · 15:04 UTC"


# -- what the page should say ------------------------------------------------------------
def ordinal_date(instant: datetime) -> str:
    """ "Feb 10th, 2022": the UTC date with an ordinal day, as the document's caption writes it."""
    utc = instant.astimezone(timezone.utc)
    day = utc.day
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{_MONTHS[utc.month - 1]} {day}{suffix}, {utc.year}"


def time_since(instant: datetime, now: datetime) -> str:
    """ "4 months ago": the time from ``instant`` to ``now`` in a well-kept library's phrasing."""
    return humanize.naturaltime(now - instant)


def expected_caption(sent: datetime, now: datetime) -> str:
    """UI-2's caption for a draft sent at ``sent``, read when the target's clock says ``now``."""
    return f"Drafted {time_since(sent, now)} on {ordinal_date(sent)} by {DRAFTED_BY}"


def shown_date(text: str | None) -> datetime | None:
    """The first "Mon Dth, YYYY[, HH:MM]" in ``text`` as a UTC datetime (None when there is none)."""
    match = _SHOWN_DATE.search(text or "")
    if not match or match["month"] not in _MONTHS:
        return None
    try:
        return datetime(int(match["year"]), _MONTHS.index(match["month"]) + 1, int(match["day"]),
                        int(match["hour"] or 0), int(match["minute"] or 0), tzinfo=timezone.utc)
    except ValueError:
        return None


def squeeze(text: str | None) -> str:
    """Text with runs of white space made one space, as a browser lays it out."""
    return re.sub(r"\s+", " ", text or "").strip()


def _q(text: str | None) -> str:
    return "nothing" if text is None else repr(squeeze(text))


# -- finding things -------------------------------------------------------------------------
def card(cards: Sequence[TimelineCard], message_id: str, *, rule: str) -> TimelineCard:
    """The timeline card of ``message_id``; fails when the chart does not show it."""
    for found in cards:
        if found.message_id == message_id:
            return found
    fail(rule, "the patient's chart timeline", f"a card for the message {message_id}",
         f"{len(cards)} cards, none of them that message")


def app_message(messages: Sequence[AppMessage], message_id: str, *, rule: str, what: str) -> AppMessage:
    for found in messages:
        if found.message_id == message_id:
            return found
    fail(rule, what, f"the message {message_id} shown", f"{len(messages)} messages, none of them that one")


# -- UI-1 ---------------------------------------------------------------------------------------
def check_timeline_order(cards: Sequence[TimelineCard], created_order: Sequence[str], *, rule: str = "UI-1") -> str:
    """The timeline is in created-date order (oldest or newest first, the same way throughout), and the
    messages in ``created_order`` (ids, first created first) sit in that order. Returns the direction."""
    placed = [card(cards, message_id, rule=rule) for message_id in created_order]
    dates = []
    for shown in cards:
        when = shown_date(shown.created)
        if when is None:
            fail(rule, f"the created date on the card of {shown.message_id}", "a date such as 'Jun 10th, 2022, 15:04'",
                 _q(shown.created))
        dates.append(when)
    if dates == sorted(dates):
        direction = "oldest first"
    elif dates == sorted(dates, reverse=True):
        direction = "newest first"
    else:
        n = next(n for n in range(1, len(dates)) if dates[n] < dates[n - 1])
        fail(rule, "the order of the chart timeline", "cards ordered by their created dates",
             f"{_q(cards[n - 1].created)} ({cards[n - 1].message_id}) before {_q(cards[n].created)} "
             f"({cards[n].message_id}), in a timeline that elsewhere goes the other way")
    positions = [cards.index(shown) for shown in placed]
    expected = sorted(positions) if direction == "oldest first" else sorted(positions, reverse=True)
    if positions != expected:
        fail(rule, f"the places of the messages {', '.join(created_order)} on the timeline ({direction})",
             "the order they were created in", f"positions {positions}")
    return direction


def check_app_order(messages: Sequence[AppMessage], created_order: Sequence[str], *, rule: str = "UI-1",
                    missing_rule: str | None = None) -> str:
    """UI-1 (canvas-current): the patient app places the messages in ``created_order`` (ids, first created
    first) by their ingestion date: in that order, or its reverse for a newest-first thread. Other
    messages between them, and ties among others, are the app's own business. Returns the direction.
    A message missing from the app breaks ``missing_rule`` (UI-6 for a practitioner's message)."""
    ids = [m.message_id for m in messages]
    for message_id in created_order:
        app_message(messages, message_id, rule=missing_rule or rule, what="the patient app")
    positions = [ids.index(message_id) for message_id in created_order]
    if positions == sorted(positions):
        return "oldest first"
    if positions == sorted(positions, reverse=True):
        return "newest first"
    shown = [m.message_id for m in sorted((m for m in messages if m.message_id in created_order),
                                          key=lambda m: positions[created_order.index(m.message_id)])]
    fail(rule, f"the places of the messages {', '.join(created_order)} in the patient app",
         "the order they were created in (or its reverse)", f"positions {positions}, i.e. {', '.join(shown)}")


# -- UI-2 ---------------------------------------------------------------------------------------
def check_draft_caption(shown: TimelineCard, *, sent: datetime, now: datetime, rule: str = "UI-2") -> str:
    expected = expected_caption(sent, now)
    if squeeze(shown.caption) != expected:
        fail(rule, f"the caption of the draft {shown.message_id}", repr(expected), _q(shown.caption))
    return expected


def check_is_draft(shown: TimelineCard, *, rule: str = "UI-2") -> None:
    if squeeze(shown.state).casefold() != "draft":  # the page may show it in capitals
        fail(rule, f"the state shown on the card of {shown.message_id}", "'Draft'", _q(shown.state))


def check_send_button(shown: TimelineCard, *, rule: str = "UI-2") -> None:
    if SEND not in shown.buttons:
        fail(rule, f"the buttons on the draft {shown.message_id}", f"a {SEND!r} button", list(shown.buttons))


def check_not_in_app(messages: Sequence[AppMessage], message_id: str, *, rule: str = "UI-2") -> None:
    if any(m.message_id == message_id for m in messages):
        fail(rule, "the patient app before the draft is sent", f"no trace of the draft {message_id}",
             "the draft shown to the patient")


# -- UI-3 ---------------------------------------------------------------------------------------
def check_no_new_sms(before: Sequence[dict], after: Sequence[dict], *, rule: str = "UI-3") -> None:
    """Nothing was added to the SMS outbox between ``before`` and ``after`` (what pressing Send did)."""
    added = [sms for sms in after if sms not in before]
    if added:
        fail(rule, "the SMS outbox after pressing Send", "no text message sent", f"{len(added)} new: {added!r}"[:400])


def check_sent_unchanged(stored_sent: object, given_sent: str, *, rule: str = "UI-3",
                         after: str = "pressing Send") -> None:
    try:
        unchanged = same_instant(parse_instant(stored_sent), given_sent)
    except ValueError:
        unchanged = False
    if not unchanged:
        fail(rule, f"the stored sent time read back after {after}", f"still {given_sent}", repr(stored_sent))


def check_dated_at(shown: AppMessage, sent: datetime, *, rule: str) -> None:
    """The app dates the message at ``sent`` (its date, and its time of day where a time is shown)."""
    date = squeeze(shown.date)
    expected_day = ordinal_date(sent)
    utc = sent.astimezone(timezone.utc)
    times = _HH_MM.findall(date)
    if expected_day not in date or any((int(h), int(m)) != (utc.hour, utc.minute) for h, m in times):
        fail(rule, f"the date of {shown.message_id} in the patient app",
             f"its sent time {expected_day}" + (f" {utc:%H:%M}" if times else ""), _q(shown.date))


# -- UI-4 ---------------------------------------------------------------------------------------
def check_not_a_draft(shown: TimelineCard, *, rule: str = "UI-4") -> None:
    if squeeze(shown.state).casefold() == "draft" or squeeze(shown.caption).startswith("Drafted") or SEND in shown.buttons:
        fail(rule, f"the card of the patient's message {shown.message_id}", "a message, not a draft",
             f"state {_q(shown.state)}, caption {_q(shown.caption)}, buttons {list(shown.buttons)}")


def check_sent_and_recipient(shown: TimelineCard, *, sent: datetime, recipient: str, rule: str = "UI-4") -> None:
    text = squeeze(shown.text)
    if ordinal_date(sent) not in text:
        fail(rule, f"the card of {shown.message_id}", f"its sent date {ordinal_date(sent)!r}", repr(text))
    if recipient not in text:
        fail(rule, f"the card of {shown.message_id}", f"its recipient {recipient!r}", repr(text))


# -- UI-6 ---------------------------------------------------------------------------------------
def _outside_content(shown: TimelineCard) -> str:
    """The card's text less the message text itself (which may well say "draft")."""
    text = squeeze(shown.text)
    content = squeeze(shown.content)
    return text.replace(content, " ", 1) if content else text


def check_no_draft(shown: TimelineCard, *, rule: str = "UI-6") -> None:
    """UI-6: a practitioner's message is no draft: no draft badge or caption, no Send button. Other
    captions and buttons (a sent date, a reply button, "Sent via API") are the chart's own business."""
    draftish = any(_DRAFT_WORD.search(part) for part in (squeeze(shown.state), squeeze(shown.caption),
                                                          _outside_content(shown)))
    sends = [b for b in shown.buttons if squeeze(b).casefold().startswith(SEND.casefold())]
    if draftish or sends:
        fail(rule, f"the card of the practitioner's message {shown.message_id}", "no draft caption and no Send button",
             f"state {_q(shown.state)}, caption {_q(shown.caption)}, buttons {list(shown.buttons)}")


# -- RECV-3 -------------------------------------------------------------------------------------
def _mark_read_buttons(shown: TimelineCard) -> list[str]:
    return [b for b in shown.buttons if squeeze(b).casefold() in _MARK_READ_LABELS]


def mark_read_button(shown: TimelineCard) -> str:
    """The label of the card's mark-read action, as shown (check_unread has made sure there is one)."""
    return squeeze(next(iter(_mark_read_buttons(shown)), MARK_READ))


def check_unread(shown: TimelineCard, *, rule: str = "RECV-3") -> None:
    """RECV-3: the message shows as unread, with a way to mark it read."""
    if not squeeze(shown.unread):
        fail(rule, f"the card of {shown.message_id} (no received time)", "an unread mark", "none shown")
    if not _mark_read_buttons(shown):
        fail(rule, f"the buttons on the unread message {shown.message_id}", f"a {MARK_READ!r} action",
             list(shown.buttons))


def check_read(shown: TimelineCard, *, rule: str = "RECV-3") -> None:
    """RECV-3: once marked read, the message no longer shows as unread (nor offers marking it read)."""
    if squeeze(shown.unread) or _mark_read_buttons(shown):
        fail(rule, f"the card of {shown.message_id} after it was marked read", "no unread mark",
             f"unread mark {_q(shown.unread)}, buttons {list(shown.buttons)}")


def check_received_at(stored_received: object, marked: datetime, *, rule: str = "RECV-3") -> None:
    """RECV-3: the read-back's ``received`` is the instant the message was marked read."""
    try:
        right = same_instant(parse_instant(stored_received), marked.isoformat())
    except ValueError:
        right = False
    if not right:
        fail(rule, "the received time read back after marking the message read",
             f"{marked.isoformat()} (when it was marked read)",
             "no received" if stored_received is None else repr(stored_received))


# -- UI-5 (and the content of every card) -------------------------------------------------------
def lines(text: str | None) -> list[str]:
    """The lines a person reads, each squeezed, blank ones left out (a paragraph's end is no text)."""
    return [squeeze(line) for line in (text or "").splitlines() if line.strip()]


def check_content(shown: TimelineCard | AppMessage, text: str, *, rule: str, not_shown: Iterable[str] = (),
                  html: bool = False, by_line: bool = False) -> None:
    """The card's message text is ``text`` exactly (markup in it shown as text) and none of ``not_shown``
    (further payload elements) appears on it.

    ``html`` (canvas-current, PAY-6): the message is stored as HTML, and a page may render that HTML, so
    page elements inside the message are allowed: what is compared is its text content, in which
    markup the sender typed still reads as typed. Without it (canvas-2022) the text must not have
    become page elements at all. ``by_line``: the line breaks in ``text`` must be line breaks shown."""
    if squeeze(shown.content) != squeeze(text) or (by_line and lines(shown.content) != lines(text)):
        expected = " / ".join(map(repr, lines(text))) + " (one line each)" if by_line else repr(squeeze(text))
        got = " / ".join(map(repr, lines(shown.content))) if by_line and shown.content is not None \
            else _q(shown.content)
        fail(rule, f"the message text shown for {shown.message_id}", expected, got)
    if shown.content_elements and not html:
        fail(rule, f"the message text of {shown.message_id}", "markup shown as text",
             f"{shown.content_elements} page element(s) made from it")
    for other in not_shown:
        if squeeze(other) in squeeze(shown.text):
            fail(rule, f"the card of {shown.message_id}", "only the first payload element's text",
                 f"also {squeeze(other)!r}")
