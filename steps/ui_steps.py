"""Steps for the UI rules (UI-1..UI-6, RECV-3): what a person sees in the chart and the patient app.

The scenario has already created its messages through the API, so the steps know their
ids. Where the target serves the reference mock's pages (``pages`` is not None) the
steps read them in the run's browser and judge what they read with
``canvas_conformance.ui_checks``; expected captions and dates are worked out from the
instant the target's clock was held at and the sent time the run gave. Everywhere
else the scenario ends ``manual``, with numbered steps for a person to follow in
Canvas and the ids of the messages to look for.

What a page must show depends on the run's profile where a rule reads differently in it: the
catalogue says which rules the profile has (``_in_profile``), so a step asks it "are
practitioners' messages drafts here?" (UI-2 in the profile) rather than naming an edition.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pytest_bdd import given, then, when

from canvas_conformance import catalogue, checks, ui_checks
from canvas_conformance.client import Evidence
from canvas_conformance.results import manual as by_hand  # ends the scenario manual, steps numbered

from .bodies import Draft, between, changed, first_text
from .message_steps import Submission, submit
from .reading_steps import check_created
from .target import Target, utc
from .terms import phrase
from .time_steps import HeldClock
from .ui_browser import Pages


def name_of(target: Target, reference: str) -> str | None:
    """The name the target gives a Patient/Practitioner reference (None when it gives none)."""
    answer = target.client.request(f"look up the name of {reference}", "GET", reference)
    if answer.status != 200:
        return None
    try:
        names = answer.json().get("name") or [{}]
        return names[0].get("text") or " ".join(
            [*names[0].get("prefix", []), *names[0].get("given", []), names[0].get("family", "")]).strip() or None
    except (ValueError, AttributeError, TypeError, IndexError):
        return None


def who(target: Target, reference: str) -> str:
    """A person as someone at Canvas's screens would look for them: name and reference."""
    name = name_of(target, reference)
    return f"{name} ({reference})" if name else reference


def _in_profile(settings, rule_id: str) -> bool:
    """Whether the run's profile has ``rule_id``: UI-2 (drafts), UI-6 (no drafts), PAY-6 (HTML storage)."""
    return rule_id in {r.id for r in catalogue.rules(settings.profile)}


def _html_stored(settings) -> bool:
    # PAY-6: the profile's Canvas stores message text as HTML, and its pages may render that HTML
    # (UI-5 then compares the text content the page shows).
    return _in_profile(settings, "PAY-6")


def _now(clock: HeldClock) -> datetime:
    if clock.instant is None:  # the pages are only read where the clock can be held (the mock)
        raise RuntimeError("the target's clock was not held, so the pages' relative times cannot be predicted")
    return clock.instant


# -- UI-1 -----------------------------------------------------------------------------------------
@when(phrase("two more messages to the same patient, sent {second:d} and {third:d} months before the first, are "
             "submitted a minute apart"), target_fixture="later_submissions")
def later_messages(target: Target, draft: Draft, clock: HeldClock, second: int, third: int) -> list[Submission]:
    """Created after the first but sent before it (the second earliest of all), so that neither
    oldest-first nor newest-first sent order matches created order."""
    first = draft.message
    submissions = []
    for months in (second, third):
        later = between("minimal", sender=first["sender"]["reference"], recipient=first["recipient"][0]["reference"])
        later = changed(later, sent=(utc(first["sent"]) - timedelta(days=round(months * 30.44))).isoformat())
        if clock.instant is not None:
            target.shift_clock(60)
        submissions.append(submit(target, later, name=f"create a message sent {months} months before the first",
                                  counted=False))
    return submissions


@then("the target accepts them as new messages too", target_fixture="created_later")
def later_accepted(target: Target, later_submissions: list[Submission], rule: str) -> list[str]:
    # a refusal or a malformed Location here is ID-1's breach, not the UI rule's (verdicts.creation_rule)
    return [check_created(target, s.answer, s.draft, rule, what=f"the {s.answer.exchange.name!r}")
            for s in later_submissions]


