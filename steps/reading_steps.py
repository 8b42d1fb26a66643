"""Steps about accepted messages: the 201 and its Location, and what reads back.

The read-back (``stored``) is fetched once, when a step first needs it, from the id
the Location named. Checks accept every form a rule allows (see checks.py).
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Callable

import pytest
from pytest_bdd import then, when

from canvas_conformance import checks
from canvas_conformance.client import Answer
from canvas_conformance.references import Reference, parse_reference

from .bodies import Draft, first_text
from .message_steps import Submission
from .rejection_steps import check_nothing_stored
from .target import Target
from .terms import phrase
from .verdicts import READ_BACK, creation_rule

UTC_RULES = ("SENT-1", "RECV-1")  # the rules whose text says a time is stored "in UTC"


@pytest.fixture
def read_back(target: Target, created: str) -> Answer:
    """The new message read from the target, as the Location named it."""
    return target.read("read the new message back", created)


@pytest.fixture
def stored(read_back: Answer) -> dict:
    """The stored message (the body of the read-back). A read-back that fails is ID-2's breach
    ("the Location id reads back the stored message"), whichever rule the scenario checks."""
    checks.check_status(read_back.status, (200,), rule=READ_BACK, what="reading the new message back")
    body = checks.check_json_body(read_back.text, rule=READ_BACK, what="the read-back")
    return checks.check_resource(body, "Communication", rule=READ_BACK, what="the read-back")


def diagnostics(answer: Answer) -> str:
    """What a refusal says about itself: its OperationOutcome's issue texts, else the start of its body."""
    try:
        outcome = json.loads(answer.text or "")
    except (ValueError, RecursionError):
        outcome = None
    if isinstance(outcome, dict):
        texts = [checks.issue_text(i) for i in checks.listed(outcome.get("issue")) if isinstance(i, dict)]
        if any(texts):
            return "; ".join(t for t in texts if t)[:300]
    return repr((answer.text or "")[:300])


def check_created(target: Target, answer: Answer, draft: Draft | None, rule: str, *, what: str) -> str:
    """A create the scenario needs accepted: 201 and the new id from its Location (ID-1's form).
    A refusal is the scenario's own breach when the create is its question, else ID-1's
    (``verdicts.creation_rule``)."""
    about = creation_rule(draft, rule)
    if answer.status != 201:
        setup = "" if about == rule else "the setup create was refused: "
        checks.fail(about, f"{setup}{what}", "status 201 Created", f"status {answer.status}: {diagnostics(answer)}")
    return target.location_id(answer.headers.get("Location"))


CREATION_TOLERANCE = timedelta(seconds=5)  # clock skew and processing time around a create


def creation_window(submission: Submission) -> tuple[datetime, datetime]:
    """When the target created the submission's message (its Date header, else the request's own times)."""
    low, high, _ = checks.creation_window(submission.started, submission.finished,
                                          submission.answer.headers.get("Date"), CREATION_TOLERANCE)
    return low, high


def read_stored(target: Target, created: str) -> dict:
    """The message ``created`` read back; a read-back that fails is ID-2's breach (as ``stored``)."""
    answer = target.read("read the new message back", created)
    checks.check_status(answer.status, (200,), rule=READ_BACK, what="reading the new message back")
    body = checks.check_json_body(answer.text, rule=READ_BACK, what="the read-back")
    return checks.check_resource(body, "Communication", rule=READ_BACK, what="the read-back")


def kept_or_refused(target: Target, submission: Submission, rule: str, *, refusal_allowed: bool,
                    check: Callable[[dict], None], what: str) -> None:
    """A create the rule lets the target take in part: accepted (``check`` judges the read-back) or, where
    ``refusal_allowed`` (an open point of the run's profile), refused with a 4xx OperationOutcome and
    nothing stored. Any other answer is the breach ``check_created`` names."""
    answer = submission.answer
    if refusal_allowed and answer.status is not None and answer.status in checks.CLIENT_ERRORS:
        checks.check_operation_outcome(answer.status, answer.text, rule=rule, what=f"the refusal of {what}")
        check_nothing_stored(target, submission, rule=rule)
        return
    created = check_created(target, answer, submission.draft, rule, what=what)
    check(read_stored(target, created))


