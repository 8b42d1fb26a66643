"""Message bodies for the scenarios, taken from fixtures/communications.json.

Why from the fixture file: it is the project's one source of test data; a scenario
starts from a named valid body, puts in the target's own people, and then states
what differs (no sent time, a second recipient, an empty text...).

Every body ``between`` makes carries a marker unique to the run and the case: in an
``identifier`` (system ``MARKER_SYSTEM``) and at the end of its first payload text. What
the suite judges about storage ("nothing was stored", search totals) it judges from the
messages carrying its own markers, so other writers on the same target (a colleague, a
script, a second run) cannot change a verdict. The text carries the marker because a
target may drop an ``identifier`` it does not ingest (the mock and Canvas do) but must
keep the text; a step that sets the text itself leaves the marker in the identifier only.
A body whose text can no longer carry the marker (its payload left out, null, empty or with an
empty text) gets the marker in its ``sent`` instead (``marker_instant``), unless the scenario set
``sent`` itself: a target that stores such a body anyway, under a placeholder text of its own,
is found out by that instant, which no other message has.
"""
from __future__ import annotations

import copy
import hashlib
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from canvas_conformance.client import FHIR_JSON
from canvas_conformance.references import Reference, parse_reference
from canvas_conformance.shipped import fixture_file

FIXTURE_FILE = fixture_file("communications.json")  # the checkout's fixtures/, or the installed copy
MARKER_SYSTEM = "urn:canvas-conformance:case"
# This process's part of every marker, fixed when the suite is imported: random, so two runs (or two
# workers of one run) never share one.
RUN_ID = uuid.uuid4().hex[:12]


def new_marker() -> str:
    """A marker no other run and no other case of this run carries: ``cc-<run>-<case>``, the case's part
    random too (40 bits: two cases of one run share one about once in 10^7 runs of the whole suite)."""
    return f"cc-{RUN_ID}-{uuid.uuid4().hex[:10]}"


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
    marker: str | None = None  # the case's marker (``new_marker``), in the identifier and the text

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


def between(name: str, *, sender: str, recipient: str, marker: str | None = None) -> Draft:
    """The named body, sent by ``sender`` to ``recipient`` (references such as "Patient/<id>"), carrying
    ``marker`` (a fresh one when not given) in an identifier and at the end of its first text."""
    body = fixture_body(name)
    body["sender"] = {**body.get("sender", {}), "reference": sender}
    first = (body.get("recipient") or [{}])[0]
    body["recipient"] = [{**first, "reference": recipient}]
    marker = marker or new_marker()
    body["identifier"] = [*body.get("identifier", []), {"system": MARKER_SYSTEM, "value": marker}]
    payload = body.get("payload") or []
    if payload and isinstance(payload[0], dict):
        field = "contentString" if "contentString" in payload[0] else "content"
        if isinstance(payload[0].get(field), str):
            payload[0] = {**payload[0], field: f"{payload[0][field]} [{marker}]"}
    return Draft(body=body, involved=(sender, recipient), marker=marker)


def texts(resource: Any) -> list[str]:
    """Every payload text of a message as a target returned it (``contentString`` or ``content``)."""
    payload = resource.get("payload") if isinstance(resource, dict) else None
    found = []
    for part in payload if isinstance(payload, list) else []:
        if isinstance(part, dict):
            found += [part[f] for f in ("contentString", "content") if isinstance(part.get(f), str)]
    return found


def carries(resource: Any, marker: str) -> bool:
    """Whether a message the target returned carries ``marker`` (in an identifier or in a text)."""
    if not isinstance(resource, dict):
        return False
    identifiers = resource.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else []:
        if isinstance(identifier, dict) and identifier.get("value") == marker:
            return True
    return any(marker in text for text in texts(resource))


def marked_text(draft: Draft, text: str) -> str:
    """``text`` with the draft's marker at its end, as ``between`` puts it: for a step or a generated case
    that sets the text itself and is not about the exact text read back, so its stored copy stays findable."""
    return f"{text} [{draft.marker}]" if draft.marker else text


def marked_in_text(draft: Draft) -> bool:
    """Whether the draft's marker is in a text it sends (a step may have replaced or removed the text)."""
    if draft.marker is None:
        return False
    if draft.raw is not None:
        return draft.marker in draft.raw
    return any(draft.marker in text for text in texts(draft.body))


def first_text(body: dict) -> str | None:
    """The text of the first payload element (``contentString`` or the document's ``content``)."""
    first = (body.get("payload") or [{}])[0]
    return first.get("contentString", first.get("content"))


def changed(draft: Draft, *, drop: tuple[str, ...] = (), **elements: Any) -> Draft:
    """A copy of the draft whose message lacks the elements in ``drop`` and has ``elements`` set. When
    that takes the marker out of its text and the change leaves ``sent`` alone, ``sent`` becomes the
    marker's instant (``marker_instant``), so a stored copy stays findable whatever text a target gives it."""
    body = copy.deepcopy(draft.message)
    for name in drop:
        body.pop(name, None)
    body.update(elements)
    moved = draft._replace(body=body, varied=True)
    if (draft.marker and "sent" in body and "sent" not in elements and "sent" not in drop
            and marked_in_text(draft) and not marked_in_text(moved)):
        body["sent"] = marker_instant(draft.marker)
    return moved


# Marker instants lie in 2020 (a past year, as sent times are), one a second: 31.6 million of them.
_MARKER_EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)
_MARKER_SECONDS = 366 * 86400


def marker_instant(marker: str) -> str:
    """The instant that stands for ``marker`` in ``sent``: a second of 2020 and a millisecond, both from
    the marker's hash, so no other case's message (and, but for a chance of one in 31.6 million a
    message, no other writer's) has it. Matched to the second (``marker_second``, ``sent_at_second``),
    since a target may drop the fraction."""
    number = int.from_bytes(hashlib.sha256(marker.encode()).digest()[:8], "big")
    at = _MARKER_EPOCH + timedelta(seconds=number % _MARKER_SECONDS, milliseconds=(number >> 32) % 1000)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def marker_second(draft: Draft) -> datetime | None:
    """The second a stored copy of the draft is sent at when its ``sent`` is the marker's instant; else None."""
    sent = draft.body.get("sent") if isinstance(draft.body, dict) else None
    if not draft.marker or sent != marker_instant(draft.marker):
        return None
    return datetime.fromisoformat(sent.replace("Z", "+00:00")).replace(microsecond=0)


def sent_at_second(resource: Any, second: datetime | None) -> bool:
    """Whether a message the target returned was sent within ``second`` (``marker_second``): the stored copy
    of a draft whose text could not carry the marker."""
    stored = resource.get("sent") if second is not None and isinstance(resource, dict) else None
    if not isinstance(stored, str):
        return False
    try:
        at = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    except ValueError:
        return False
    return at.tzinfo is not None and at.astimezone(timezone.utc).replace(microsecond=0) == second


def refused(draft: Draft, rule: str) -> Draft:
    """The draft, marked as one that ``rule`` says the target must refuse."""
    return draft._replace(refused_by=rule, varied=True)