@then("the patient's chart timeline shows the three in the order they were created, not the order they were sent")
def in_created_order(target: Target, draft: Draft, created: str, later_submissions: list[Submission],
                     created_later: list[str], pages: Pages | None, evidence: Evidence, rule: str,
                     settings) -> None:
    order = [created, *created_later]
    bodies = [draft.message, *(s.draft.message for s in later_submissions)]
    listed = "; ".join(f"({letter}) {message_id} (text {first_text(body)!r}, sent {body['sent']})"
                       for letter, message_id, body in zip("abc", order, bodies))
    if pages is None:
        by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, str(draft.patient))}.",
                f"Find on the chart timeline these messages, created by this run in this order a moment apart: "
                f"{listed}.",
                "Check all three are there and placed by the time they were created (in this order, or its "
                "reverse if the timeline lists newest first), not by their sent times, each among the chart's "
                "other entries in created-date order.",
                *(["Sign in to the patient app as that patient (pressing nothing in the chart first) and check "
                   "all three are there already, placed by the time they were created, not by their sent "
                   "times."] if _in_profile(settings, "UI-6") else []))
    pages.focus = order
    cards = pages.timeline(draft.patient.id)
    direction = ui_checks.check_timeline_order(cards, order, rule=rule)
    evidence.note(f"UI-1: created in this order: {listed}; the timeline ({len(cards)} cards, {direction}) "
                  "places them by created date")


@then("where the profile has no drafts, the patient app already lists the three in the order they were created")
def app_in_created_order(created: str, created_later: list[str], draft: Draft, pages: Pages | None,
                         evidence: Evidence, rule: str, settings) -> None:
    if not _in_profile(settings, "UI-6"):
        # canvas-2022: a practitioner's message reaches the app only after Send (UI-2, UI-3), so UI-1
        # speaks of the timeline alone.
        evidence.note(f"UI-1 in {settings.profile}: about the chart timeline only (a practitioner's message "
                      "is a draft the patient app does not show before Send)")
        return
    order = [created, *created_later]
    shown = pages.app(draft.patient.id)
    # UI-6: a practitioner's message is in the app at once; one missing is that rule's breach, not UI-1's.
    direction = ui_checks.check_app_order(shown, order, rule=rule, missing_rule="UI-6")
    evidence.note(f"UI-1 in {settings.profile}: the patient app ({len(shown)} messages, {direction}) places the "
                  "three by created date too")


# -- UI-2 -----------------------------------------------------------------------------------------
@then("the chart shows it as a draft captioned as drafted by Canvas Bot, with a Send button")
def a_draft(target: Target, draft: Draft, created: str, clock: HeldClock, pages: Pages | None,
            evidence: Evidence, rule: str) -> None:
    sent = draft.message.get("sent")
    if pages is None:
        by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, str(draft.patient))}.",
                f"Find the message {created} (text {first_text(draft.message)!r}) on the chart timeline.",
                f"Check it is shown as a draft with a Send button, captioned 'Drafted <time since it was sent> on "
                f"<sent date> by Canvas Bot', where the sent time is {sent} (e.g. 'Drafted 4 months ago on Feb "
                "10th, 2022 by Canvas Bot').",
                "Sign in to the patient app as that patient and check the message is NOT shown there.")
    pages.focus = [created]
    card = ui_checks.card(pages.timeline(draft.patient.id), created, rule=rule)
    ui_checks.check_is_draft(card, rule=rule)
    caption = ui_checks.check_draft_caption(card, sent=utc(sent), now=_now(clock), rule=rule)
    ui_checks.check_send_button(card, rule=rule)
    evidence.note(f"UI-2: caption {caption!r} expected from sent {sent} and the clock held at "
                  f"{_now(clock).isoformat()}, and shown")


@then("the patient app does not show it")
def not_in_the_app(draft: Draft, created: str, pages: Pages | None, rule: str) -> None:
    ui_checks.check_not_in_app(pages.app(draft.patient.id), created, rule=rule)