def _party(draft_party: dict) -> Reference:
    """The party a valid draft names (its references are the target's own people, always ``Type/id``)."""
    reference = parse_reference(draft_party["reference"])
    if reference is None:
        raise ValueError(f"the draft names {draft_party['reference']!r}, which is no Type/id reference")
    return reference


# -- created ----------------------------------------------------------------------------------
@then("the target accepts it as a new message", target_fixture="created")
def accepted_as_new(target: Target, submission: Submission, rule: str) -> str:
    """201 for a valid create, and the new id from its Location (the form is ID-1's)."""
    return check_created(target, submission.answer, submission.draft, rule, what="the create of a valid message")


@then("the answer's Location names the new Communication")
def location_names_it(target: Target, submission: Submission, created: str) -> None:
    assert target.location_id(submission.answer.headers.get("Location")) == created


@then("the stored message has the id named in the Location")
def id_as_located(stored: dict, created: str, rule: str) -> None:
    if stored.get("id") != created:
        checks.fail(rule, "the read-back's id", created, repr(stored.get("id")))


@then("the stored message is the one that was sent")
def the_one_sent(stored: dict, draft: Draft, rule: str, allowed: checks.Allowances) -> None:
    sent = draft.message
    checks.check_one_recipient(stored, *_party(sent["recipient"][0]), rule=rule)
    checks.check_reference(stored.get("sender"), *_party(sent["sender"]), rule=rule, what="the stored sender")
    checks.check_one_payload(stored, first_text(sent), rule=rule, html_text=allowed.html_text)


@then("the new message's id is not the one the client chose")
def not_the_client_id(created: str, draft: Draft, rule: str) -> None:
    if created == draft.message["id"]:
        checks.fail(rule, "the id in the Location", "an id issued by the server", f"the client's own {created!r}")


@then(phrase("each of the {count:d} creates is accepted under an id of its own"), target_fixture="created_ids")
def ids_of_their_own(target: Target, submissions: list[Submission], count: int, rule: str) -> list[str]:
    ids = []
    for n, submission in enumerate(submissions, 1):
        ids.append(check_created(target, submission.answer, submission.draft, rule, what=f"create {n} of {count}"))
    if len(set(ids)) != len(ids):
        checks.fail(rule, f"the ids of {count} creates", "all different", ids)
    return ids


@then("each of those ids reads back its own message")
def each_reads_back(target: Target, created_ids: list[str], rule: str) -> None:
    for n, message_id in enumerate(created_ids, 1):
        answer = target.read(f"read back create {n}", message_id)
        checks.check_status(answer.status, (200,), rule=rule, what=f"reading back create {n}")
        body = checks.check_json_body(answer.text, rule=rule, what=f"the read-back of create {n}")
        if not isinstance(body, dict) or body.get("id") != message_id:
            checks.fail(rule, f"the read-back of create {n}", f"id {message_id}",
                        checks.shown(body.get("id") if isinstance(body, dict) else body))


# -- times ------------------------------------------------------------------------------------
@then(phrase('the stored {element:TimeElement} time is the instant "{instant}"'))
def stored_instant(stored: dict, element: str, instant: str, rule: str, allowed: checks.Allowances,
                   submission: Submission) -> None:
    # SENT-3 and SENT-4 say "the same instant"; writing it in UTC is SENT-1's and RECV-1's to judge.
    if rule == "SENT-3" and element == "sent" and allowed.sent_at_creation:  # or, in canvas-current, created
        checks.check_copied_or_created(stored.get("sent", checks.ABSENT), instant, creation_window(submission),
                                       rule=rule, what="the stored message's sent")
        return
    checks.check_same_instant(stored.get(element, checks.ABSENT), instant, rule=rule,
                              what=f"the stored message's {element}", in_utc=rule in UTC_RULES)


