"""Patients and practitioners that exist on the mock, so clients can find valid references."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint

from .auth import require_token
from .communication import base_url
from .db import get_db
from .outcome import FhirError, Issue, fhir_response
from .profiles import is_current

bp = Blueprint("people", __name__)


@bp.get("/<any(Patient, Practitioner):kind>")
@require_token
def list_people(kind: str):
    people = get_db().list_people(kind)
    base = base_url()
    if is_current():  # as v2 answers any search (FHIR-7): a relative link, entries without fullUrl
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(people)}
        if people:
            bundle["link"] = [{"relation": "self", "url": f"{urlsplit(base).path}/{kind}"}]
            bundle["entry"] = [{"resource": p} for p in people]
        return fhir_response(bundle)
    return fhir_response({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(people),
        "link": [{"relation": "self", "url": f"{base}/{kind}"}],
        "entry": [{"fullUrl": f"{base}/{kind}/{p['id']}", "resource": p, "search": {"mode": "match"}}
                  for p in people],
    })


@bp.get("/<any(Patient, Practitioner):kind>/<person_id>")
@require_token
def read_person(kind: str, person_id: str):
    person = get_db().get_person(kind, person_id)
    if person is None:
        raise FhirError(404, Issue("not-found", "FHIR-6", f"{kind}/{person_id} does not exist", f"{kind}.id"))
    return fhir_response(person)
