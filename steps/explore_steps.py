"""Steps of the explored scenarios: a bounded, seeded Hypothesis search of a rule's input space.

Each API rule has one explored scenario (tagged with its ID and ``@explored``). Its case is one
value per dimension that ``canvas_conformance/dimensions.json`` names for the rule (drawn by
``explore.case_strategy``); ``CHECKS`` below says, per rule, how a case becomes real requests
(bodies from fixtures/communications.json through ``bodies``, sent through the one client) and
which checks.py functions judge the answers. The run's ``--depth`` sets how many cases and how much
shrinking, ``--seed`` which cases: the same seed draws the same cases against any target.

Verdicts: a case whose check fails *this* rule is shrunk and the smallest one found is the
scenario's failure, "falsified by: <case>", in its message and notes. A check failing another
rule on the way (a broken Location while checking SENT-1), a request without an answer, or a
target that cannot count what it stores ends the search at once as an ``error`` naming the case.
Which rule a step holds the target to is decided as in the fixed scenarios (steps/verdicts.py):
a refused create is the scenario's own breach when its body is the case's question, else ID-1's
("the setup create was refused: ..."); a read-back that fails is ID-2's; a bad body the target
accepted is the breach of the rule that requires its refusal (``Draft.refused_by``).
"""
from __future__ import annotations

import copy
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, NamedTuple

import pytest
from pytest_bdd import given, then, when

from canvas_conformance import checks, explore
from canvas_conformance.client import FHIR_JSON, Answer, Evidence
from canvas_conformance.config import RunConfig
from canvas_conformance.references import Reference, parse_reference
from canvas_conformance.suite_process import cases_at_once_for

from . import explore_current
from .bodies import Draft, between, changed, refused
from .message_steps import Submission, submit
from .reading_steps import check_created
from .rejection_steps import check_nothing_stored, check_refused
from .sweep import MAX_HELD, StoredEarlier, Sweep
from .target import Target
from .verdicts import READ_BACK, refusal_rule

SENT_2_TOLERANCE = timedelta(seconds=5)  # as time_steps: clock skew and processing time around the request


def _rule_named(error: BaseException) -> str | None:
    """The rule a check failure's message starts with (``[ID-1] ...``)."""
    text = str(error)
    return text[1:text.index("]")] if text.startswith("[") and "]" in text else None


class Space(NamedTuple):
    rule: str
    dimensions: tuple[explore.Dimension, ...]


class Explored(NamedTuple):
    outcome: explore.Outcome
    examples: int
    seed: int
    depth: str


class Context:
    """What a rule's case function works with: the target, its people, and a scratch memo for the
    scenario (messages created once and reused by every case)."""

    def __init__(self, target: Target, rule: str, allowed: checks.Allowances = checks.Allowances()) -> None:
        self.target = target
        self.rule = rule
        self.allowed = allowed  # what the run's profile leaves open (checks.allowances)
        self.memo: dict[str, Any] = {}
        self.case = 0
        self.current: Any = None  # the case being checked (``judge``)
        self.sweep: Sweep | None = None  # when set, refusals' "nothing stored" wait for it (steps/sweep.py)
        patients, practitioners = target.people("Patient", 1), target.people("Practitioner", 1)
        self.people = {"<patient>": f"Patient/{patients[0]}", "<practitioner>": f"Practitioner/{practitioners[0]}"}
        self.missing: list[str] = []  # the second patient/practitioner, when the target has none known
        for kind, placeholder in (("Patient", "<other patient>"), ("Practitioner", "<other practitioner>")):
            try:
                self.people[placeholder] = f"{kind}/{target.people(kind, 2)[1]}"
            except pytest.skip.Exception:
                self.missing.append(placeholder)

    def person(self, placeholder: str) -> str:
        """The reference of one of the target's people; a case naming one the target lacks is left out
        (Hypothesis draws another), so a target with one patient is still explored where it can be."""
        if placeholder in self.missing:
            explore.leave_out()
        return self.people[placeholder]

    def name(self, what: str) -> str:
        return f"case {self.case}: {what}"

    # -- bodies ---------------------------------------------------------------------------
    def draft(self, direction: str, fixture: str | None = None) -> Draft:
        """A valid body for the direction, with the target's own people."""
        if direction == "practitioner->patient":
            return between(fixture or "practitioner_to_patient", sender=self.people["<practitioner>"],
                           recipient=self.people["<patient>"])
        return between(fixture or "patient_to_practitioner", sender=self.people["<patient>"],
                       recipient=self.people["<practitioner>"])

    def resolve(self, value: Any, kind: str = "Patient") -> Any:
        """The case's placeholders replaced: people by the target's references, ``<Kind>`` by ``kind``
        (the party's kind in this direction) and ``<self>`` by the id of that party."""
        if isinstance(value, dict):
            return {k: self.resolve(v, kind) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, kind) for v in value]
        if not isinstance(value, str):
            return value
        own = self.people["<patient>" if kind == "Patient" else "<practitioner>"].split("/", 1)[1]
        for placeholder in self.missing:
            if placeholder in value:
                explore.leave_out()
        for placeholder, reference in self.people.items():
            value = value.replace(placeholder, reference)
        return (value.replace("<Kind>", kind).replace("<kind>", kind.lower()).replace("<KIND>", kind.upper())
                .replace("<self>", own))

    # -- sending and judging ----------------------------------------------------------------
    def submit(self, draft: Draft, what: str, *, counted: bool = False, **kwargs) -> Submission:
        if self.sweep is not None:
            self.sweep.sent()
        return submit(self.target, draft, name=self.name(what), counted=counted, **kwargs)

    def accepted(self, submission: Submission, what: str = "the create of a valid message") -> str:
        """The new id from a create the case needs accepted. A refusal is this rule's breach when the
        case changed the body (``Draft.varied``) or the create is the rule's point, else ID-1's, with
        the target's own words (``verdicts.creation_rule``, as in the fixed scenarios)."""
        return check_created(self.target, submission.answer, submission.draft, self.rule, what=what)

    def read(self, message_id: str, *, rule: str = READ_BACK, what: str = "reading the new message back") -> dict:
        """The stored message. A read-back that fails is ID-2's breach ("the Location id reads back the
        stored message"), unless ``rule`` says the read is the case's own question."""
        answer = self.target.read(self.name("read the new message back"), message_id)
        checks.check_status(answer.status, (200,), rule=rule, what=what)
        body = checks.check_json_body(answer.text, rule=rule, what="the read-back")
        return checks.check_resource(body, "Communication", rule=rule, what="the read-back")

    def create_and_read(self, draft: Draft, what: str = "create message") -> dict:
        return self.read(self.accepted(self.submit(draft, what)))

    def refused(self, draft: Draft, what: str, *, statuses=checks.CLIENT_ERRORS, **kwargs) -> dict:
        """The create is refused with an OperationOutcome and nothing was stored. The draft is this rule's
        to refuse unless it is marked for another (``bodies.refused``): accepting it, or storing it,
        is then that rule's breach."""
        draft = draft if draft.refused_by else refused(draft, self.rule)
        return self.judge_refusal(self.submit(draft, what, counted=True, **kwargs), statuses=statuses)

    def taken_or_refused(self, draft: Draft, what: str) -> dict | None:
        """A create the profile lets a target take or refuse (canvas-current: a second recipient or payload
        element, RCPT-3 and PAY-2): the read-back when taken; None when refused as a refusal must be
        (an OperationOutcome, nothing stored)."""
        submission = self.submit(draft, what, counted=True)
        if submission.answer.status in checks.CLIENT_ERRORS:
            self.judge_refusal(submission)
            return None
        return self.read(self.accepted(submission))

    def judge_refusal(self, submission: Submission, *, statuses=checks.CLIENT_ERRORS) -> dict:
        """A refusal (sent with ``counted``): accepted, it is the breach of the rule the draft is marked
        for; else an OperationOutcome in ``statuses``, and nothing was stored."""
        check_refused(submission, self.rule)
        outcome = checks.check_operation_outcome(submission.answer.status, submission.answer.text, rule=self.rule,
                                                 statuses=statuses, what="the answer to the create")
        self.nothing_stored(submission, rule=refusal_rule(submission.draft, self.rule))
        return outcome

    def nothing_stored(self, submission: Submission, *, rule: str) -> None:
        """No copy of the refused submission was stored (a breach of ``rule``): judged now, or with the
        scenario's next sweep when one is on and the draft can wait for it (steps/sweep.py)."""
        if self.sweep is not None and self.sweep.takes(submission):
            self.sweep.hold(submission, rule=rule, case=self.current)
        else:
            check_nothing_stored(self.target, submission, rule=rule)


