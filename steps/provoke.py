"""The requests FHIR-9 and FHIR-10 judge the answers of: successes and every kind of error the suite
provokes, by name, for their fixed rows (``features/fhir.feature``) and their explored cases alike.

A provocation is a request (after any setup it needs: a stored message to read or delete) and the
rule that says the answer must be an error (None for a success). Whatever the target does wrong
beside the point is that rule's, seen here: a setup create refused is ID-1's, an error request
accepted is the breach of the rule requiring its refusal, an error without an OperationOutcome or a
5xx is FHIR-2's.
"""
from __future__ import annotations

import json
import secrets
import uuid
from typing import Any, NamedTuple

from canvas_conformance import checks, explore
from canvas_conformance.client import Answer

from .bodies import Draft, between, changed
from .target import Target


class Provoked(NamedTuple):
    what: str  # the provocation's name, as the features write it
    answer: Answer | None  # the answer judged (None: the provocation cannot be made here, see ``skipped``)
    requires_error: str | None  # the rule that says it must be refused; None for a success
    answers: tuple[Answer, ...] = ()  # every answer on the way (setup included), for FHIR-9
    skipped: str | None = None


DIRECTIONS = {"practitioner->patient": ("Practitioner", "Patient"), "patient->practitioner": ("Patient", "Practitioner")}

# the rule that requires each error request's answer to be an error (the others are successes)
REFUSAL_REQUIRED_BY = {
    "a create without recipient": "RCPT-1",
    "a create whose body is not JSON": "FHIR-1",
    "a create with empty text": "PAY-3",
    "a create to a recipient that does not exist": "FHIR-4",
    "a create from a practitioner to a practitioner": "FHIR-5",
    "a create with no bearer token": "FHIR-3",
    "a read with a made-up bearer token": "FHIR-3",
    "a read of an unknown id": "FHIR-6",
    "a delete of a stored message": "FHIR-6",
}
# name (a phrase of the features, explore.REQUESTS) -> the rule requiring an error, None for a success
PROVOCATIONS: dict[str, str | None] = {name: REFUSAL_REQUIRED_BY.get(name) for name in explore.REQUESTS}
ERRORS = tuple(name for name, rule in PROVOCATIONS.items() if rule)


def draft_for(target: Target, direction: str) -> Draft:
    sender_kind, recipient_kind = DIRECTIONS[direction]
    sender = f"{sender_kind}/{target.people(sender_kind, 1)[0]}"
    recipient = f"{recipient_kind}/{target.people(recipient_kind, 1)[0]}"
    name = "practitioner_to_patient" if sender_kind == "Practitioner" else "patient_to_practitioner"
    return between(name, sender=sender, recipient=recipient)


def _create(target: Target, draft: Draft, name: str, **how) -> Answer:
    return target.client.request(name, "POST", "Communication", json_body=draft.body if draft.raw is None else None,
                                 raw_body=draft.raw, content_type=draft.content_type, **how)


def stored_message(target: Target, direction: str, memo: dict, seen: list[Answer], label: str = "") -> str:
    """A message stored for the provocation (created once per memo): its id. A refusal is ID-1's breach."""
    key = f"stored {direction}"
    if key not in memo:
        answer = _create(target, draft_for(target, direction), f"{label}create a message to read or change")
        seen.append(answer)
        if answer.status != 201:
            checks.fail("ID-1", "the setup create was refused: the create of a valid message", "status 201 Created",
                        f"status {answer.status}")
        memo[key] = target.location_id(answer.headers.get("Location"))
    return memo[key]


def provoke(target: Target, what: str, *, direction: str, memo: dict, label: str = "", **more: Any) -> Provoked:
    """Send the provocation named ``what`` (``more``: an explored case's own values, see explore_current)."""
    if what not in PROVOCATIONS:
        raise LookupError(f"no provocation named {what!r}")
    seen: list[Answer] = []
    draft = draft_for(target, direction)
    name = f"{label}{what}"
    patient = draft.patient
    if what == "a valid create":
        answer = _create(target, draft, name)
    elif what == "a read of a stored message":
        answer = target.read(name, stored_message(target, direction, memo, seen, label))
    elif what == "a search of a patient's messages":
        answer = target.client.request(name, "GET", "Communication", params={"patient": patient.id, "_count": "1"})
    elif what == "a token request":
        if not target.client.has_credentials:
            return Provoked(what, None, None, (), "no client id and secret were given (only a ready token)")
        if not target.client.on_target(target.client.token_url):
            return Provoked(what, None, None, (), f"the token URL {target.client.token_url} is not on the FHIR base's "
                            "origin: it is the EHR instance's, not the v2 API whose answers FHIR-9 is about")
        answer = target.client.grant(name)
    elif what == "a create without recipient":
        answer = _create(target, changed(draft, drop=("recipient",)), name)
    elif what == "a create whose body is not JSON":
        answer = _create(target, draft._replace(raw=json.dumps(draft.message)[:-1]), name)
    elif what == "a create with empty text":
        answer = _create(target, changed(draft, payload=[{"contentString": ""}]), name)
    elif what == "a create to a recipient that does not exist":
        kind = DIRECTIONS[direction][1]
        answer = _create(target, changed(draft, recipient=[{"reference": f"{kind}/{more.get('unknown') or uuid.uuid4().hex}"}]),
                         name)
    elif what == "a create from a practitioner to a practitioner":
        practitioner = f"Practitioner/{target.people('Practitioner', 1)[0]}"
        answer = _create(target, changed(draft, sender={"reference": practitioner},
                                         recipient=[{"reference": practitioner}]), name)
    elif what == "a create with no bearer token":
        answer = _create(target, draft, name, authorize=False)
    elif what == "a read with a made-up bearer token":
        answer = target.client.request(name, "GET", f"Communication/{stored_message(target, direction, memo, seen, label)}",
                                       bearer=more.get("credential") or secrets.token_urlsafe(32))
    elif what == "a read of an unknown id":
        answer = target.read(name, more.get("unknown") or f"no-such-{uuid.uuid4().hex}")
    else:  # a delete of a stored message
        answer = target.client.request(name, "DELETE",
                                       f"Communication/{stored_message(target, direction, memo, seen, label)}")
    seen.append(answer)
    return Provoked(what, answer, PROVOCATIONS[what], tuple(seen))


def judge_codes(provoked: Provoked, *, rule: str = "FHIR-10") -> bool:
    """FHIR-10 on a provoked error: its OperationOutcome's issue codes fit its status. An error request the
    target accepted is the breach of the rule requiring its refusal; a 5xx or an error without an
    OperationOutcome is FHIR-2's. Returns whether the status was one FHIR-10 judges."""
    answer = provoked.answer
    what = f"the answer to {provoked.what}"
    if answer.status is not None and answer.status < 400:
        if provoked.requires_error:
            checks.fail(provoked.requires_error, what, "a 4xx refusal", f"status {answer.status} (it was accepted)")
        return False  # a success has no issue codes to judge
    checks.check_not_server_error(answer.status, rule="FHIR-2", what=what)
    outcome = checks.check_operation_outcome(answer.status, answer.text, rule="FHIR-2", what=what)
    return checks.check_issue_codes(answer.status, outcome, rule=rule, what=what)
