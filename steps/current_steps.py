"""Steps of the canvas-current rules: status (STAT-1, STAT-2), subject (SUBJ-1), content (PAY-5), the
create's body (ID-3), correlation ids (FHIR-9) and issue codes (FHIR-10).

Where Canvas's v2 docs leave a point open, a step accepts every answer ../shared/spec/canvas-current.md
lists: a status other than ``unknown`` accepted (then stored ``completed``) or refused; a subject in
the body ignored or refused; a 201 with an empty body or ``null``. What a request provokes for FHIR-9
and FHIR-10 is in provoke.py, shared with their explored scenarios.
"""
from __future__ import annotations

import pytest
from pytest_bdd import given, then, when

from canvas_conformance import checks
from canvas_conformance.client import Answer

from .bodies import Draft, changed, refused
from .message_steps import Submission, party
from .provoke import Provoked, judge_codes, provoke
from .reading_steps import kept_or_refused
from .target import Target
from .terms import STATUS_ABSENT, Person, phrase

ACCEPTED_STATUS = "unknown"  # the status every Canvas example sends (STAT-1: always accepted)


# -- what is sent ---------------------------------------------------------------------------------
@given(phrase("its status is {status:Status}"), target_fixture="draft")
def a_status(draft: Draft, status: object) -> Draft:
    if status == STATUS_ABSENT:
        return refused(changed(draft, drop=("status",)), "STAT-1")
    if status is None or status == "":
        return refused(changed(draft, status=status), "STAT-1")
    if status == draft.message.get("status"):
        return draft  # the setup body's own status: the create stays a plain one
    return changed(draft, status=status)


@given(phrase("its subject is {who:Person}"), target_fixture="draft")
def a_subject(target: Target, draft: Draft, who: Person) -> Draft:
    subject = party(target, who)
    return changed(draft, subject={"reference": subject})._replace(involved=(*draft.involved, subject))


@given("its text is given only as content, the v1 name", target_fixture="draft")
def only_content(draft: Draft) -> Draft:
    """The first payload element's text (which carries the case's marker) moved to ``content``."""
    first, *rest = draft.message["payload"]
    return refused(changed(draft, payload=[{"content": first["contentString"]}, *rest]), "PAY-5")


# -- what comes back ------------------------------------------------------------------------------
@then("the stored status is completed")
def stored_completed(stored: dict, draft: Draft, rule: str) -> None:
    checks.check_stored_status(stored, rule=rule, sent=draft.message.get("status", checks.ABSENT))


@then("the stored subject is the patient")
def stored_subject(stored: dict, draft: Draft, rule: str) -> None:
    checks.check_subject(stored, draft.patient, rule=rule)


@then("the subject given is ignored or the message is refused")
def subject_ignored_or_refused(target: Target, submission: Submission, draft: Draft, rule: str) -> None:
    """SUBJ-1: subject is excluded on create: accepted with the patient as the subject, or refused."""
    kept_or_refused(target, submission, rule, refusal_allowed=True, what="a create whose body gives a subject",
                    check=lambda stored: checks.check_subject(stored, draft.patient, rule=rule))


@then("the answer to the create has an empty body or null")
def created_body(submission: Submission, created: str, rule: str) -> None:
    checks.check_created_body(submission.answer.text, rule=rule)


# -- FHIR-9, FHIR-10 ------------------------------------------------------------------------------
@when(phrase("the target is sent {what:Provocation}"), target_fixture="provoked")
def sent_a_provocation(target: Target, what: str) -> Provoked:
    return provoke(target, what, direction="practitioner->patient", memo={})


@then("the answer carries a fumage-correlation-id header")
def carries_correlation_id(provoked: Provoked, rule: str) -> None:
    if provoked.answer is None:
        pytest.skip(provoked.skipped)
    checks.check_correlation_id(provoked.answer.headers, rule=rule, what=f"the answer to {provoked.what}")


@then("the error's issue codes fit its status")
def codes_fit(provoked: Provoked, rule: str) -> None:
    if provoked.answer is None:
        pytest.skip(provoked.skipped)
    judge_codes(provoked, rule=rule)



@then(phrase('the stored text shows "{text}"'))
def stored_text_shows(stored: dict, text: str, rule: str) -> None:
    """PAY-6: the read-back text is the text as sent, or HTML whose text content is it."""
    checks.check_one_payload(stored, text, rule=rule, html_text=True)