def _party(reference: str) -> Reference:
    parsed = parse_reference(reference)
    if parsed is None:
        raise ValueError(f"{reference!r} is no Type/id reference")
    return parsed


def _kinds(direction: str) -> tuple[str, str]:
    """(sender kind, recipient kind) of a direction."""
    return ("Practitioner", "Patient") if direction == "practitioner->patient" else ("Patient", "Practitioner")


# -- instants (SENT-*, RECV-*) ------------------------------------------------------------------------
def _timed(ctx: Context, case: dict, *, sent: dict | None, received: dict | None) -> tuple[dict, Draft]:
    elements, drop = {}, []
    for element, given_ in (("sent", sent), ("received", received)):
        if given_ is None:
            drop.append(element)
        else:
            elements[element] = explore.instant_of(given_).written
    draft = changed(ctx.draft(case["direction"]), drop=tuple(drop), **elements)
    return ctx.create_and_read(draft), draft


def _not_taken_over(stored: dict, case: dict, element: str, other: str) -> None:
    """With both instants given, ``element`` read back as the *other* instant is SENT-4's breach (neither
    overrides the other), not a conversion error: the conversion rule's scenario stops there (error)."""
    if case.get(other) is None:
        return
    given, given_other = explore.instant_of(case[element]).utc, explore.instant_of(case[other]).utc
    kept = _instant(stored.get(element))
    if not _same(kept, given) and (_same(kept, given_other) or _same(kept, _instant(stored.get(other)))):
        checks.fail("SENT-4", f"the stored message's {element} (both were given)",
                    f"the {element} given, {given.isoformat()}", f"{stored.get(element)!r}, the {other} instant")


def _sent_1(ctx: Context, case: dict) -> None:
    stored, _ = _timed(ctx, case, sent=case["sent"], received=case["received"])
    _not_taken_over(stored, case, "sent", "received")
    checks.check_same_instant(stored.get("sent"), explore.instant_of(case["sent"]).utc, rule=ctx.rule,
                              what="the stored message's sent")


CLOCK_ATTEMPTS = 8  # holds of the clock per case before a case whose clock keeps being moved is an error
_JITTER = random.Random()  # its own generator: Hypothesis seeds the global one alike in every run


def _sent_2(ctx: Context, case: dict) -> None:
    draft = changed(ctx.draft(case["direction"]), drop=("sent", "received"))
    what = "the stored sent time (none was given)"
    if ctx.target.mock_controls:
        _sent_2_held(ctx, draft, explore.instant_of(case["now"]).utc, what)
        return
    submission = ctx.submit(draft, "create message without sent or received")
    stored = ctx.read(ctx.accepted(submission))
    low, high, _ = checks.creation_window(submission.started, submission.finished,
                                          submission.answer.headers.get("Date"), SENT_2_TOLERANCE)
    checks.check_within(stored.get("sent"), low, high, rule=ctx.rule, what=what)


def _sent_2_held(ctx: Context, draft: Draft, held: datetime, what: str) -> None:
    """SENT-2 exactly: the clock held at ``held`` while the message is created, so its sent must be ``held``.

    The mock has one clock for all its clients: another client (a second run) may hold it elsewhere
    between this case's hold and its create. So the clock is read again once the create is answered;
    only when it still stands at ``held`` was ``held`` the time of creation, and the stored sent is
    judged against it (exactly, as before). A clock found moved means the case's create did not run at
    the instant chosen: the case is sent again, after a short random pause, with a fresh draft."""
    for attempt in range(1, CLOCK_ATTEMPTS + 1):
        ctx.target.hold_clock(held)
        submission = ctx.submit(draft, "create message without sent or received")
        created = ctx.accepted(submission)
        still = ctx.target.held_at(ctx.name("see that the clock still stands at the chosen instant"))
        if still == held:
            stored = ctx.read(created)
            checks.check_same_instant(stored.get("sent"), held, rule=ctx.rule, what=what)
            return
        ctx.memo["clock moved"] = ctx.memo.get("clock moved", 0) + 1
        time.sleep(_JITTER.uniform(0, 0.05 * attempt))
    raise RuntimeError(f"the target's clock was moved by another client during each of {CLOCK_ATTEMPTS} creates "
                       f"held at {held.isoformat()}: SENT-2 could not be checked exactly")


