"""GET /metadata: the CapabilityStatement (the one FHIR endpoint without a token)."""
from __future__ import annotations

from flask import Blueprint

from .clock import get_clock
from .fhir_types import MEDIA_TYPES
from .outcome import fhir_response
from .profiles import is_current
from .search import PARAMS as SEARCH_PARAMS

bp = Blueprint("metadata", __name__)


@bp.get("/metadata")
def capability_statement():
    current = is_current()
    # canvas-current: a create's Location names version 1 (ID-1), which reads back (vread).
    interactions = ["create", "read", "vread", "search-type"] if current else ["create", "read", "search-type"]
    description = ("Reference mock of Canvas's FHIR v2 (Fumage) Communication API, profile canvas-current"
                   if current else "Reference mock of Canvas's FHIR Communication API")
    return fhir_response({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": get_clock().now().date().isoformat(),
        "kind": "instance",
        "software": {"name": "canvas-conformance mock server"},
        "implementation": {"description": description},
        "fhirVersion": "4.0.1",
        "format": list(MEDIA_TYPES),
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "OAuth"}]}],
                "description": "OAuth 2.0 client-credentials grant at /auth/token/; send Authorization: Bearer <token>",
            },
            "resource": [
                {"type": "Communication",
                 "interaction": [{"code": code} for code in interactions],
                 "searchParam": [{"name": p.name, "type": p.fhir_type} for p in SEARCH_PARAMS]},
                {"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}]},
                {"type": "Practitioner", "interaction": [{"code": "read"}, {"code": "search-type"}]},
            ],
        }],
    })