# -- UI-3 -----------------------------------------------------------------------------------------
def _sms_outbox(target: Target, when: str) -> list:
    answer = target.client.request(f"read the mock's SMS outbox ({when})", "GET", "_mock/sms")
    if answer.status != 200:
        raise RuntimeError(f"the mock's SMS outbox answered {answer.status}")
    try:
        messages = answer.json().get("messages")
    except (ValueError, AttributeError, RecursionError):
        messages = None
    if not isinstance(messages, list):  # the mock's control surface, not a rule's answer: no verdict
        raise RuntimeError(f"the mock's SMS outbox gave no list of messages: {answer.text[:200]!r}")
    return messages


@then("sending the draft from the chart sends no SMS and keeps its sent time", target_fixture="sent_from_chart")
def sent_from_the_chart(target: Target, draft: Draft, created: str, pages: Pages | None, evidence: Evidence,
                        rule: str) -> bool:
    sent = draft.message.get("sent")
    if pages is None:
        by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, str(draft.patient))}.",
                f"Find the draft message {created} (text {first_text(draft.message)!r}) and send it from the chart.",
                "Check the patient received no text message (SMS) for it.",
                f"Read Communication/{created} through the API and check its sent time is still {sent}.",
                f"Sign in to the patient app as that patient and check the message is shown, dated {sent} (when "
                "it was drafted), not the time it was sent from the chart.")
    pages.focus = [created]
    card = ui_checks.card(pages.timeline(draft.patient.id, title="the chart before pressing Send"), created,
                          rule=rule)
    ui_checks.check_send_button(card, rule=rule)
    before = _sms_outbox(target, "before pressing Send")
    pages.press_send(created)
    ui_checks.check_no_new_sms(before, _sms_outbox(target, "after pressing Send"), rule=rule)
    answer = target.read("read the message back after pressing Send", created)
    checks.check_status(answer.status, (200,), rule="ID-2", what="reading the message back after Send")
    body = checks.check_json_body(answer.text, rule="ID-2", what="the read-back after Send")
    body = checks.check_resource(body, "Communication", rule="ID-2", what="the read-back after Send")
    ui_checks.check_sent_unchanged(body.get("sent"), sent, rule=rule)
    evidence.note(f"UI-3: Send pressed on {created}; no SMS added to the outbox; sent still {sent}")
    return True


@then("from then on the patient app shows it, dated at its sent time")
def in_the_app_after_send(draft: Draft, created: str, sent_from_chart: bool, pages: Pages | None,
                          rule: str) -> None:
    shown = ui_checks.app_message(pages.app(draft.patient.id), created, rule=rule,
                                  what="the patient app after Send")
    ui_checks.check_content(shown, first_text(draft.message), rule=rule)
    ui_checks.check_dated_at(shown, utc(draft.message["sent"]), rule=rule)


# -- UI-4 -----------------------------------------------------------------------------------------
@then("the chart shows it with its sent date and its recipient, not as a draft")
def a_patient_message(target: Target, draft: Draft, created: str, pages: Pages | None, evidence: Evidence,
                      rule: str) -> None:
    recipient = draft.message["recipient"][0]["reference"]
    sent = draft.message.get("sent")
    if pages is None:
        by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, str(draft.patient))}.",
                f"Find the message {created} (text {first_text(draft.message)!r}) on the chart timeline.",
                f"Check it is not a draft, and shows its sent date {sent} and its recipient "
                f"{who(target, recipient)}.",
                "Sign in to the patient app as that patient and check the message is already shown in messaging.")
    name = name_of(target, recipient)
    if not name:
        raise RuntimeError(f"the target gives no name for {recipient}, so the card cannot be checked for it")
    pages.focus = [created]
    card = ui_checks.card(pages.timeline(draft.patient.id), created, rule=rule)
    ui_checks.check_not_a_draft(card, rule=rule)
    ui_checks.check_sent_and_recipient(card, sent=utc(sent), recipient=name, rule=rule)
    evidence.note(f"UI-4: the card reads {ui_checks.squeeze(card.caption)!r} (sent {sent}, recipient {name})")