def _instant(value: Any) -> datetime | None:
    try:
        return checks.parse_instant(value)
    except (ValueError, TypeError):
        return None


def _same(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and checks.same_instant(a, b)


# SENT-3 and SENT-4 are about which instant goes where (sent copied from received; neither overriding
# the other), not about converting an offset to UTC, which SENT-1 and RECV-1 judge in their own
# explored scenarios: so instants are compared as instants, whatever offset they are written in.
def _sent_3(ctx: Context, case: dict) -> None:
    expected = explore.instant_of(case["received"]).utc
    if ctx.allowed.sent_at_creation:  # canvas-current: sent is the received instant or the time of creation
        draft = changed(ctx.draft(case["direction"]), drop=("sent",),
                        received=explore.instant_of(case["received"]).written)
        submission = ctx.submit(draft, "create message with received only")
        stored = ctx.read(ctx.accepted(submission))
        if _same(_instant(stored.get("sent")), _instant(stored.get("received"))):
            return  # sent is the received instant as the target stored it (received's own conversion is RECV-1's)
        low, high, _ = checks.creation_window(submission.started, submission.finished,
                                              submission.answer.headers.get("Date"), SENT_2_TOLERANCE)
        checks.check_copied_or_created(stored.get("sent"), expected, (low, high), rule=ctx.rule,
                                       what="the stored message's sent")
        return
    stored, _ = _timed(ctx, case, sent=None, received=case["received"])
    if _same(_instant(stored.get("sent")), _instant(stored.get("received"))):
        return  # sent is the received instant as the target stored it (received's own conversion is RECV-1's)
    checks.check_same_instant(stored.get("sent"), expected, rule=ctx.rule,
                              what="the stored message's sent (only received was given)", in_utc=False)


def _sent_4(ctx: Context, case: dict) -> None:
    stored, _ = _timed(ctx, case, sent=case["sent"], received=case["received"])
    given = {"sent": explore.instant_of(case["sent"]).utc, "received": explore.instant_of(case["received"]).utc}
    kept = {element: _instant(stored.get(element)) for element in given}
    for element, other, conversion in (("sent", "received", "SENT-1"), ("received", "sent", "RECV-1")):
        what = f"the stored message's {element}"
        if kept[element] is None or _same(kept[element], given[element]):
            checks.check_same_instant(stored.get(element), given[element], rule=ctx.rule, what=what, in_utc=False)
        elif _same(kept[element], given[other]) or _same(kept[element], kept[other]):
            checks.fail(ctx.rule, what, f"the {element} given, {given[element].isoformat()}",
                        f"{stored.get(element)!r}, the {other} instant")
        else:  # neither instant given: the offset's conversion is off, which is the conversion rule's breach
            checks.check_same_instant(stored.get(element), given[element], rule=conversion, in_utc=False,
                                      what=f"{what} (neither instant given: converted wrongly)")


def _recv_1(ctx: Context, case: dict) -> None:
    stored, _ = _timed(ctx, case, sent=case["sent"], received=case["received"])
    _not_taken_over(stored, case, "received", "sent")
    checks.check_same_instant(stored.get("received"), explore.instant_of(case["received"]).utc, rule=ctx.rule,
                              what="the stored message's received")


def _recv_2(ctx: Context, case: dict) -> None:
    stored, _ = _timed(ctx, case, sent=case["sent"], received=None)
    checks.check_absent(stored, "received", rule=ctx.rule)


# -- required elements and references (RCPT-*, SNDR-*, PAY-1, FHIR-4, FHIR-5) ----------------------------
def _missing(draft: Draft, element: str, shape: str) -> Draft:
    if shape == "absent":
        return changed(draft, drop=(element,))
    return changed(draft, **{element: copy.deepcopy(explore.MISSING_VALUES[shape])})


def _rcpt_1(ctx: Context, case: dict) -> None:
    ctx.refused(_missing(ctx.draft(case["direction"]), "recipient", case["shape"]),
                f"create message with recipient {case['shape']}")


def _sndr_1(ctx: Context, case: dict) -> None:
    ctx.refused(_missing(ctx.draft(case["direction"]), "sender", case["shape"]),
                f"create message with sender {case['shape']}")


def _pay_1(ctx: Context, case: dict) -> None:
    ctx.refused(_missing(ctx.draft(case["direction"]), "payload", case["shape"]),
                f"create message with payload {case['shape']}")


def _rcpt_2(ctx: Context, case: dict) -> None:
    recipient = ctx.resolve(case["recipient"], _kinds(case["direction"])[1])
    ctx.refused(changed(ctx.draft(case["direction"]), recipient=[recipient]),
                "create message with a foreign recipient")


def _sndr_2(ctx: Context, case: dict) -> None:
    sender = ctx.resolve(case["sender"], _kinds(case["direction"])[0])
    ctx.refused(changed(ctx.draft(case["direction"]), sender=sender), "create message with a foreign sender")


def _rcpt_3(ctx: Context, case: dict) -> None:
    draft = ctx.draft(case["direction"])
    first = draft.message["recipient"][0]
    further = [{"reference": ctx.person(p)} for p in case["further"]]
    draft = changed(draft, recipient=[first, *further])
    what = f"create message with {1 + len(further)} recipients"
    if further and ctx.allowed.refuse_extras:  # canvas-current: a second recipient dropped or refused
        stored = ctx.taken_or_refused(draft._replace(involved=(*draft.involved, *(f["reference"] for f in further))),
                                      what)
        if stored is None:
            return
    else:
        stored = ctx.create_and_read(draft, what)
    checks.check_one_recipient(stored, *_party(first["reference"]), rule=ctx.rule)


def _fhir_4(ctx: Context, case: dict) -> None:
    sender_kind, recipient_kind = _kinds(case["direction"])
    draft = ctx.draft(case["direction"])
    if case["party"] == "recipient":
        draft = changed(draft, recipient=[{"reference": f"{recipient_kind}/{case['id']}"}])
    else:
        draft = changed(draft, sender={"reference": f"{sender_kind}/{case['id']}"})
    ctx.refused(draft, f"create message whose {case['party']} does not exist")


def _fhir_5(ctx: Context, case: dict) -> None:
    own = "<patient>" if case["kind"] == "Patient" else "<practitioner>"
    other = "<other patient>" if case["kind"] == "Patient" else "<other practitioner>"
    to = own if case["who"] == "same person" else other
    direction = "patient->practitioner" if case["kind"] == "Patient" else "practitioner->patient"
    draft = changed(ctx.draft(direction), sender={"reference": ctx.person(own)},
                    recipient=[{"reference": ctx.person(p)} for p in (to, *case["further"])])
    ctx.refused(draft._replace(involved=(ctx.people[own], ctx.people[to])),
                f"create message from a {case['kind'].lower()} to a {case['kind'].lower()}")


# -- payload (PAY-2..4) ---------------------------------------------------------------------------
def _pay_2(ctx: Context, case: dict) -> None:
    draft = ctx.draft(case["direction"])
    field = "contentString" if ctx.allowed.content_refused else case["field"]  # content is PAY-5's to refuse
    draft = changed(draft, payload=[{field: case["text"]}, *copy.deepcopy(case["further"])])
    what = f"create message with {1 + len(case['further'])} payload elements"
    if case["further"] and ctx.allowed.refuse_extras:  # canvas-current: extra elements dropped or refused
        stored = ctx.taken_or_refused(draft, what)
        if stored is None:
            return
    else:
        stored = ctx.create_and_read(draft, what)
    try:
        checks.check_one_payload(stored, case["text"], rule=ctx.rule, html_text=ctx.allowed.html_text)
    except AssertionError:
        if field == "content":  # PAY-4's question first: is a text given as content kept at all?
            _pay_4_control(ctx, case["direction"], case["text"])
        raise


def _pay_4_control(ctx: Context, direction: str, text: str) -> None:
    """A single payload element with ``text`` as ``content`` reads back as that text, or it is PAY-4's
    breach (text may be given as content or contentString), not the rule of the case that sent it so."""
    draft = changed(ctx.draft(direction), payload=[{"content": text}])
    submission = ctx.submit(draft, "create message with its text as content alone (PAY-4's question)")
    created = check_created(ctx.target, submission.answer, draft, "PAY-4", what="a create with its text as content")
    checks.check_one_payload(ctx.read(created), text, rule="PAY-4", html_text=ctx.allowed.html_text)


def _pay_3(ctx: Context, case: dict) -> None:
    draft = changed(ctx.draft(case["direction"]), payload=[dict(case["first"]), *copy.deepcopy(case["further"])])
    ctx.refused(draft, "create message with empty text")


def _pay_4(ctx: Context, case: dict) -> None:
    draft = changed(ctx.draft(case["direction"]), payload=[{case["field"]: case["text"]}])
    stored = ctx.create_and_read(draft, f"create message with text as {case['field']}")
    checks.check_one_payload(stored, case["text"], rule=ctx.rule)


# -- bad input (FHIR-1, FHIR-2) ----------------------------------------------------------------------
_BAD_BODIES: dict[str, Callable[[dict], dict]] = {
    "not json": lambda m: {"raw": "this is not JSON"},
    "json cut short": lambda m: {"raw": json.dumps(m)[:-1]},
    "array": lambda m: {"body": [m]},
    "string": lambda m: {"raw": json.dumps("a message")},
    "number": lambda m: {"raw": "42"},
    "null": lambda m: {"raw": "null"},
    "empty object": lambda m: {"body": {}},
    "no resourceType": lambda m: {"body": {k: v for k, v in m.items() if k != "resourceType"}},
    "resourceType null": lambda m: {"body": {**m, "resourceType": None}},
    "resourceType Patient": lambda m: {"body": {**m, "resourceType": "Patient"}},
    "resourceType communication": lambda m: {"body": {**m, "resourceType": "communication"}},
    "resourceType Bundle": lambda m: {"body": {**m, "resourceType": "Bundle"}},
}
MENTIONS = {"recipient": "recipient", "sender": "sender", "payload": "payload", "sent": "sent",
            "received": "received", "content": "content", "recipient not a list": "recipient",
            "payload not a list of elements": "payload"}


def _with_problem(ctx: Context, direction: str, element: str, what: Any) -> Draft:
    """A valid draft for the direction with one thing wrong (explore.structural_problems)."""
    draft = ctx.draft(direction)
    sender_kind, recipient_kind = _kinds(direction)
    if element == "body":
        return draft._replace(**_BAD_BODIES[what](draft.message))
    if element in ("recipient", "payload", "sender") and isinstance(what, str) and what in (
            "absent", "null", "empty list", "empty object"):
        return _missing(draft, element, what)
    if element == "recipient":
        return changed(draft, recipient=[ctx.resolve(what, recipient_kind)])
    if element == "recipient not a list":
        return changed(draft, recipient=ctx.resolve(what, recipient_kind))
    if element == "payload not a list of elements":
        return changed(draft, payload=copy.deepcopy(what))
    if element == "sender":
        return changed(draft, sender=ctx.resolve(what, sender_kind))
    if element == "content":
        return changed(draft, payload=[dict(what)])
    return changed(draft, **{element: copy.deepcopy(what)})  # sent, received, payload


# The rule that requires a body with each kind of structural problem to be refused: accepting one is
# that rule's breach, not FHIR-2's (FHIR-2 judges only how a refusal is answered).
REFUSED_BY = {"recipient": "RCPT-1", "payload": "PAY-1", "sender": "SNDR-1", "content": "PAY-3",
              "sent": "FHIR-1", "received": "FHIR-1", "recipient not a list": "FHIR-1",
              "payload not a list of elements": "FHIR-1", "body": "FHIR-1"}
FOREIGN_REFUSED_BY = {"recipient": "RCPT-2", "sender": "SNDR-2"}  # a party naming no Patient or Practitioner


def _refused_by(element: str, what: Any) -> str:
    missing = isinstance(what, str) and what in ("absent", "null", "empty list", "empty object")
    if element in FOREIGN_REFUSED_BY and not missing:
        return FOREIGN_REFUSED_BY[element]
    return REFUSED_BY[element]


def _fhir_1(ctx: Context, case: dict) -> None:
    element, what = case["problem"]
    ctx.refused(_with_problem(ctx, case["direction"], element, what), f"create message with a malformed {element}",
                statuses=(400,))


def _fhir_2(ctx: Context, case: dict) -> None:
    element, what = case["problem"]
    draft = refused(_with_problem(ctx, case["direction"], element, what), _refused_by(element, what))
    submission = ctx.submit(draft, f"create message with a bad {element}", counted=True)
    checks.check_not_server_error(submission.answer.status, rule=ctx.rule)
    check_refused(submission, ctx.rule)
    outcome = checks.check_operation_outcome(submission.answer.status, submission.answer.text, rule=ctx.rule,
                                             what="the answer to the create")
    checks.check_outcome_issues(outcome, rule=ctx.rule, mentions=MENTIONS.get(element))


# -- tokens (FHIR-3) ---------------------------------------------------------------------------------
def _near_token(ctx: Context, form: str) -> str:
    """The run's own token one step off (``explore.NEAR_TOKENS``), kept as secret as the token."""
    token = ctx.target.client.token()
    near = {explore.NEAR_TOKENS[0]: token.swapcase(), explore.NEAR_TOKENS[1]: token[:-1],
            explore.NEAR_TOKENS[2]: token + ("A" if token[-1:] != "A" else "B")}[form]
    if near == token or not near:
        explore.leave_out()  # a token without letters has no other case
    return ctx.target.keep_secret(near)


def _fhir_3(ctx: Context, case: dict) -> None:
    credential = case["credential"]
    shown = "no bearer token" if credential is None else "a made-up bearer token"
    if credential in explore.NEAR_TOKENS:
        shown = f"the run's {credential.strip('<>')}"
        credential = _near_token(ctx, credential)
    how = {"authorize": False} if credential is None else {"bearer": credential}
    draft = ctx.draft(case["direction"])
    if case["interaction"] == "create":
        ctx.refused(draft, f"create message with {shown}", statuses=(401,), **how)
        return
    if case["interaction"] == "read":
        key = f"message {case['direction']}"
        if key not in ctx.memo:
            ctx.memo[key] = ctx.accepted(ctx.submit(draft, "create a message to read"))
        answer = ctx.target.client.request(ctx.name(f"read the message with {shown}"), "GET",
                                           f"Communication/{ctx.memo[key]}", **how)
    else:
        answer = ctx.target.client.request(ctx.name(f"search messages with {shown}"), "GET", "Communication",
                                           params={"patient": draft.patient.id}, **how)
    checks.check_operation_outcome(answer.status, answer.text, statuses=(401,), rule=ctx.rule,
                                   what=f"the answer to a {case['interaction']} with {shown}")


# -- reads and changes (FHIR-6) ------------------------------------------------------------------------
_CHANGED_TEXT = "Changed after it was sent."


def _fhir_6(ctx: Context, case: dict) -> None:
    answer = ctx.target.read(ctx.name("read a message that does not exist"), case["unknown"])
    checks.check_operation_outcome(answer.status, answer.text, statuses=(404,), rule=ctx.rule,
                                   what=f"reading unknown id {case['unknown']!r}")
    method, which = case["change"]
    key = f"message {case['direction']}"
    if key not in ctx.memo:
        created = ctx.accepted(ctx.submit(ctx.draft(case["direction"]), "create the message to change"))
        ctx.memo[key] = (created, ctx.read(created))
    created, stored = ctx.memo[key]
    ident = created if which == "existing" else case["unknown"]
    body, content_type = None, "application/fhir+json"
    if method == "PUT":
        body = {**stored, "id": ident, "payload": [{"contentString": _CHANGED_TEXT}]}
    elif method == "PATCH":
        body = [{"op": "replace", "path": "/payload/0/contentString", "value": _CHANGED_TEXT}]
        content_type = "application/json-patch+json"
    answer = ctx.target.client.request(ctx.name(f"{method} an {which} message"), method, f"Communication/{ident}",
                                       json_body=body, content_type=content_type)
    checks.check_status(answer.status, (405,) if which == "existing" else (404, 405), rule=ctx.rule,
                        what=f"{method} on an {which} message")
    if which == "existing":  # the message must still be there, unchanged: FHIR-6's own question
        again = ctx.read(created, rule=ctx.rule, what=f"reading the message back after the refused {method}")
        for element in ("id", "sent", "recipient", "sender", "payload"):
            if again.get(element) != stored.get(element):
                checks.fail(ctx.rule, f"the message's {element} after the refused {method}", stored.get(element),
                            again.get(element))


# -- search paging (FHIR-7) ---------------------------------------------------------------------------
def _fhir_7(ctx: Context, case: dict) -> None:
    patient, practitioner = ctx.people["<patient>"], ctx.people["<practitioner>"]
    if "batch" not in ctx.memo:  # both directions: a patient's own messages are found by patient too
        ctx.memo["batch"] = []
        for n, (sender, recipient) in enumerate(((practitioner, patient), (patient, practitioner),
                                                 (practitioner, patient)), 1):
            draft = between("minimal", sender=sender, recipient=recipient)
            ctx.memo["batch"].append((ctx.accepted(ctx.submit(draft, f"create message {n} of 3 for the search")),
                                      sender))
    ids = [message_id for message_id, _ in ctx.memo["batch"]]
    key = case["key"]
    if key == "patient" and "found by patient" not in ctx.memo:
        # each of the batch by its patient, whichever way it went (a search by _id and patient together)
        for message_id, sender in ctx.memo["batch"]:
            found, _, _ = _search(ctx, {"_id": message_id, "patient": patient.split("/", 1)[1]},
                                  f"search by _id and patient for the message from {sender.split('/')[0].lower()}")
            if found != 1:
                checks.fail(ctx.rule, f"a search by patient and the _id of a message from the {sender.split('/')[0]}",
                            "total 1 (the message involves the patient)", f"total {found}")
        ctx.memo["found by patient"] = True
    value = {"_id": ids[0], "patient": patient.split("/", 1)[1], "sender": practitioner, "recipient": patient}[key]
    probe_key = f"total {key}"
    if probe_key not in ctx.memo:
        probe = _search(ctx, {key: value, "_count": "1"}, "count the messages")
        ctx.memo[probe_key] = probe[0]
    total = ctx.memo[probe_key]

    def number(symbol: str) -> int:
        """"total", "total-1", "total+7" against the patient's total; else a plain number."""
        relative = symbol.removeprefix("total")
        return max(0, total + int(relative or 0) if relative != symbol else int(symbol))

    count = number(case["count"])
    params = {key: value, "_count": str(count)}
    if case["offset"] != "absent":
        params["_offset"] = str(number(case["offset"]))
    offset = int(params.get("_offset", 0))
    page_total, resources, bundle = _search(ctx, params, f"search by {key} with _count={count}, _offset={offset}")
    if key == "_id" and page_total != 1:
        checks.fail(ctx.rule, f"the total of a search by _id={value}", 1, page_total)
    if len(resources) > count:
        checks.fail(ctx.rule, f"the page for _count={count}", f"at most {count} messages", len(resources))
    rest = max(0, page_total - offset)
    if count and count <= 100 and len(resources) != min(count, rest):
        checks.fail(ctx.rule, f"the page for _count={count}, _offset={offset} of {page_total}",
                    f"{min(count, rest)} messages", len(resources))
    found = [r.get("id") for r in resources]
    if len(set(found)) != len(found):
        checks.fail(ctx.rule, "the page's messages", "each message once", found)
    if offset == 0 and count >= page_total and count <= 100:
        ours = {"_id": [ids[0]], "patient": ids,
                "sender": [i for i, sender in ctx.memo["batch"] if sender == practitioner],
                "recipient": [i for i, sender in ctx.memo["batch"] if sender != patient]}[key]
        missing = [i for i in ours if i not in found]
        if missing:
            checks.fail(ctx.rule, f"a page of {count} holding all {page_total} messages", "every new message",
                        f"{len(missing)} missing: {missing}")
    wanted = Reference("Patient", value) if key == "patient" else parse_reference(value)
    _all_match(ctx, resources, key, value, wanted, "a message found by")
    unlinked = not resources and ctx.allowed.empty_result_unlinked and not checks.links(bundle)
    if count and not unlinked:  # canvas-current: "pagination links will not be provided for an empty result set"
        found_links = checks.check_page_links(bundle, last_page=offset + len(resources) >= page_total, rule=ctx.rule,
                                              what=f"the page for _count={count}, _offset={offset} of {page_total}")
        if "next" in found_links:  # the next page is of the same search: its filters kept
            answer = ctx.target.client.request(ctx.name(f"follow the next link of the search by {key}"), "GET",
                                               found_links["next"])
            checks.check_status(answer.status, (200,), rule=ctx.rule, what="the next page")
            try:
                following = answer.json()
            except ValueError:
                checks.fail(ctx.rule, "the next page", "a searchset Bundle (JSON)", repr(answer.text[:200]))
            _, more = checks.check_searchset(following, rule=ctx.rule, what="the next page")
            _all_match(ctx, more, key, value, wanted, "a message on the next page of the search by")



def _all_match(ctx: Context, resources: list[dict], key: str, value: str, wanted, what: str) -> None:
    for resource in resources:
        # any shape the answer gives (a recipient object instead of a list, nulls...) is read, never raised on
        sender = checks.first_reference(resource.get("sender"))
        recipient = checks.first_reference(resource.get("recipient"), many=True)
        matches = {"_id": resource.get("id") == value, "sender": sender == wanted, "recipient": recipient == wanted,
                   "patient": wanted in (sender, recipient)}[key]
        if not matches:
            checks.fail(ctx.rule, f"{what} {key}={value}", f"{key} {value}",
                        f"message {checks.shown(resource.get('id'))} (sender {sender}, recipient {recipient}, "
                        f"as given: sender {checks.shown(resource.get('sender'))}, "
                        f"recipient {checks.shown(resource.get('recipient'))})")


def _search(ctx: Context, params: dict, what: str) -> tuple[int, list[dict], dict]:
    answer = ctx.target.client.request(ctx.name(what), "GET", "Communication", params=params)
    checks.check_status(answer.status, (200,), rule=ctx.rule, what=what)
    try:
        bundle = answer.json()
    except ValueError:
        checks.fail(ctx.rule, what, "a searchset Bundle (JSON)", repr(answer.text[:200]))
    total, resources = checks.check_searchset(bundle, rule=ctx.rule, what=what)
    return total, resources, bundle


# -- identity and media types (ID-1, ID-2, FHIR-8) -------------------------------------------------------
def _id_1(ctx: Context, case: dict) -> None:
    draft = optional_draft(ctx, case)
    submission = ctx.submit(draft, f"create message as {case['media_type']}")
    if submission.answer.status != 201 and case["media_type"] != FHIR_JSON:
        # whether a media type with parameters or in another case is taken is FHIR-8's question (its
        # explored scenario asks it); ID-1's is the create itself, asked again as application/fhir+json
        plain = ctx.submit(draft._replace(content_type=FHIR_JSON), f"create message as {FHIR_JSON} "
                           f"({case['media_type']} was answered {submission.answer.status})")
        if plain.answer.status == 201:
            ctx.memo.setdefault("media types refused", set()).add(case["media_type"])
            submission = plain
    if submission.answer.status != 201:
        checks.fail(ctx.rule, "the create of a valid message", "status 201 Created",
                    f"status {submission.answer.status}: {submission.answer.text[:300]!r}")
    ctx.target.location_id(submission.answer.headers.get("Location"), rule=ctx.rule)


def optional_draft(ctx: Context, case: dict) -> Draft:
    """A valid create for the case's direction with the optional parts it names, sent as its media type."""
    draft = ctx.draft(case["direction"])
    message = draft.message
    optional = set(case["optional"])
    extra: dict[str, Any] = {}
    drop = [e for e in ("sent",) if e not in optional]  # status stays: FHIR R4 requires it (1..1)
    if "received" in optional:
        extra["received"] = "2021-04-29T13:35:00Z"
    if "status" in optional:
        extra["status"] = "unknown"
    if ctx.allowed.refuse_extras:  # canvas-current: RCPT-3/PAY-2 let a target refuse a second one
        optional -= {"further recipient", "further payload"}
    if "further recipient" in optional:
        extra["recipient"] = [*message["recipient"], copy.deepcopy(message["sender"])]
    if "further payload" in optional:
        extra["payload"] = [*message["payload"], {"contentString": "A second part."}]
    if "client id" in optional:
        extra["id"] = f"client-chosen-{ctx.case}"
    if "meta" in optional:
        extra["meta"] = {"tag": [{"system": "urn:canvas-conformance", "code": "explored"}]}
    return changed(draft, drop=tuple(drop), **extra)._replace(content_type=case["media_type"])


def _id_2(ctx: Context, case: dict) -> None:
    draft = ctx.draft(case["direction"])
    client_id = case["client_id"]
    if client_id == "<existing>":
        if "existing" not in ctx.memo:
            ctx.memo["existing"] = ctx.accepted(ctx.submit(draft, "create a message whose id the client reuses"))
        client_id = ctx.memo["existing"]
    if client_id is not None:
        draft = changed(draft, id=client_id)
    ids = []
    for n in range(1, case["repeats"] + 1):
        # a plain valid create refused is ID-1's breach; one carrying the client's id is ID-2's question
        submission = ctx.submit(draft, f"create message ({n} of {case['repeats']})")
        ids.append(ctx.accepted(submission, f"create {n} of {case['repeats']}"))
    if client_id is not None and client_id in ids:
        checks.fail(ctx.rule, "the id in the Location", "an id issued by the server", f"the client's own {client_id!r}")
    if len(set(ids)) != len(ids) or ctx.memo.get("existing") in ids:
        checks.fail(ctx.rule, f"the ids of {len(ids)} creates", "all different, and new", ids)
    sent = draft.message
    for message_id in ids:
        stored = ctx.read(message_id)
        if stored.get("id") != message_id:
            checks.fail(ctx.rule, "the read-back's id", message_id, repr(stored.get("id")))
        checks.check_one_recipient(stored, *_party(sent["recipient"][0]["reference"]), rule=ctx.rule)
        checks.check_reference(stored.get("sender"), *_party(sent["sender"]["reference"]), rule=ctx.rule,
                               what="the stored sender")
        checks.check_one_payload(stored, sent["payload"][0]["contentString"], rule=ctx.rule,
                                 html_text=ctx.allowed.html_text)


def _fhir_8(ctx: Context, case: dict) -> None:
    media_type = case["media_type"]
    draft = ctx.draft(case["direction"])._replace(content_type=media_type)
    created = ctx.accepted(ctx.submit(draft, f"create message as {media_type}"))
    answer = ctx.target.read(ctx.name("read the new message back"), created)
    checks.check_status(answer.status, (200,), rule=READ_BACK, what="reading the new message back")
    checks.check_json_media_type(answer.headers.get("Content-Type"), rule=ctx.rule, what="the read-back")
    try:
        answer.json()
    except ValueError:
        checks.fail(ctx.rule, "the read-back's body", "JSON", repr(answer.text[:200]))
    refusal = ctx.submit(refused(changed(draft, drop=("recipient",)), "RCPT-1"),
                         f"create message without recipient, as {media_type}")
    what = "the answer to a message without recipient"
    check_refused(refusal, ctx.rule, what=what)  # accepting it is RCPT-1's breach
    checks.check_not_server_error(refusal.answer.status, rule="FHIR-2", what=what)  # a 5xx is FHIR-2's
    checks.check_json_media_type(refusal.answer.headers.get("Content-Type"), rule=ctx.rule, what="the refusal")
    try:
        refusal.answer.json()
    except ValueError:
        checks.fail(ctx.rule, "the refusal's body", "JSON", repr(refusal.answer.text[:200]))


# rule -> its case's requests and checks
CHECKS: dict[str, Callable[[Context, dict], None]] = {
    "ID-1": _id_1, "ID-2": _id_2,
    "SENT-1": _sent_1, "SENT-2": _sent_2, "SENT-3": _sent_3, "SENT-4": _sent_4,
    "RECV-1": _recv_1, "RECV-2": _recv_2,
    "RCPT-1": _rcpt_1, "RCPT-2": _rcpt_2, "RCPT-3": _rcpt_3,
    "SNDR-1": _sndr_1, "SNDR-2": _sndr_2,
    "PAY-1": _pay_1, "PAY-2": _pay_2, "PAY-3": _pay_3, "PAY-4": _pay_4,
    "FHIR-1": _fhir_1, "FHIR-2": _fhir_2, "FHIR-3": _fhir_3, "FHIR-4": _fhir_4,
    "FHIR-5": _fhir_5, "FHIR-6": _fhir_6, "FHIR-7": _fhir_7, "FHIR-8": _fhir_8,
}
CHECKS.update(explore_current.CHECKS)  # the canvas-current rules' cases (STAT-1, SUBJ-1, PAY-6, FHIR-10, ...)


# Rules whose cases share what the scenario made or set (the memo's messages and token, SENT-2's held
# clock, FHIR-7's batch and totals): their cases are sent one by one, in the search's own turn.
ONE_BY_ONE = frozenset({"SENT-2", "ID-1", "ID-2", "FHIR-3", "FHIR-6", "FHIR-7", "FHIR-9", "FHIR-10"})


class Gathered(NamedTuple):
    """What one case sent ahead gathered: its exchanges and notes, and what its check raised."""

    evidence: Evidence
    error: BaseException | None


def send_ahead(ctx: Context, run_case: Callable[[Context, dict], None], cases: list[dict], *,
               at_once: int) -> dict[tuple[int, str], Gathered]:
    """Every planned case run, ``at_once`` of them at a time, each on a copy of ``ctx`` numbered as the
    search will number it, its exchanges kept apart (``Client.gathered_call``); keyed by ``explore.case_key``.

    The search then judges each case from this, in its own order, so a verdict, its evidence and the
    case it names are those of the cases sent one by one; only the waiting overlaps. A case the search
    does not reach (it stopped at a failure, or drew otherwise after a case left out) was sent for
    nothing and is not shown: its marker is its own, so no other case's check sees it."""
    def one(number: int, case: dict) -> Gathered | None:
        own = copy.copy(ctx)  # its own number and case; the memo and the sweep are the scenario's
        own.case, own.current = number, case
        # a check's failure, a skip, no answer: all replayed in the case's turn
        gathered, _, error = ctx.target.client.gathered_call(lambda: run_case(own, case))
        if isinstance(error, explore.LeftOut):
            return None  # left out in its turn too (the search asks Hypothesis for another)
        return Gathered(gathered, error)

    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix=f"explore-{ctx.rule}") as pool:
        futures = {explore.case_key(n, case): pool.submit(one, n, case) for n, case in enumerate(cases, start=1)}
    return {key: done for key, future in futures.items() if (done := future.result()) is not None}


