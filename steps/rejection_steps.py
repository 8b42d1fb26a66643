"""Steps about refused requests: the status, the OperationOutcome, and that nothing was stored.

"Rejected" accepts any 4xx OperationOutcome unless the rule names the status (FHIR-1's
400, FHIR-3's 401). "Nothing was stored" asks the target itself: no message of the
parties involved carries the case's marker (``Target.find_marked``), whatever else
other writers store there meanwhile.
"""
from __future__ import annotations

from pytest_bdd import then

from canvas_conformance import checks
from canvas_conformance.client import Answer

from .bodies import changed, refused
from .message_steps import Submission, submit
from .target import Target
from .terms import phrase
from .verdicts import refusal_rule


def check_refused(submission: Submission, rule: str, *, what: str = "the answer to the create") -> None:
    """The bad input was refused at all: an answer that is neither a client nor a server error is
    the breach of the rule that requires the refusal (``Draft.refused_by``: RCPT-1 for a message
    without recipient, even in a FHIR-2 scenario); a 5xx is the scenario's own rule's."""
    status = submission.answer.status
    if status is not None and status < 400:
        checks.fail(refusal_rule(submission.draft, rule), what, "a 4xx refusal",
                    f"status {status} (the input was accepted)")


@then("it is rejected with a client error and an OperationOutcome", target_fixture="outcome")
def rejected(submission: Submission, rule: str) -> dict:
    answer = submission.answer
    check_refused(submission, rule)
    return checks.check_operation_outcome(answer.status, answer.text, rule=rule, what="the answer to the create")


@then(phrase("it is rejected with status {status:d} and an OperationOutcome"), target_fixture="outcome")
def rejected_with(submission: Submission, status: int, rule: str) -> dict:
    answer = submission.answer
    check_refused(submission, rule)
    return checks.check_operation_outcome(answer.status, answer.text, statuses=(status,), rule=rule,
                                          what="the answer to the create")


@then("nothing was stored")
def nothing_stored(target: Target, submission: Submission, rule: str) -> None:
    check_nothing_stored(target, submission, rule=refusal_rule(submission.draft, rule))


def check_nothing_stored(target: Target, submission: Submission, *, rule: str) -> None:
    """No stored message of the submission's parties carries its marker (nor, for a draft without a text
    marker, is a blank message that was not there before it)."""
    judge_stored(submission, target.find_marked(submission.draft, submission.involved), rule=rule)


def judge_stored(submission: Submission, copies: list[str], *, rule: str) -> None:
    """"Nothing was stored", judged from the stored copies a search found of the submission's draft
    (``Target.find_marked``; the blank messages there before it are set aside)."""
    found = [i for i in copies if i not in submission.preexisting]
    what = f"messages marked {submission.draft.marker}"
    if found:
        checks.check_counts_unchanged({what: 0}, {what: len(found)}, rule=rule)


@then("the answer is not a server error")
def not_a_server_error(submission: Submission, rule: str) -> None:
    checks.check_not_server_error(submission.answer.status, rule=rule)


@then("every issue has a severity, a code and a text saying what was wrong")
def issues_are_readable(outcome: dict, rule: str) -> None:
    checks.check_outcome_issues(outcome, rule=rule)


@then(phrase("the issues' text mentions \"{word}\""))
def issues_mention(outcome: dict, word: str, rule: str) -> None:
    checks.check_outcome_issues(outcome, rule=rule, mentions=word)


@then(phrase("the answer is {status:d} with an OperationOutcome"))
def answer_with_outcome(answer: Answer, status: int, rule: str) -> None:
    checks.check_operation_outcome(answer.status, answer.text, statuses=(status,), rule=rule)


@then(phrase("the answer is {status:d}"))
def answer_status(answer: Answer, status: int, rule: str) -> None:
    checks.check_status(answer.status, (status,), rule=rule)


@then("a refused message is answered in JSON too")
def refusal_is_json(target: Target, submission: Submission, rule: str) -> None:
    bad = refused(changed(submission.draft, drop=("recipient",)), "RCPT-1")
    refusal = submit(target, bad, counted=False,
                     name=f"create message without recipient, as {submission.draft.content_type}")
    answer = refusal.answer
    what = "the answer to a message without recipient"
    check_refused(refusal, rule, what=what)  # accepting it is RCPT-1's breach
    checks.check_not_server_error(answer.status, rule="FHIR-2", what=what)  # a 5xx is FHIR-2's
    checks.check_json_media_type(answer.headers.get("Content-Type"), rule=rule, what="the refusal")
    checks.check_json_body(answer.text, rule=rule, what="the refusal")
