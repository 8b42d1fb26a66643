"""The UI rules' checks over what a page shows, without a browser: each passes on a page that keeps
its rule and fails, naming the rule, on one that breaks it."""
from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

import pytest

from canvas_conformance import ui_checks as ui
from canvas_conformance.ui_checks import AppMessage, TimelineCard

SENT = datetime(2022, 2, 10, 15, 4, tzinfo=timezone.utc)
NOW = datetime(2022, 6, 10, 15, 4, tzinfo=timezone.utc)  # four months (120 days) later
DOCUMENT_CAPTION = "Drafted 4 months ago on Feb 10th, 2022 by Canvas Bot"  # the source document's example


def card(message_id="m1", *, created="Jun 10th, 2022, 15:04 UTC", state="Draft", caption=DOCUMENT_CAPTION,
         content="You have an upcoming appointment!", content_elements=0, buttons=("Send",), text=None):
    text = text if text is not None else f"{state} Canvas Bot → Amara Lindqvist {created} {content} {caption}"
    return TimelineCard(message_id, text, state, created, content, content_elements, caption, tuple(buttons))


def bubble(message_id="m1", *, date="Feb 10th, 2022 · 15:04 UTC", content="You have an upcoming appointment!",
           content_elements=0):
    return AppMessage(message_id, f"Canvas Bot {content} {date}", "Canvas Bot", content, content_elements, date)


@contextlib.contextmanager
def fails(rule: str, *fragments: str):
    """The block fails a check: an AssertionError starting with the rule and holding the fragments."""
    with pytest.raises(AssertionError) as info:
        yield
    text = str(info.value)
    assert text.startswith(f"[{rule}] "), text
    for fragment in fragments:
        assert fragment in text, (fragment, text)


# -- what the page should say ---------------------------------------------------------------------
@pytest.mark.parametrize("day, shown", [(1, "Mar 1st, 2022"), (2, "Mar 2nd, 2022"), (3, "Mar 3rd, 2022"),
                                        (4, "Mar 4th, 2022"), (11, "Mar 11th, 2022"), (12, "Mar 12th, 2022"),
                                        (13, "Mar 13th, 2022"), (21, "Mar 21st, 2022"), (22, "Mar 22nd, 2022"),
                                        (23, "Mar 23rd, 2022"), (31, "Mar 31st, 2022")])
def test_ordinal_dates(day, shown):
    assert ui.ordinal_date(datetime(2022, 3, day, 12, tzinfo=timezone.utc)) == shown


def test_ordinal_dates_are_in_utc():
    assert ui.ordinal_date(datetime(2022, 2, 10, 23, 30, tzinfo=timezone(timedelta(hours=-5)))) == "Feb 11th, 2022"


def test_the_expected_caption_is_the_documents_example_four_months_on():
    assert ui.expected_caption(SENT, NOW) == DOCUMENT_CAPTION
    assert ui.expected_caption(SENT, SENT + timedelta(hours=3)) == "Drafted 3 hours ago on Feb 10th, 2022 by Canvas Bot"


@pytest.mark.parametrize("text, instant", [
    ("Jun 10th, 2022, 15:04 UTC", datetime(2022, 6, 10, 15, 4, tzinfo=timezone.utc)),
    ("Sent on Feb 1st, 2021", datetime(2021, 2, 1, tzinfo=timezone.utc)),
    ("Feb 30th, 2022", None), ("yesterday", None), (None, None)])
def test_shown_dates_are_read(text, instant):
    assert ui.shown_date(text) == instant


# -- UI-1 ---------------------------------------------------------------------------------------------
def test_a_timeline_in_created_order_passes_either_way_round():
    cards = [card("a", created="Jun 10th, 2022, 15:04 UTC"), card("x", created="Jun 10th, 2022, 15:04 UTC"),
             card("b", created="Jun 10th, 2022, 15:05 UTC"), card("c", created="Nov 25th, 2026, 09:00 UTC")]
    assert ui.check_timeline_order(cards, ["a", "b", "c"]) == "oldest first"
    assert ui.check_timeline_order(cards[::-1], ["a", "b", "c"]) == "newest first"


