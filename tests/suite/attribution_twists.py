"""Targets that break one rule in a way other rules' scenarios run into on their way.

For the attribution tests (test_attribution.py): each twist breaks one rule (ID-1's Location,
ID-2's read-back, RCPT-1's refusal...) and the scenarios of *other* rules that meet the breach
must end ``error`` with the breach kept as an observation for the rule broken, never
``failed``. The twists are WSGI middleware around the real mock, built with twists.Twist.
"""
from __future__ import annotations

import json

from werkzeug.wrappers import Response

from .twists import OO, Twist, body_of, created_id, with_body


def _outcome(status: int, diagnostics: str) -> Response:
    body = {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid", "diagnostics": diagnostics}]}
    return Response(json.dumps(body), status, content_type=OO)


def _malformed_location(app, incoming, response, memory):
    message_id = created_id(response) if incoming.is_create else None
    if message_id:
        response.headers["Location"] = f"/somewhere/else/{message_id}"
    return response


MALFORMED_LOCATION = Twist("answers 201 with a Location outside the base (ID-1's breach)",
                           after=_malformed_location)


def _strict_r4(app, incoming, memory):
    """What a strict FHIR R4 server says of a Communication without status or with payload.content."""
    message = incoming.message
    if message is None:
        return None
    if "status" not in message:
        return _outcome(400, "Communication.status: minimum required = 1, but only found 0")
    if any(isinstance(p, dict) and "content" in p for p in message.get("payload") or []):
        return _outcome(400, "Communication.payload.content: unknown element")
    return None


STRICT_R4 = Twist("refuses creates FHIR R4 does not allow (no status, payload.content)", before=_strict_r4)


def _refuse_creates(app, incoming, memory):
    if incoming.is_create:
        return _outcome(400, "this server takes no new messages today")
    return None


REFUSES_CREATES = Twist("refuses every create with 400 (ID-1's breach for a valid create)", before=_refuse_creates)


def _no_read_back(app, incoming, response, memory):
    if incoming.read_id():
        return _outcome(404, f"no Communication {incoming.read_id()}")
    return response


NO_READ_BACK = Twist("answers 404 to reading any message back (ID-2's breach)", after=_no_read_back)


def _fill_in_recipient(app, message):
    if not message.get("recipient"):
        patient = app.extensions["mock_store"].list_people("Patient")[0]["id"]
        message["recipient"] = [{"reference": f"Patient/{patient}"}]


def _fill_before(app, incoming, memory):
    if incoming.message is not None:
        _fill_in_recipient(app, incoming.message)
    return None


ACCEPTS_NO_RECIPIENT = Twist("stores a message without a recipient (RCPT-1's breach)", before=_fill_before)


def _recipient_object(app, incoming, response, memory):
    body = body_of(response)
    if incoming.method == "GET" and incoming.path == "/Communication" and isinstance(body, dict):
        for entry in body.get("entry") or []:
            resource = entry.get("resource") or {}
            if isinstance(resource.get("recipient"), list) and resource["recipient"]:
                resource["recipient"] = resource["recipient"][0]
        return with_body(response, body)
    return response


RECIPIENT_OBJECT_IN_SEARCH = Twist("gives each search entry's recipient as an object, not a list (FHIR-7's breach)",
                                   after=_recipient_object)
