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


def new_message(message: Ingested, *, now: datetime, message_id: str) -> NewMessage:
    """The Communication stored for ``message``, created at ``now`` (aware, UTC) under ``message_id``."""
    # ID-2: the id is always the server's own; an id in the body is ignored (``Ingested`` has none).
    # SENT-1/RECV-1: instants stored in UTC. SENT-2: no sent, no received -> now.
    # SENT-3: received only -> sent = received. SENT-4: both given -> each as given.
    sent = message.sent or message.received or now
    resource = {
        "resourceType": "Communication",
        "id": message_id,
        "meta": {"versionId": "1", "lastUpdated": now.isoformat()},
        "status": message.status,
        "sent": sent.isoformat(),
    }
    if message.received is not None:  # RECV-2: no received given, none stored
        resource["received"] = message.received.isoformat()
    # RCPT-3: only the first recipient is kept. PAY-2/PAY-4: only the first payload's text, as contentString.
    resource["recipient"] = [{"reference": message.recipient.reference, "type": message.recipient.type}]
    resource["sender"] = {"reference": message.sender.reference, "type": message.sender.type}
    resource["payload"] = [{"contentString": message.text}]
    return NewMessage(resource, created=now.isoformat(timespec="microseconds"), patient_id=message.patient_id)