def test_a_timeline_in_sent_order_fails():
    cards = [card("b", created="Jun 10th, 2022, 15:05 UTC"), card("c", created="Jun 10th, 2022, 15:06 UTC"),
             card("a", created="Jun 10th, 2022, 15:04 UTC")]
    with fails("UI-1", "the order of the chart timeline", "'Jun 10th, 2022, 15:06 UTC' (c) before"):
        ui.check_timeline_order(cards, ["a", "b", "c"])


def test_messages_placed_against_their_creation_fail_even_in_a_sorted_timeline():
    cards = [card("b", created="Jun 10th, 2022, 15:04 UTC"), card("a", created="Jun 10th, 2022, 15:04 UTC")]
    with fails("UI-1", "the order they were created in"):
        ui.check_timeline_order(cards, ["a", "b"])


def test_a_missing_message_or_an_unreadable_date_fails():
    with fails("UI-1", "a card for the message b"):
        ui.check_timeline_order([card("a")], ["a", "b"])
    with fails("UI-1", "the created date on the card of a", "'today'"):
        ui.check_timeline_order([card("a", created="today"), card("b")], ["a", "b"])


# -- UI-2 ---------------------------------------------------------------------------------------------
def test_the_draft_caption_must_read_exactly():
    assert ui.check_draft_caption(card(caption=" Drafted 4 months ago\n on Feb 10th, 2022 by Canvas Bot "),
                                  sent=SENT, now=NOW) == DOCUMENT_CAPTION
    for wrong in ("Drafted now on Jun 10th, 2022 by Canvas Bot", "Drafted 4 months ago on Feb 10, 2022 by Canvas Bot",
                  "Drafted 4 months ago on Feb 10th, 2022 by Dr. Helen Okafor", None):
        with fails("UI-2", "the caption of the draft m1", repr(DOCUMENT_CAPTION)):
            ui.check_draft_caption(card(caption=wrong), sent=SENT, now=NOW)


def test_a_draft_shows_its_state_and_a_send_button():
    ui.check_is_draft(card(state="DRAFT"))
    ui.check_send_button(card())
    with fails("UI-2", "'Draft'", "'Sent'"):
        ui.check_is_draft(card(state="Sent"))
    with fails("UI-2", "a 'Send' button", "['Edit']"):
        ui.check_send_button(card(buttons=("Edit",)))


def test_a_draft_is_not_in_the_patient_app():
    ui.check_not_in_app([bubble("other")], "m1")
    with fails("UI-2", "no trace of the draft m1"):
        ui.check_not_in_app([bubble("other"), bubble("m1")], "m1")


# -- UI-3 ---------------------------------------------------------------------------------------------
def test_no_new_sms():
    old = {"patient": "p", "body": "earlier", "created": "2022-01-01T00:00:00+00:00"}
    ui.check_no_new_sms([old], [old])
    ui.check_no_new_sms([], [])
    with fails("UI-3", "the SMS outbox after pressing Send", "1 new", "'body': 'hello'"):
        ui.check_no_new_sms([old], [old, {"patient": "p", "body": "hello", "created": "now"}])


def test_the_stored_sent_time_is_unchanged():
    ui.check_sent_unchanged("2022-02-10T15:04:00+00:00", "2022-02-10T15:04:00Z")
    ui.check_sent_unchanged("2022-02-10T10:04:00-05:00", "2022-02-10T15:04:00Z")
    for changed in ("2022-06-10T15:04:00+00:00", None, "Feb 10th"):
        with fails("UI-3", "the stored sent time", "still 2022-02-10T15:04:00Z"):
            ui.check_sent_unchanged(changed, "2022-02-10T15:04:00Z")


def test_the_app_dates_a_message_at_its_sent_time():
    ui.check_dated_at(bubble(), SENT, rule="UI-3")
    ui.check_dated_at(bubble(date="Feb 10th, 2022"), SENT, rule="UI-3")
    with fails("UI-3", "its sent time Feb 10th, 2022 15:04", "'Jun 10th, 2022 · 15:04 UTC'"):
        ui.check_dated_at(bubble(date="Jun 10th, 2022 · 15:04 UTC"), SENT, rule="UI-3")
    with fails("UI-3", "'Feb 10th, 2022 · 09:30 UTC'"):
        ui.check_dated_at(bubble(date="Feb 10th, 2022 · 09:30 UTC"), SENT, rule="UI-3")