@then("the stored message has no received time")
def no_received(stored: dict, rule: str) -> None:
    checks.check_absent(stored, "received", rule=rule)


# -- parties and payload ----------------------------------------------------------------------
@then("the stored recipient is the one given")
def stored_recipient(stored: dict, draft: Draft, rule: str) -> None:
    checks.check_one_recipient(stored, *_party(draft.message["recipient"][0]), rule=rule)


@then("only the first recipient is kept")
def first_recipient_kept(target: Target, submission: Submission, draft: Draft, rule: str,
                         allowed: checks.Allowances) -> None:
    """RCPT-3: the one given first reads back alone; in canvas-current the create may be refused instead."""
    kept_or_refused(target, submission, rule, refusal_allowed=allowed.refuse_extras, what="a message with two recipients",
                    check=lambda stored: checks.check_one_recipient(stored, *_party(draft.message["recipient"][0]),
                                                                    rule=rule))


@then("the stored sender is the one given")
def stored_sender(stored: dict, draft: Draft, rule: str) -> None:
    checks.check_reference(stored.get("sender"), *_party(draft.message["sender"]), rule=rule,
                           what="the stored sender")


@then("only the first payload element's text is kept")
def first_payload_only(target: Target, submission: Submission, draft: Draft, rule: str,
                       allowed: checks.Allowances) -> None:
    """PAY-2: the first element's text reads back alone; in canvas-current the create may be refused
    instead, and the text may read back as HTML showing it."""
    kept_or_refused(target, submission, rule, refusal_allowed=allowed.refuse_extras,
                    what="a message with two payload elements",
                    check=lambda stored: checks.check_one_payload(stored, first_text(draft.message), rule=rule,
                                                                  html_text=allowed.html_text))


@then(phrase('the stored payload is the text "{text}" as contentString'))
def payload_as_content_string(stored: dict, text: str, rule: str) -> None:
    checks.check_one_payload(stored, text, rule=rule)


# -- reads and changes (FHIR-6) ----------------------------------------------------------------
@when("a message that does not exist is read", target_fixture="answer")
def read_unknown(target: Target) -> Answer:
    return target.read("read a message that does not exist", f"no-such-{uuid.uuid4().hex}")


@when(phrase("someone tries to {method:Change} the new message"), target_fixture="answer")
def change_it(target: Target, created: str, stored: dict, method: str) -> Answer:
    body = {**stored, "payload": [{"contentString": "Changed after it was sent."}]} if method == "PUT" else None
    verb = "replace" if method == "PUT" else "delete"
    return target.client.request(f"{verb} the new message", method, f"Communication/{created}", json_body=body)


@then("the new message still reads back as it was stored")
def unchanged(target: Target, created: str, stored: dict, rule: str) -> None:
    answer = target.read("read the new message again", created)
    checks.check_status(answer.status, (200,), rule=rule, what="reading the message after the refused change")
    body = checks.check_json_body(answer.text, rule=rule, what="the message after the refused change")
    again = checks.check_resource(body, "Communication", rule=rule, what="the message after the refused change")
    for element in ("id", "sent", "recipient", "sender", "payload"):
        if again.get(element) != stored.get(element):
            checks.fail(rule, f"the message's {element} after the refused change", checks.shown(stored.get(element)),
                        checks.shown(again.get(element)))


@then("reading it back answers JSON")
def read_back_is_json(read_back: Answer, rule: str) -> None:
    checks.check_status(read_back.status, (200,), rule=READ_BACK, what="reading the new message back")
    checks.check_json_media_type(read_back.headers.get("Content-Type"), rule=rule, what="the read-back")
    checks.check_json_body(read_back.text, rule=rule, what="the read-back")
