"""The explored cases of the canvas-current rules (STAT-1, STAT-2, SUBJ-1, PAY-5, PAY-6, ID-3, FHIR-9,
FHIR-10): how a case drawn from the rule's dimensions (canvas_conformance/dimensions.json) becomes
requests, and which checks judge the answers. ``explore_steps.CHECKS`` takes them in; each function
gets that module's ``Context`` (the target, its people, the scenario's memo).

Where v2 leaves a point open, every listed answer passes: a status other than ``unknown`` accepted or
refused; a subject in the body ignored or refused. What a case meets of another rule is that rule's:
a plain valid create refused is ID-1's, a broken Location ID-1's, an error request accepted the rule
that requires its refusal, an error without an OperationOutcome FHIR-2's.
"""
from __future__ import annotations

import copy
from typing import Callable

from canvas_conformance import checks, explore

from .bodies import changed, marked_text
from .message_steps import Submission
from .provoke import Provoked, judge_codes, provoke, stored_message

ACCEPTED_STATUS = "unknown"  # every Canvas example's status: always accepted (STAT-1)


def _with_status(draft, status):
    if status == "<absent>":
        return changed(draft, drop=("status",))
    return changed(draft, status=status)


def _accepted_or_refused(ctx, submission: Submission, *, what: str, read: Callable[[dict], None] | None = None) -> None:
    """A create a profile lets the target accept or refuse: 201 (its Location is ID-1's; ``read`` judges
    the read-back), or a 4xx OperationOutcome with nothing stored (the scenario's rule)."""
    answer = submission.answer
    if answer.status == 201:
        created = ctx.target.location_id(answer.headers.get("Location"))
        if read is not None:
            read(ctx.read(created))
        return
    if answer.status is not None and answer.status in checks.CLIENT_ERRORS:
        checks.check_operation_outcome(answer.status, answer.text, rule=ctx.rule, what=f"the refusal of {what}")
        ctx.nothing_stored(submission, rule=ctx.rule)
        return
    checks.fail(ctx.rule, f"the answer to {what}", "201 Created or a 4xx refusal", f"status {answer.status}")


# -- status (STAT-1, STAT-2) ----------------------------------------------------------------------
def _stat_1(ctx, case: dict) -> None:
    status = case["status"]
    draft = _with_status(ctx.draft(case["direction"]), status)
    what = f"create message with status {status!r}"
    if status in explore.MISSING_STATUS:
        ctx.refused(draft, what)
    elif status == ACCEPTED_STATUS:
        ctx.accepted(ctx.submit(draft, what))
    else:
        _accepted_or_refused(ctx, ctx.submit(draft, what, counted=True), what=what)


def _stat_2(ctx, case: dict) -> None:
    status = case["status"]
    submission = ctx.submit(_with_status(ctx.draft(case["direction"]), status), f"create message with status {status!r}")
    answer = submission.answer
    if answer.status == 201:
        created = ctx.target.location_id(answer.headers.get("Location"))
        checks.check_stored_status(ctx.read(created), rule=ctx.rule, sent=status)
    elif status == ACCEPTED_STATUS:  # the setup bodies' own status: a plain valid create refused
        checks.fail("ID-1", "the create of a valid message (status unknown)", "status 201 Created",
                    f"status {answer.status}")
    elif answer.status is None or answer.status not in checks.CLIENT_ERRORS:
        checks.fail(ctx.rule, f"the answer to a create with status {status!r}", "201 Created or a 4xx refusal",
                    f"status {answer.status}")
    # a 4xx for another code is allowed (whether v2 accepts it is open); its form is STAT-1's to judge


# -- subject (SUBJ-1) -----------------------------------------------------------------------------
def _subject_value(ctx, subject: str) -> dict:
    if subject == "<display only>":
        return {"display": "Someone"}
    if subject.startswith("<"):
        return {"reference": ctx.person(subject)}
    return {"reference": subject}


def _subj_1(ctx, case: dict) -> None:
    draft = ctx.draft(case["direction"])
    patient = draft.patient

    def judged(stored: dict) -> None:
        checks.check_subject(stored, patient, rule=ctx.rule)

    if case["subject"] == "<none>":
        judged(ctx.create_and_read(draft))
        return
    value = _subject_value(ctx, case["subject"])
    extra = (value["reference"],) if value.get("reference", "").startswith(("Patient/", "Practitioner/")) else ()
    draft = changed(draft, subject=value)._replace(involved=(*draft.involved, *extra))
    what = f"create message with subject {case['subject']}"
    _accepted_or_refused(ctx, ctx.submit(draft, what, counted=True), what=what, read=judged)


