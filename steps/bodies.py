"""Message bodies for the scenarios, taken from fixtures/communications.json.

Why from the fixture file: it is the project's one source of test data; a scenario
starts from a named valid body, puts in the target's own people, and then states
what differs (no sent time, a second recipient, an empty text...).
"""
from __future__ import annotations

import copy
import json
from typing import Any, NamedTuple

from canvas_conformance.client import FHIR_JSON
from canvas_conformance.references import Reference, parse_reference
from canvas_conformance.shipped import fixture_file

FIXTURE_FILE = fixture_file("communications.json")  # the checkout's fixtures/, or the installed copy


class Draft(NamedTuple):
    """What a scenario is about to send."""

    body: Any  # the JSON value to send (a Communication, or something that is not one)
    involved: tuple[str, ...]  # "Patient/<id>"/"Practitioner/<id>" the message is meant to involve
    raw: str | None = None  # text sent as it is instead of JSON
    content_type: str = FHIR_JSON
    # Who judges what the target does with it (see steps/verdicts.py): ``varied`` when the scenario
    # changed the setup body (its create is then the scenario's own question); ``refused_by``, the
    # rule that says this body must be refused (an accepted one is that rule's breach).
    varied: bool = False
    refused_by: str | None = None

    @property
    def message(self) -> dict:
        """The body as a Communication (for steps that change one of its elements)."""
        if not isinstance(self.body, dict):
            raise TypeError("this scenario's body is not a JSON object")
        return self.body

    @property
    def patient(self) -> Reference:
        """The patient the message is meant to involve (the first in ``involved``)."""
        for reference in map(parse_reference, self.involved):
            if reference is not None and reference.type == "Patient":
                return reference
        raise LookupError(f"this scenario's message involves no patient: {self.involved}")


def fixture_body(name: str) -> dict:
    """A fresh copy of the named body in fixtures/communications.json."""
    bodies = json.loads(FIXTURE_FILE.read_text(encoding="utf-8"))
    if name.startswith("_") or name not in bodies:
        raise KeyError(f"no message body named {name!r} in {FIXTURE_FILE.name}")
    return copy.deepcopy(bodies[name])


def between(name: str, *, sender: str, recipient: str) -> Draft:
    """The named body, sent by ``sender`` to ``recipient`` (references such as "Patient/<id>")."""
    body = fixture_body(name)
    body["sender"] = {**body.get("sender", {}), "reference": sender}
    first = (body.get("recipient") or [{}])[0]
    body["recipient"] = [{**first, "reference": recipient}]
    return Draft(body=body, involved=(sender, recipient))


def first_text(body: dict) -> str | None:
    """The text of the first payload element (``contentString`` or the document's ``content``)."""
    first = (body.get("payload") or [{}])[0]
    return first.get("contentString", first.get("content"))


def changed(draft: Draft, *, drop: tuple[str, ...] = (), **elements: Any) -> Draft:
    """A copy of the draft whose message lacks the elements in ``drop`` and has ``elements`` set."""
    body = copy.deepcopy(draft.message)
    for name in drop:
        body.pop(name, None)
    body.update(elements)
    return draft._replace(body=body, varied=True)


def refused(draft: Draft, rule: str) -> Draft:
    """The draft, marked as one that ``rule`` says the target must refuse."""
    return draft._replace(refused_by=rule, varied=True)