def test_a_message_is_found_in_the_app():
    assert ui.app_message([bubble("a"), bubble("b")], "b", rule="UI-4", what="the app") == bubble("b")
    with fails("UI-4", "the app", "the message c shown", "2 messages"):
        ui.app_message([bubble("a"), bubble("b")], "c", rule="UI-4", what="the app")


# -- UI-4 ---------------------------------------------------------------------------------------------
PATIENT_CARD = card(state="From patient", caption="Sent 4 months ago on Feb 10th, 2022 to Dr. Helen Okafor",
                    buttons=())


def test_a_patients_message_is_no_draft():
    ui.check_not_a_draft(PATIENT_CARD)
    for draftish in (PATIENT_CARD._replace(state="DRAFT"), PATIENT_CARD._replace(buttons=("Send",)),
                     PATIENT_CARD._replace(caption=DOCUMENT_CAPTION)):
        with fails("UI-4", "a message, not a draft"):
            ui.check_not_a_draft(draftish)


def test_a_patients_message_shows_its_sent_date_and_recipient():
    ui.check_sent_and_recipient(PATIENT_CARD, sent=SENT, recipient="Dr. Helen Okafor")
    with fails("UI-4", "its recipient 'Dr. Marco Reyes'"):
        ui.check_sent_and_recipient(PATIENT_CARD, sent=SENT, recipient="Dr. Marco Reyes")
    with fails("UI-4", "its sent date 'Feb 11th, 2022'"):
        ui.check_sent_and_recipient(PATIENT_CARD, sent=SENT + timedelta(days=1), recipient="Dr. Helen Okafor")


# -- UI-5 ---------------------------------------------------------------------------------------------
MARKUP = "<b>Bring</b> your card & <i>every</i> medicine"


def test_the_first_text_is_shown_with_its_markup_as_text():
    ui.check_content(card(content=MARKUP), MARKUP, rule="UI-5", not_shown=["This second part is not shown."])
    ui.check_content(bubble(content=MARKUP), MARKUP, rule="UI-5")


def test_markup_that_became_elements_fails():
    with fails("UI-5", "'Bring your card & every medicine'"):
        ui.check_content(card(content="Bring your card & every medicine", content_elements=2), MARKUP, rule="UI-5")
    with fails("UI-5", "markup shown as text", "2 page element(s)"):
        ui.check_content(card(content=MARKUP, content_elements=2), MARKUP, rule="UI-5")


def test_a_further_payload_element_shown_fails():
    shown = card(content=MARKUP, text=f"Draft {MARKUP} This second part is not shown. {DOCUMENT_CAPTION}")
    with fails("UI-5", "only the first payload element's text", "'This second part is not shown.'"):
        ui.check_content(shown, MARKUP, rule="UI-5", not_shown=["This second part is not shown."])


# -- UI-1 in the patient app (canvas-current) -----------------------------------------------------------
def test_the_app_places_the_messages_in_created_order_either_way_round():
    shown = [bubble("x"), bubble("a"), bubble("b"), bubble("y"), bubble("c")]
    assert ui.check_app_order(shown, ["a", "b", "c"]) == "oldest first"
    assert ui.check_app_order(shown[::-1], ["a", "b", "c"]) == "newest first"
    with fails("UI-1", "the order they were created in (or its reverse)", "positions [2, 0, 1]"):
        ui.check_app_order([bubble("b"), bubble("c"), bubble("a")], ["a", "b", "c"])


def test_a_message_missing_from_the_app_is_the_missing_rules():
    with fails("UI-6", "the message c shown"):
        ui.check_app_order([bubble("a"), bubble("b")], ["a", "b", "c"], missing_rule="UI-6")


# -- UI-6 -----------------------------------------------------------------------------------------------
SENT_CARD = card(state="To patient", caption="Sent 4 months ago on Feb 10th, 2022 to Amara Lindqvist", buttons=())


def test_a_practitioners_message_without_draft_or_send_passes_whatever_else_it_shows():
    ui.check_no_draft(SENT_CARD)
    ui.check_no_draft(SENT_CARD._replace(buttons=("Reply", "Print"), caption="Sent via API · Delivered"))
    ui.check_no_draft(SENT_CARD._replace(content="Please review the draft consent form",
                                         text="To patient Please review the draft consent form Sent ..."))