def judge(ctx: Context, run_case: Callable[[Context, dict], None], ahead: dict[tuple[int, str], Gathered],
          evidence: Evidence) -> Callable[[dict], None]:
    """The search's check: a case gathered ahead (``send_ahead``) is judged from what it gathered, its
    exchanges and notes joining the scenario's in the search's order; any other is sent now."""
    def check(case: dict) -> None:
        ctx.case += 1
        ctx.current = case
        if ctx.sweep is not None:
            ctx.sweep.flush_if_due()  # held cases of earlier cases are not left waiting on this one
        gathered = ahead.pop(explore.case_key(ctx.case, case), None)
        if gathered is None:
            run_case(ctx, case)
            return
        evidence.take(gathered.evidence)
        if gathered.error is not None:
            raise gathered.error
    return check


def _swept(ctx: Context, outcome: explore.Outcome, evidence: Evidence,
           again: Callable[[], explore.Outcome]) -> explore.Outcome:
    """The search's outcome once its last sweep is sent (steps/sweep.py). When a sweep found a stored copy
    (or could not search), the search is run ``again`` with every refusal judged at once, whose outcome
    names the first case that breaks the rule; if that finds nothing, the sweep's finding stands."""
    sweep = ctx.sweep
    try:
        sweep.flush()
    except StoredEarlier:
        pass  # kept as the sweep's trouble
    trouble = sweep.trouble
    if sweep.judged:
        # how many sweeps went out depends on timing (MAX_AGE), so the note does not say
        evidence.note(f"\"nothing stored\" of {sweep.judged} refusals judged in sweeps of up to {MAX_HELD} cases, "
                      "each searching their parties once (steps/sweep.py)")
    if trouble is None:
        return outcome
    evidence.note(f"{trouble}; the cases are explored again, each refusal's \"nothing stored\" judged at once")
    rerun = again()
    if rerun.falsified is not None or rerun.error is not None:
        return rerun
    failure, case = trouble.failure, trouble.held.case
    if isinstance(failure, AssertionError) and str(failure).startswith(f"[{ctx.rule}]"):
        return rerun._replace(falsified=case, message=str(failure))
    return rerun._replace(error=failure, error_case=case)


