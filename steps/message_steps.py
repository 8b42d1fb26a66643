"""Steps that say what message a scenario sends, and send it.

A scenario starts from a valid body in fixtures/communications.json with the
target's own people in it, carrying the case's marker (bodies.py), then states what
differs. "Nothing was stored" is judged afterwards from the messages carrying that
marker (``Target.find_marked``); only a draft whose text cannot carry the marker has
the target searched before it is sent too, to set aside the blank messages already there.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import NamedTuple

from pytest_bdd import given, when

from canvas_conformance.client import Answer
from canvas_conformance.config import RunConfig

from canvas_conformance import checks
from canvas_conformance.references import parse_reference

from .bodies import Draft, between, changed, marked_in_text, marker_second, refused
from .target import Target, involved_parties
from .terms import Person, phrase


class Submission(NamedTuple):
    """One create: what was sent, what came back, and what was stored before it."""

    draft: Draft
    answer: Answer
    before: dict[str, int]  # kept for callers that build a Submission; the marker makes a before-count needless
    involved: tuple[str, ...]  # the parties whose messages "nothing was stored" searches
    started: datetime
    finished: datetime
    preexisting: frozenset[str] = frozenset()  # blank messages of those parties before a draft without a text marker


def party(target: Target, who: Person) -> str:
    """The reference of a person the target has ("a patient" is its first, "another patient" its second)."""
    return f"{who.kind}/{target.people(who.kind, who.index + 1)[who.index]}"


# -- what is sent ---------------------------------------------------------------------------
@given(phrase("a message from {sender:Person} to {recipient:Person}"), target_fixture="draft")
def a_message_between(target: Target, sender: Person, recipient: Person) -> Draft:
    name = "practitioner_to_patient" if sender.kind == "Practitioner" else "patient_to_practitioner"
    draft = between(name, sender=party(target, sender), recipient=party(target, recipient))
    return refused(draft, "FHIR-5") if sender.kind == recipient.kind else draft


# The example create of each profile's source: the 2022 page's (no status, text as content) and Canvas's v2
# Communication page's (status unknown, contentString), verbatim but for the target's own people.
DOCUMENT_EXAMPLES = {"canvas-2022": "document_example", "canvas-current": "v2_document_example"}


@given("the document's example message", target_fixture="draft")
def the_document_example(target: Target, settings: RunConfig) -> Draft:
    return between(DOCUMENT_EXAMPLES[settings.profile], sender=party(target, Person("Practitioner", 0)),
                   recipient=party(target, Person("Patient", 0)))


@given("it has no sent time", target_fixture="draft")
def no_sent_time(draft: Draft) -> Draft:
    return changed(draft, drop=("sent",))


@given("it has no received time", target_fixture="draft")
def no_received_time(draft: Draft) -> Draft:
    return changed(draft, drop=("received",))


@given(phrase('its {element:TimeElement} time is "{value:Quoted}"'), target_fixture="draft")
def a_time(draft: Draft, element: str, value: str) -> Draft:
    try:
        checks.parse_instant(value)
    except ValueError:  # a malformed date-time is FHIR-1's to refuse
        return refused(changed(draft, **{element: value}), "FHIR-1")
    return changed(draft, **{element: value})


@given("its sent time is a number", target_fixture="draft")
def a_numeric_sent_time(draft: Draft) -> Draft:
    return refused(changed(draft, sent=1619703000), "FHIR-1")


@given(phrase("its {element:Required} is {shape:Shape}"), target_fixture="draft")
def a_missing_element(draft: Draft, element: str, shape: str) -> Draft:
    rule = REQUIRED_BY[element]
    if shape == "absent":
        return refused(changed(draft, drop=(element,)), rule)
    return refused(changed(draft, **{element: []}), rule)


REQUIRED_BY = {"recipient": "RCPT-1", "sender": "SNDR-1", "payload": "PAY-1"}  # the rule requiring each element


def _party_rule(value: dict, element: str, kinds: tuple[str, ...] = ("Patient", "Practitioner")) -> str | None:
    """The rule a party element breaks when it names no Patient or Practitioner (None when it names one)."""
    reference = parse_reference(value.get("reference"))
    if reference is not None and reference.type in kinds:
        return None
    return "RCPT-2" if element == "recipient" else "SNDR-2"


@given(phrase("its recipient is {value:Reference}"), target_fixture="draft")
def a_recipient(draft: Draft, value: dict) -> Draft:
    rule = _party_rule(value, "recipient")
    draft = changed(draft, recipient=[value])
    return refused(draft, rule) if rule else draft


@given(phrase("its sender is {value:Reference}"), target_fixture="draft")
def a_sender(draft: Draft, value: dict) -> Draft:
    rule = _party_rule(value, "sender")
    draft = changed(draft, sender=value)
    return refused(draft, rule) if rule else draft


@given(phrase("its {element:Required} is a single object, not a list"), target_fixture="draft")
def an_object_not_a_list(draft: Draft, element: str) -> Draft:
    return refused(changed(draft, **{element: draft.message[element][0]}), "FHIR-1")  # not a Communication


@given(phrase("its {element:PartyElement} is a {kind:PersonKind} that does not exist"), target_fixture="draft")
def someone_unknown(draft: Draft, element: str, kind: str) -> Draft:
    reference = {"reference": f"{kind}/{uuid.uuid4().hex}"}
    if element == "recipient":
        return refused(changed(draft, recipient=[reference]), "FHIR-4")
    return refused(changed(draft, sender=reference), "FHIR-4")


@given(phrase("{who:Person} is added as a further recipient"), target_fixture="draft")
def a_further_recipient(target: Target, draft: Draft, who: Person) -> Draft:
    further = party(target, who)
    return changed(draft, recipient=[*draft.message["recipient"], {"reference": further}])._replace(
        involved=(*draft.involved, further))


@given(phrase('its payload has a further element with the text "{text:Quoted}"'), target_fixture="draft")
def a_further_payload(draft: Draft, text: str) -> Draft:
    return changed(draft, payload=[*draft.message["payload"], {"contentString": text}])


@given("it has no further payload element", target_fixture="draft")
def a_single_payload(draft: Draft) -> Draft:
    return changed(draft, payload=draft.message["payload"][:1])


@given(phrase('its message text is "{text:Quoted}" given as {field:TextField}'), target_fixture="draft")
def a_message_text(draft: Draft, text: str, field: str) -> Draft:
    draft = changed(draft, payload=[{field: text}, *draft.message["payload"][1:]])
    return refused(draft, "PAY-3") if not text.strip() else draft


@given("it carries an id of the client's choosing", target_fixture="draft")
def a_client_id(draft: Draft) -> Draft:
    return changed(draft, id=f"client-chosen-{uuid.uuid4().hex[:12]}")


@given(phrase("it is sent as {media_type:MediaType}"), target_fixture="draft")
def a_media_type(draft: Draft, media_type: str) -> Draft:
    return draft._replace(content_type=media_type, varied=True)


@given(phrase("its body is {bad:BadBody}"), target_fixture="draft")
def a_body_that_is_not_a_communication(draft: Draft, bad: tuple[str, str | None]) -> Draft:
    kind, resource_type = bad
    if kind == "not json":  # the valid body cut short: JSON that never closes
        return refused(draft._replace(raw=json.dumps(draft.message)[:-1]), "FHIR-1")
    if kind == "array":
        return refused(draft._replace(body=[draft.message]), "FHIR-1")
    if kind == "wrong type":
        return refused(changed(draft, resourceType=resource_type), "FHIR-1")
    return refused(changed(draft, drop=("resourceType",)), "FHIR-1")


# -- sending ----------------------------------------------------------------------------------
def count_before(target: Target, draft: Draft) -> tuple[tuple[str, ...], dict[str, int]]:
    """The parties a draft involves (whose messages "nothing was stored" searches), and no count: a fresh
    marker is on no stored message before the draft is sent."""
    return involved_parties(draft.body if draft.raw is None else None, draft.involved), {}


def preexisting(target: Target, draft: Draft, involved: tuple[str, ...]) -> frozenset[str]:
    """For a draft whose text cannot carry its marker: the blank messages of its parties already stored,
    which "nothing was stored" sets aside (empty for every other draft: nothing is searched).

    A draft sent at its marker's instant (``bodies.marker_second``) needs no search either: a copy is
    known by that instant, a second of 2020 no other case uses, and a blank message sent then before the
    draft was is as unlikely as another writer's message at that second after it, a chance
    ``Target.find_marked`` already accepts."""
    if draft.marker is None or marked_in_text(draft) or marker_second(draft) is not None:
        return frozenset()
    return frozenset(target.find_marked(draft, involved, when="before"))


def send(target: Target, draft: Draft, *, name: str, bearer: str | None = None,
         authorize: bool = True) -> tuple[Answer, datetime, datetime]:
    """POST the draft as a create; returns the answer and when the request started and ended."""
    started = datetime.now(timezone.utc)
    answer = target.client.request(name, "POST", "Communication", content_type=draft.content_type,
                                   json_body=draft.body if draft.raw is None else None, raw_body=draft.raw,
                                   bearer=bearer, authorize=authorize)
    return answer, started, datetime.now(timezone.utc)


def submit(target: Target, draft: Draft, *, name: str, bearer: str | None = None, authorize: bool = True,
           counted: bool = True) -> Submission:
    """Send the draft as a create, ready for "nothing was stored" unless ``counted`` is false."""
    involved, before = count_before(target, draft) if counted else ((), {})
    already = preexisting(target, draft, involved) if counted else frozenset()
    answer, started, finished = send(target, draft, name=name, bearer=bearer, authorize=authorize)
    return Submission(draft, answer, before, involved, started, finished, already)


def describe(draft: Draft) -> str:
    if draft.raw is not None:
        return "create with a body that is not JSON"
    if not isinstance(draft.body, dict):
        return "create with a body that is not a JSON object"
    missing = [name for name in ("recipient", "sender", "payload") if name not in draft.body]
    return "create message" + (f" without {', '.join(missing)}" if missing else "")


@when("it is submitted", target_fixture="submission")
def it_is_submitted(target: Target, draft: Draft) -> Submission:
    return submit(target, draft, name=describe(draft))


@when(phrase("it is submitted {count:d} times"), target_fixture="submissions")
def it_is_submitted_several_times(target: Target, draft: Draft, count: int) -> list[Submission]:
    return [submit(target, draft, name=f"{describe(draft)} ({n} of {count})", counted=False)
            for n in range(1, count + 1)]