@pytest.mark.parametrize("draftish", [
    SENT_CARD._replace(state="DRAFT"), SENT_CARD._replace(caption=DOCUMENT_CAPTION),
    SENT_CARD._replace(buttons=("Send",)), SENT_CARD._replace(buttons=("Send now",)),
    SENT_CARD._replace(text="To patient Drafts: 1 You have an upcoming appointment!"),
])
def test_a_draft_caption_or_a_send_button_fails(draftish):
    with fails("UI-6", "no draft caption and no Send button"):
        ui.check_no_draft(draftish)


# -- RECV-3 ---------------------------------------------------------------------------------------------
UNREAD_CARD = card(state="From patient", caption="Sent ... to Dr. Helen Okafor", buttons=("Mark read",))._replace(
    unread="Unread")


def test_unread_with_a_mark_read_action():
    ui.check_unread(UNREAD_CARD)
    ui.check_unread(UNREAD_CARD._replace(unread="New", buttons=("Reply", " Mark as read ")))
    assert ui.mark_read_button(UNREAD_CARD._replace(buttons=("Reply", " Mark as read "))) == "Mark as read"
    with fails("RECV-3", "an unread mark", "none shown"):
        ui.check_unread(UNREAD_CARD._replace(unread=None))
    with fails("RECV-3", "a 'Mark read' action", "['Reply']"):
        ui.check_unread(UNREAD_CARD._replace(buttons=("Reply",)))


def test_read_means_no_unread_mark_and_no_mark_read_action():
    ui.check_read(UNREAD_CARD._replace(unread=None, buttons=("Reply",)))
    for still in (UNREAD_CARD._replace(buttons=()), UNREAD_CARD._replace(unread=None)):
        with fails("RECV-3", "after it was marked read", "no unread mark"):
            ui.check_read(still)


def test_received_is_the_instant_it_was_marked_read():
    marked = NOW + timedelta(minutes=5)
    ui.check_received_at("2022-06-10T15:09:00+00:00", marked)
    ui.check_received_at("2022-06-10T11:09:00-04:00", marked)
    for wrong, shown in ((None, "no received"), ("2022-06-10T15:04:00+00:00", "'2022-06-10T15:04:00+00:00'"),
                         ("soon", "'soon'")):
        with fails("RECV-3", "the received time read back after marking the message read",
                   "2022-06-10T15:09:00+00:00 (when it was marked read)", shown):
            ui.check_received_at(wrong, marked)
    with fails("RECV-3", "after marking it read", "still 2022-02-10T15:04:00Z"):
        ui.check_sent_unchanged("2022-06-10T15:09:00+00:00", "2022-02-10T15:04:00Z", rule="RECV-3",
                                after="marking it read")


# -- UI-5 where the text is stored as HTML ---------------------------------------------------------------
def test_html_laid_out_passes_by_its_text_content_where_the_profile_stores_html():
    ui.check_content(card(content=MARKUP, content_elements=1), MARKUP, rule="UI-5", html=True)
    with fails("UI-5", "'Bring your card & every medicine'"):
        ui.check_content(card(content="Bring your card & every medicine", content_elements=3), MARKUP, rule="UI-5",
                         html=True)


def test_line_by_line_content():
    two = "Is 5 < 7?\nTom & Jerry"
    ui.check_content(card(content="Is 5 < 7?\n\nTom & Jerry\n"), two, rule="UI-5", by_line=True)
    ui.check_content(card(content="Is 5 < 7? Tom & Jerry"), two, rule="UI-5")  # the same text, lines aside
    with fails("UI-5", "'Is 5 < 7?' / 'Tom & Jerry' (one line each)", "'Is 5 < 7? Tom & Jerry'"):
        ui.check_content(card(content="Is 5 < 7? Tom & Jerry"), two, rule="UI-5", by_line=True)
    with fails("UI-5", "'Is 5 < 7?Tom & Jerry'"):
        ui.check_content(card(content="Is 5 < 7?Tom & Jerry"), two, rule="UI-5", by_line=True)