# -- the steps --------------------------------------------------------------------------------------
@given("the rule's input space as written down", target_fixture="space")
def the_input_space(rule: str) -> Space:
    if rule not in explore.dimensions() or rule not in CHECKS:
        raise LookupError(f"{rule} has no dimensions in dimensions.json or no case check in explore_steps")
    return Space(rule, explore.dimensions()[rule])


@when("cases drawn from it are sent to the target", target_fixture="explored")
def cases_are_sent(target: Target, settings: RunConfig, space: Space, evidence: Evidence,
                   request: pytest.FixtureRequest) -> Explored:
    run_case = CHECKS[space.rule]
    ctx = Context(target, space.rule, checks.allowances(settings.profile))
    if space.rule == "SENT-2" and target.mock_controls:
        request.addfinalizer(target.release_clock)
    examples, shrink_budget = explore.DEPTHS[settings.depth]
    strategy, first = explore.case_strategy(space.rule), explore.boundary_cases(space.rule)
    at_once = cases_at_once_for(settings) if space.rule not in ONE_BY_ONE else 1

    def search(ctx: Context) -> explore.Outcome:
        ahead: dict[tuple[int, str], Gathered] = {}
        if at_once > 1:
            planned = explore.planned(strategy, examples=examples, seed=settings.seed, first=first)
            ahead = send_ahead(ctx, run_case, planned, at_once=at_once)
        return explore.falsify(strategy, judge(ctx, run_case, ahead, evidence), examples=examples,
                               seed=settings.seed, first=first, shrink_budget=shrink_budget,
                               counts_as_failure=lambda err: str(err).startswith(f"[{space.rule}]"))

    ctx.sweep = Sweep(target)
    outcome = _swept(ctx, search(ctx), evidence, again=lambda: search(Context(target, space.rule, ctx.allowed)))
    names = ", ".join(d.name for d in space.dimensions)
    first = explore.boundary_cases(space.rule)
    boundaries = f"{len(first)} boundary case{'s' * (len(first) != 1)} from dimensions.json, then " if first else ""
    evidence.note(f"explored {outcome.cases} cases of {space.rule} across {names} (depth {settings.depth}: "
                  f"{boundaries}up to {examples} cases and {shrink_budget} more to shrink a failure; "
                  f"seed {settings.seed})")
    if outcome.left_out:
        evidence.note(f"{outcome.left_out} drawn cases were left out: they name {' and '.join(ctx.missing)}, "
                      "which the target does not have (list more people to explore them)")
    if ctx.memo.get("media types refused"):
        evidence.note(f"creates sent as {', '.join(sorted(ctx.memo['media types refused']))} were refused and sent "
                      f"again as {FHIR_JSON}: which media types are taken is FHIR-8's to judge")
    if ctx.memo.get("clock moved"):
        evidence.note(f"{ctx.memo['clock moved']} creates were sent again: another client moved the target's "
                      "clock between the case's hold and its create")
    if outcome.falsified is not None:
        evidence.note(f"falsified by: {explore.describe(outcome.falsified)}")
    return Explored(outcome, examples, settings.seed, settings.depth)


@then("every case keeps the rule")
def every_case_holds(explored: Explored, evidence: Evidence, rule: str) -> None:
    outcome = explored.outcome
    if outcome.falsified is not None:
        raise AssertionError(f"{outcome.message}\nfalsified by: {explore.describe(outcome.falsified)} "
                             f"(seed {explored.seed}, depth {explored.depth})")
    if outcome.error is not None:
        shown = explore.describe(outcome.error_case)
        evidence.note(f"stopped by case {shown}: {type(outcome.error).__name__}: {outcome.error}")
        if isinstance(outcome.error, AssertionError):
            # another rule's check failed: its rule rides along, so the results contract makes this
            # scenario an error ("could not be checked: ...") and an observation for that rule
            raised = AssertionError(f"{outcome.error} (while checking {rule} with case {shown})")
            raised.rule = getattr(outcome.error, "rule", None) or _rule_named(outcome.error)
            raise raised from None
        raise outcome.error
    if outcome.cases == 0:
        raise RuntimeError(f"no case of {rule} was run")
