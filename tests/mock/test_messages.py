"""The stored shape of a message (mock_server/messages.py): ingested message, now and id in, resource out."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mock_server.messages import new_message
from mock_server.validation import Ingested, Party

NOW = datetime(2022, 2, 10, 15, 4, tzinfo=timezone.utc)
SENT = datetime(2021, 4, 29, 13, 30, tzinfo=timezone.utc)
RECEIVED = datetime(2021, 4, 29, 14, 0, 0, 250000, tzinfo=timezone.utc)
PATIENT = Party("Patient", "p1")
BOT = Party("Practitioner", "bot")


def ingested(**changes) -> Ingested:
    fields = dict(sender=BOT, recipient=PATIENT, text="You have an upcoming appointment!", status="unknown",
                  sent=SENT, received=None)
    return Ingested(**{**fields, **changes})


# (case, ingested message, the stored resource's fields that rule decides)
CASES = [
    ("SENT-1 sent kept, in UTC", ingested(), {"sent": "2021-04-29T13:30:00+00:00"}),
    ("SENT-2 neither given: now", ingested(sent=None), {"sent": NOW.isoformat()}),
    ("SENT-3 received only: sent = received", ingested(sent=None, received=RECEIVED),
     {"sent": RECEIVED.isoformat(), "received": RECEIVED.isoformat()}),
    ("SENT-4 both given: each as given", ingested(received=RECEIVED),
     {"sent": SENT.isoformat(), "received": RECEIVED.isoformat()}),
    ("RECV-2 no received given: none stored", ingested(), {"received": None}),
    ("RCPT-3 the one recipient, typed", ingested(), {"recipient": [{"reference": "Patient/p1", "type": "Patient"}]}),
    ("sender typed", ingested(sender=PATIENT, recipient=BOT),
     {"sender": {"reference": "Patient/p1", "type": "Patient"}}),
    ("PAY-2/PAY-4 the text as contentString", ingested(text="hi"), {"payload": [{"contentString": "hi"}]}),
    ("status kept", ingested(status="completed"), {"status": "completed"}),
    ("ID-2 the server's id; meta from now", ingested(),
     {"id": "new-id", "meta": {"versionId": "1", "lastUpdated": NOW.isoformat()}}),
]


@pytest.mark.parametrize("case, message, expected", CASES, ids=[c[0] for c in CASES])
def test_the_stored_resource(case, message, expected):
    resource = new_message(message, now=NOW, message_id="new-id").resource
    for field, value in expected.items():
        assert resource.get(field) == value, (case, field, resource)


def test_the_resource_has_the_elements_in_reading_order():
    with_received = new_message(ingested(received=RECEIVED), now=NOW, message_id="x").resource
    assert list(with_received) == ["resourceType", "id", "meta", "status", "sent", "received",
                                   "recipient", "sender", "payload"]
    assert with_received["resourceType"] == "Communication"
    assert "received" not in new_message(ingested(), now=NOW, message_id="x").resource


@pytest.mark.parametrize("sender, recipient", [(BOT, PATIENT), (PATIENT, BOT)])
def test_the_columns_beside_it_name_the_patient_and_keep_microseconds(sender, recipient):
    stored = new_message(ingested(sender=sender, recipient=recipient), now=NOW, message_id="x")
    assert stored.patient_id == "p1"
    assert stored.created == "2022-02-10T15:04:00.000000+00:00"


# canvas-current (Canvas's v2 API): the same message, as v2 keeps it
CURRENT_CASES = [
    ("STAT-2 any status: completed", ingested(status="unknown"), {"status": "completed"}),
    ("STAT-2 preparation: completed", ingested(status="preparation"), {"status": "completed"}),
    ("SUBJ-1 the patient as recipient", ingested(), {"subject": {"reference": "Patient/p1", "type": "Patient"}}),
    ("SUBJ-1 the patient as sender", ingested(sender=PATIENT, recipient=BOT),
     {"subject": {"reference": "Patient/p1", "type": "Patient"}}),
    ("PAY-6 the text as HTML", ingested(text="a < b & c\nd"), {"payload": [{"contentString": "<p>a &lt; b &amp; c<br>d</p>"}]}),
    ("SENT-3 received only: sent = received", ingested(sent=None, received=RECEIVED), {"sent": RECEIVED.isoformat()}),
    ("RCPT-3 the one recipient, typed", ingested(), {"recipient": [{"reference": "Patient/p1", "type": "Patient"}]}),
]


@pytest.mark.parametrize("case, message, expected", CURRENT_CASES, ids=[c[0] for c in CURRENT_CASES])
def test_the_stored_resource_in_canvas_current(case, message, expected):
    resource = new_message(message, now=NOW, message_id="new-id", current=True).resource
    for field, value in expected.items():
        assert resource.get(field) == value, (case, field, resource)
    assert list(resource) == ["resourceType", "id", "meta", "status", "subject", "sent", *(
        ["received"] if message.received else []), "recipient", "sender", "payload"]