# -- payload (PAY-5, PAY-6) -------------------------------------------------------------------------
def _pay_5(ctx, case: dict) -> None:
    draft = ctx.draft(case["direction"])
    first = {"content": marked_text(draft, case["text"])}
    if case["beside"] == "null":
        first["contentString"] = None
    payload = [first, *({"contentString": text} for text in case["further"])]
    ctx.refused(changed(draft, payload=payload), f"create message with text as content ({1 + len(case['further'])} "
                "payload elements)")


def _pay_6(ctx, case: dict) -> None:
    draft = changed(ctx.draft(case["direction"]), payload=[{"contentString": case["text"]}])
    stored = ctx.create_and_read(draft, "create message with markup-prone text")
    checks.check_one_payload(stored, case["text"], rule=ctx.rule, html_text=True)


# -- the create's body (ID-3) -----------------------------------------------------------------------
def _id_3(ctx, case: dict) -> None:
    from .explore_steps import optional_draft  # the module that takes these cases in

    submission = ctx.submit(optional_draft(ctx, case), f"create message as {case['media_type']}")
    answer = submission.answer
    if answer.status != 201:  # a valid create refused is ID-1's
        checks.fail("ID-1", "the create of a valid message", "status 201 Created", f"status {answer.status}")
    checks.check_created_body(answer.text, rule=ctx.rule)


# -- correlation ids and issue codes (FHIR-9, FHIR-10) ------------------------------------------------
def _fhir_9(ctx, case: dict) -> None:
    provoked = provoke(ctx.target, case["request"], direction=case["direction"], memo=ctx.memo,
                       label=f"case {ctx.case}: ")
    if provoked.answer is None:
        explore.leave_out()  # e.g. a token URL off the FHIR base's origin
    for answer in provoked.answers:
        checks.check_correlation_id(answer.headers, rule=ctx.rule, what=f"the answer to {answer.exchange.name!r}")


def _problem_rule(element: str, what) -> str:
    """The rule that says a create with this structural problem must be refused."""
    missing = isinstance(what, str) and what in ("absent", "null", "empty list", "empty object")
    return {"recipient": "RCPT-1" if missing else "RCPT-2", "sender": "SNDR-1" if missing else "SNDR-2",
            "payload": "PAY-1", "content": "PAY-3"}.get(element, "FHIR-1")


def _fhir_10(ctx, case: dict) -> None:
    from .explore_steps import _with_problem  # the module that takes these cases in

    request, direction = case["request"], case["direction"]
    label = f"case {ctx.case}: "
    if request == "a create with a structural problem":
        element, what = case["problem"]
        submission = ctx.submit(_with_problem(ctx, direction, element, copy.deepcopy(what)),
                                f"create message with a bad {element}")
        provoked = Provoked(f"a create with a bad {element}", submission.answer, _problem_rule(element, what))
    elif request == "a change of a message":
        method, which = case["change"]
        ident = stored_message(ctx.target, direction, ctx.memo, [], label) if which == "existing" else case["unknown"]
        body = None
        if method == "PUT":
            body = {**ctx.draft(direction).message, "id": ident}
        elif method == "PATCH":
            body = [{"op": "replace", "path": "/payload/0/contentString", "value": "Changed."}]
        answer = ctx.target.client.request(ctx.name(f"{method} an {which} message"), method, f"Communication/{ident}",
                                           json_body=body, content_type="application/json-patch+json"
                                           if method == "PATCH" else "application/fhir+json")
        provoked = Provoked(f"{method} of an {which} message", answer, "FHIR-6")
    else:
        provoked = provoke(ctx.target, request, direction=direction, memo=ctx.memo, label=label,
                           credential=case["credential"], unknown=case["unknown"])
    judge_codes(provoked, rule=ctx.rule)


CHECKS: dict[str, Callable] = {
    "STAT-1": _stat_1, "STAT-2": _stat_2, "SUBJ-1": _subj_1, "PAY-5": _pay_5, "PAY-6": _pay_6, "ID-3": _id_3,
    "FHIR-9": _fhir_9, "FHIR-10": _fhir_10,
}