@then("the patient app already shows it")
def already_in_the_app(draft: Draft, created: str, pages: Pages | None, rule: str, settings) -> None:
    shown = ui_checks.app_message(pages.app(draft.patient.id), created, rule=rule,
                                  what="the patient app, with no Send pressed")
    ui_checks.check_content(shown, first_text(draft.message), rule=rule, html=_html_stored(settings))


# -- UI-5 -----------------------------------------------------------------------------------------
@then("the chart shows the first payload text as the message, its markup as plain text")
def first_text_shown(target: Target, draft: Draft, created: str, pages: Pages | None, rule: str,
                     settings) -> None:
    texts = [p.get("contentString", p.get("content")) for p in draft.message["payload"]]
    if pages is None:
        by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, str(draft.patient))}.",
                f"Find the message {created} on the chart timeline.",
                f"Check its content reads exactly {texts[0]!r}, with the markup shown as plain text (no bold or "
                f"italics), and that {texts[1]!r} (the second payload element) appears nowhere."
                + (" Canvas stores the text as HTML: the page may lay that HTML out, but the characters the "
                   "sender typed (<, >, &) read as typed." if _html_stored(settings) else ""))
    pages.focus = [created]
    card = ui_checks.card(pages.timeline(draft.patient.id), created, rule=rule)
    ui_checks.check_content(card, texts[0], not_shown=texts[1:], rule=rule, html=_html_stored(settings))


@given(phrase('its message text is the two lines "{first:Quoted}" and "{second:Quoted}"'), target_fixture="draft")
def two_lines(draft: Draft, first: str, second: str) -> Draft:
    return changed(draft, payload=[{"contentString": f"{first}\n{second}"}])


@then("the chart and the patient app show its text as it was sent, on two lines")
def text_on_two_lines(target: Target, draft: Draft, created: str, pages: Pages | None, rule: str,
                      evidence: Evidence, settings) -> None:
    text = first_text(draft.message)
    if pages is None:
        by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, str(draft.patient))}.",
                f"Find the message {created} on the chart timeline.",
                f"Check its content reads exactly these two lines: {' / '.join(map(repr, text.splitlines()))}, "
                "each character as typed (the <, > and & too).",
                "Sign in to the patient app as that patient and check the message reads the same there.")
    pages.focus = [created]
    html = _html_stored(settings)
    card = ui_checks.card(pages.timeline(draft.patient.id), created, rule=rule)
    ui_checks.check_content(card, text, rule=rule, html=html, by_line=True)
    # UI-4: a patient's message is in the app at once; one missing is that rule's breach.
    shown = ui_checks.app_message(pages.app(draft.patient.id), created, rule="UI-4", what="the patient app")
    ui_checks.check_content(shown, text, rule=rule, html=html, by_line=True)
    evidence.note(f"UI-5: the chart and the patient app show {text!r} line by line"
                  + (" (the text content of the stored HTML, PAY-6)" if html else ""))


# -- UI-6 -----------------------------------------------------------------------------------------
@then("the chart shows it with no draft caption and no Send button")
def no_draft(target: Target, draft: Draft, created: str, pages: Pages | None, evidence: Evidence,
             rule: str) -> None:
    if pages is None:
        by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, str(draft.patient))}.",
                f"Find the message {created} (text {first_text(draft.message)!r}) on the chart timeline.",
                "Check it is not shown as a draft: no 'Drafted ... by Canvas Bot' caption, no Draft badge and "
                "no Send button.",
                "Without pressing anything in the chart, sign in to the patient app as that patient and check "
                "the message is already there, at the first look.")
    pages.focus = [created]
    card = ui_checks.card(pages.timeline(draft.patient.id), created, rule=rule)
    ui_checks.check_no_draft(card, rule=rule)
    evidence.note(f"UI-6: the card reads {ui_checks.squeeze(card.text)!r}, buttons {list(card.buttons)}")


