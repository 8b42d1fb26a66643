"""What the mock stores for a valid create: the ingested message shaped as Canvas keeps it.

A pure function of the message (validation.py's ``Ingested``), the clock's now and a new id,
so each rule about the stored shape is tested without a request (tests/mock/test_messages.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from .validation import Ingested


class NewMessage(NamedTuple):
    """A message ready to insert: the resource as read back, and the columns stored beside it."""

    resource: dict
    created: str  # the create's instant with microseconds always, so the text sorts like the instant (UI-1)
    patient_id: str  # the Patient of the conversation, for the chart and the patient filter


def new_message(message: Ingested, *, now: datetime, message_id: str, current: bool = False) -> NewMessage:
    """The Communication stored for ``message``, created at ``now`` (aware, UTC) under ``message_id``.

    ``current``: as Canvas's v2 API keeps it (profile canvas-current): status completed, a subject,
    the text as HTML.
    """
    # ID-2: the id is always the server's own; an id in the body is ignored (``Ingested`` has none).
    # SENT-1/RECV-1: instants stored in UTC. SENT-2: no sent, no received -> now.
    # SENT-3: received only -> sent = received. SENT-4: both given -> each as given.
    sent = message.sent or message.received or now
    resource = {
        "resourceType": "Communication",
        "id": message_id,
        "meta": {"versionId": "1", "lastUpdated": now.isoformat()},
        # STAT-2: v2 stores every message as completed, whatever (documented) status was sent.
        "status": "completed" if current else message.status,
    }
    # SUBJ-1: the subject is the Patient party, whichever way the message went; a subject in the
    # body is ignored (``Ingested`` has none), so it never replaces that party.
    if current:
        resource["subject"] = {"reference": f"Patient/{message.patient_id}", "type": "Patient"}
    resource["sent"] = sent.isoformat()
    if message.received is not None:  # RECV-2: no received given, none stored
        resource["received"] = message.received.isoformat()
    # RCPT-3: only the first recipient is kept. PAY-2/PAY-4: only the first payload's text, as contentString.
    resource["recipient"] = [{"reference": message.recipient.reference, "type": message.recipient.type}]
    resource["sender"] = {"reference": message.sender.reference, "type": message.sender.type}
    resource["payload"] = [{"contentString": as_html(message.text) if current else message.text}]
    return NewMessage(resource, created=now.isoformat(timespec="microseconds"), patient_id=message.patient_id)


def as_html(text: str) -> str:
    """PAY-6 (canvas-current): the text as v2 stores it, HTML. The mock's form: ``<p>`` + the text with
    ``&``, ``<`` and ``>`` escaped and each newline as ``<br>`` + ``</p>``, so the HTML's text content
    (markup removed, entities decoded, ``<br>`` as a line break) is exactly the text sent."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "<p>" + escaped.replace("\n", "<br>") + "</p>"
