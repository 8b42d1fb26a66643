"""``/_mock/``: a control surface for tests and the conformance suite (token-protected).

Not part of Canvas's API. It lets a test start from empty data, know exactly what
"now" is (SENT-2), move time on to expire tokens (FHIR-3), and see what was stored
and whether any SMS went out (UI-3) without going around the API it is checking.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request

from .auth import check_bearer, count_clock_move
from .clock import ClockRangeError, checked_instant, checked_shift, get_clock
from .db import SearchFilters, get_db
from .outcome import FhirError, Issue, fhir_response

bp = Blueprint("control", __name__, url_prefix="/_mock")


@bp.before_request
def _token():
    check_bearer()


@bp.post("/reset")
def reset():
    """Forget every message and SMS; people, tokens and the clock stay."""
    get_db().reset()
    return fhir_response({"reset": True})


@bp.get("/clock")
def clock_state():
    return fhir_response(get_clock().state())


@bp.put("/clock")
def set_clock():
    """``{"now": "<date-time>"}`` freezes the clock there; ``{"shift_seconds": N}`` moves it on.

    Either must leave the clock within its range (clock.RANGE_TEXT), or the answer is 400 and the
    clock is as it was. The move counts against the token that made it (auth.count_clock_move):
    moving the clock on past a token's lifetime expires that token, and no other.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not ({"now", "shift_seconds"} & body.keys()):
        raise FhirError(400, Issue("structure", "FHIR-2",
                                   'send {"now": "2022-02-10T15:04:00Z"} to freeze or {"shift_seconds": 3600} to move'))
    clock = get_clock()
    if "now" in body:
        try:
            instant = datetime.fromisoformat(str(body["now"]))
            if instant.tzinfo is None:
                raise ValueError("an offset (Z or +hh:mm) is required")
        except ValueError as err:
            raise FhirError(400, Issue("value", "FHIR-2", f"now: {str(err)[:200]}")) from None
    if "shift_seconds" in body:
        shift = body["shift_seconds"]
        if isinstance(shift, bool) or not isinstance(shift, (int, float)):
            raise FhirError(400, Issue("value", "FHIR-2", "shift_seconds must be a number"))
    before = clock.now()
    try:
        if "now" in body and "shift_seconds" in body:  # one change, so a refusal leaves the clock alone
            clock.freeze(checked_instant(instant) + checked_shift(shift))
        elif "now" in body:
            clock.freeze(instant)
        else:
            clock.shift(shift)
    except ClockRangeError as err:
        raise FhirError(400, Issue("value", "FHIR-2", str(err))) from None
    count_clock_move((clock.now() - before).total_seconds())
    return fhir_response(clock.state())


@bp.delete("/clock")
def real_clock():
    get_clock().reset()
    get_db().forget_clock_moves()  # real time again, for every token
    return fhir_response(get_clock().state())


@bp.get("/communications")
def stored():
    """Every stored message with the columns the API does not show (created, sent from the chart)."""
    total, messages = get_db().search_communications(SearchFilters(), count=-1, offset=0)
    return fhir_response({"total": total, "messages": [
        {"id": m.id, "created": m.created, "patient": m.patient_id, "ui_sent_at": m.ui_sent_at,
         "resource": m.resource} for m in messages]})


@bp.get("/sms")
def sms():
    """The SMS outbox. API-created messages never add to it, not even when sent from the chart (UI-3)."""
    return fhir_response({"messages": get_db().sms_outbox()})