@then("the patient app shows it at once, with nothing pressed in the chart")
def in_the_app_at_once(draft: Draft, created: str, pages: Pages | None, rule: str, evidence: Evidence) -> None:
    shown = ui_checks.app_message(pages.app(draft.patient.id), created, rule=rule,
                                  what="the patient app at its first look after the create, nothing pressed")
    evidence.note(f"UI-6: in the patient app at the first look: {ui_checks.squeeze(shown.text)!r}")


@then(phrase("{days:d} days later the chart still shows it with no draft caption and no Send button"))
def still_no_draft(target: Target, draft: Draft, created: str, pages: Pages | None, days: int, rule: str) -> None:
    target.shift_clock(days * 86400)
    card = ui_checks.card(pages.timeline(draft.patient.id, title=f"the chart {days} days later"), created,
                          rule=rule)
    ui_checks.check_no_draft(card, rule=rule)


# -- RECV-3 ---------------------------------------------------------------------------------------
@then("the chart shows it as unread, with a way to mark it read", target_fixture="unread_card")
def shown_unread(target: Target, draft: Draft, created: str, pages: Pages | None, evidence: Evidence,
                 rule: str) -> ui_checks.TimelineCard:
    recipient = draft.message["recipient"][0]["reference"]
    if pages is None:
        by_hand(f"Sign in to Canvas as the practitioner {who(target, recipient)} and open the chart of the "
                f"patient {who(target, str(draft.patient))}.",
                f"Find the message {created} (text {first_text(draft.message)!r}) on the chart timeline and "
                "check it shows as unread (a blue circle on the message icon).",
                "Mark it read, and note the time you did.",
                f"Read Communication/{created} through the API and check it now carries received, at the time "
                f"you marked it read, and its sent is still {draft.message.get('sent')}.",
                "Back on the chart, check the message no longer shows as unread.")
    pages.focus = [created]
    card = ui_checks.card(pages.timeline(draft.patient.id), created, rule=rule)
    ui_checks.check_unread(card, rule=rule)
    evidence.note(f"RECV-3: unread mark {ui_checks.squeeze(card.unread)!r}, buttons {list(card.buttons)}")
    return card


@when(phrase("a practitioner marks it read on the chart timeline {minutes:d} minutes later"),
      target_fixture="marked_read_at")
def marks_it_read(target: Target, created: str, clock: HeldClock, pages: Pages, unread_card: ui_checks.TimelineCard,
                  minutes: int) -> datetime:
    """The clock moves on first, so the instant of marking differs from the create's and the sent time."""
    target.shift_clock(minutes * 60)
    pages.press(created, ui_checks.mark_read_button(unread_card), title="the chart after marking it read")
    return _now(clock) + timedelta(minutes=minutes)


@then("the chart no longer shows it unread")
def no_longer_unread(draft: Draft, created: str, pages: Pages, rule: str) -> None:
    card = ui_checks.card(pages.timeline(draft.patient.id, title="the chart, read again"), created, rule=rule)
    ui_checks.check_read(card, rule=rule)


@then("the message read back carries received at the moment it was marked read, and its sent time as given")
def received_when_marked(target: Target, draft: Draft, created: str, marked_read_at: datetime,
                         evidence: Evidence, rule: str) -> None:
    answer = target.read("read the message back after marking it read", created)
    checks.check_status(answer.status, (200,), rule="ID-2", what="reading the message back after marking it read")
    body = checks.check_json_body(answer.text, rule="ID-2", what="the read-back after marking it read")
    body = checks.check_resource(body, "Communication", rule="ID-2", what="the read-back after marking it read")
    ui_checks.check_received_at(body.get("received"), marked_read_at, rule=rule)
    ui_checks.check_sent_unchanged(body.get("sent"), draft.message["sent"], rule=rule, after="marking it read")
    evidence.note(f"RECV-3: marked read at {marked_read_at.isoformat()} on the target's clock; the read-back "
                  f"carries received {body.get('received')!r}, sent {body.get('sent')!r}")
