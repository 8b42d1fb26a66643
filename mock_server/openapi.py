"""GET /openapi.json: an OpenAPI 3 description of the mock's FHIR surface.

Why: client developers get a machine-readable contract (code generators, API explorers), and
the project's robustness tests feed it to schemathesis, which then checks that what the mock
answers is what it says it answers. The create body's schema is not written twice: it is the
JSON Schema the mock validates with (``schemas/communication.schema.json``), moved under
``components/schemas``. Every FHIR error is described as an OperationOutcome; the token endpoint
answers OAuth 2.0 error objects (RFC 6749 section 5.2), as OAuth clients expect.

The ``/_mock/`` control surface is not described: it is not part of the API under test.
Each profile (profiles.py) has its document: canvas-current's says how v2 differs (STAT-1, PAY-5,
ID-3, SUBJ-1, FHIR-7's Bundles, FHIR-10's ``details.text``).
"""
from __future__ import annotations

import copy
from functools import lru_cache

from flask import Blueprint, current_app, jsonify

from .fhir_types import (FHIR_JSON, ID_PATTERN, INSTANT_PATTERN, MEDIA_TYPES, MEDIA_TYPES_TEXT, PARTY_REFERENCE_PATTERN,
                         PARTY_TYPES)
from .outcome import CORRELATION_HEADER
from .profiles import CANVAS_CURRENT
from .search import PARAMS as SEARCH_PARAMS
from .validation import CURRENT_STATUSES
from .validation import schema as create_schema

bp = Blueprint("openapi", __name__)

_REF_PREFIX = "FHIR_"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, *, types=(FHIR_JSON,)) -> dict:
    return {media: {"schema": schema} for media in types}


def _answer(description: str, schema: dict | None = None, *, headers: dict | None = None,
            types=(FHIR_JSON,)) -> dict:
    answer = {"description": description,
              "headers": {CORRELATION_HEADER: {"$ref": "#/components/headers/CorrelationId"},
                          **(headers or {})}}
    if schema is not None:
        answer["content"] = _json(schema, types=types)
    return answer


def _outcome(description: str, **kwargs) -> dict:
    return _answer(description, _ref("OperationOutcome"), **kwargs)


def _converted_create_schema(current: bool) -> dict[str, dict]:
    """The validator's draft-07 schema as OpenAPI 3.0 component schemas (refs moved, const as enum)."""
    source = copy.deepcopy(create_schema())
    definitions = source.pop("definitions", {})
    for key in ("$schema", "$id"):
        source.pop(key, None)

    def convert(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith("#/definitions/"):
                    out[key] = f"#/components/schemas/{_REF_PREFIX}{value.rsplit('/', 1)[1]}"
                elif key == "const":
                    out["enum"] = [value]
                else:
                    out[key] = convert(value)
            return out
        if isinstance(node, list):
            return [convert(item) for item in node]
        return node

    schemas = {f"{_REF_PREFIX}{name}": convert(body) for name, body in definitions.items()}
    create = convert(source)
    # The validator takes any FHIR dateTime and then refuses those without a time of day with a
    # message of its own (SENT-1, RECV-1); the description says up front that an instant is needed.
    schemas[f"{_REF_PREFIX}instant"] = {"type": "string", "pattern": INSTANT_PATTERN,
                                        "description": "date, time and offset, e.g. 2021-04-29T13:30:00Z"}
    for name in ("sent", "received"):
        create["properties"][name] = _ref(f"{_REF_PREFIX}instant")
    if current:
        # STAT-1: status required, one of the documented options; PAY-5: the text as contentString only;
        # SUBJ-1: a subject given is ignored.
        create["required"] = [*create["required"], "status"]
        create["properties"]["status"] = {"enum": list(CURRENT_STATUSES),
                                          "description": "Required (STAT-1); stored as completed (STAT-2)"}
        create["properties"]["subject"] = {**create["properties"]["subject"],
                                           "description": "Ignored: the subject is the Patient party (SUBJ-1)"}
        payload = schemas[f"{_REF_PREFIX}Communication_Payload"]
        payload["properties"].pop("content", None)
        payload["required"] = ["contentString"]
    schemas["CommunicationCreate"] = create
    return schemas


def _components(current: bool) -> dict:
    reference_read = {
        "type": "object", "required": ["reference", "type"],
        "properties": {"reference": {"type": "string", "pattern": PARTY_REFERENCE_PATTERN},
                       "type": {"type": "string", "enum": list(PARTY_TYPES)}},
    }
    link = {"type": "object", "required": ["relation", "url"],
            "properties": {"relation": {"type": "string"}, "url": {"type": "string"}}}

    def bundle(resource: dict) -> dict:
        if current:  # FHIR-7 (v2): links relative and absent for an empty result; entries without fullUrl
            return {
                "type": "object", "required": ["resourceType", "type", "total"],
                "properties": {
                    "resourceType": {"type": "string", "enum": ["Bundle"]},
                    "type": {"type": "string", "enum": ["searchset"]},
                    "total": {"type": "integer", "minimum": 0},
                    "link": {"type": "array", "minItems": 1, "items": link,
                             "description": "Relative to the server's root, e.g. /Communication?_count=10&_offset=0"},
                    "entry": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "required": ["resource"], "properties": {"resource": resource}}},
                },
            }
        return {
            "type": "object", "required": ["resourceType", "type", "total", "link", "entry"],
            "properties": {
                "resourceType": {"type": "string", "enum": ["Bundle"]},
                "type": {"type": "string", "enum": ["searchset"]},
                "total": {"type": "integer", "minimum": 0},
                "link": {"type": "array", "items": link},
                "entry": {"type": "array", "items": {
                    "type": "object", "required": ["fullUrl", "resource", "search"],
                    "properties": {"fullUrl": {"type": "string"}, "resource": resource,
                                   "search": {"type": "object"}}}},
            },
        }

    person = {"type": "object", "required": ["resourceType", "id"],
              "properties": {"resourceType": {"type": "string", "enum": ["Patient", "Practitioner"]},
                             "id": {"type": "string"}}}
    return {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "A token from POST /auth/token/ (OAuth 2.0 client credentials); FHIR-3."},
        },
        "headers": {
            "CorrelationId": {"description": "Identifies the exchange in the server's logs and in reports.",
                              "required": True, "schema": {"type": "string", "minLength": 1}},
        },
        "schemas": {
            **_converted_create_schema(current),
            "OperationOutcome": _outcome_schema(current),
            "Communication": _v2_read(reference_read) if current else {
                "description": "A stored message as read back (ID-2, SENT-*, RECV-*, RCPT-3, PAY-2, PAY-4).",
                "type": "object",
                "required": ["resourceType", "id", "meta", "status", "sent", "recipient", "sender", "payload"],
                "properties": {
                    "resourceType": {"type": "string", "enum": ["Communication"]},
                    "id": {"type": "string", "pattern": ID_PATTERN},
                    "meta": {"type": "object", "required": ["versionId", "lastUpdated"],
                             "properties": {"versionId": {"type": "string"}, "lastUpdated": {"type": "string"}}},
                    "status": {"type": "string"},
                    "sent": {"type": "string"},
                    "received": {"type": "string"},
                    "recipient": {"type": "array", "minItems": 1, "maxItems": 1, "items": reference_read},
                    "sender": reference_read,
                    "payload": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                        "type": "object", "required": ["contentString"],
                        "properties": {"contentString": {"type": "string", "minLength": 1}}}},
                },
            },
            "CommunicationBundle": bundle(_ref("Communication")),
            "Person": person,
            "PersonBundle": bundle(_ref("Person")),
            "CapabilityStatement": {"type": "object", "required": ["resourceType", "fhirVersion", "rest"],
                                    "properties": {"resourceType": {"type": "string", "enum": ["CapabilityStatement"]},
                                                   "fhirVersion": {"type": "string"},
                                                   "rest": {"type": "array"}}},
            "TokenAnswer": {"type": "object", "required": ["access_token", "token_type", "expires_in", "scope"],
                            "properties": {"access_token": {"type": "string", "minLength": 1},
                                           "token_type": {"type": "string", "enum": ["Bearer"]},
                                           "expires_in": {"type": "integer", "minimum": 1},
                                           "scope": {"type": "string"}}},
            "OAuthError": {"type": "object", "required": ["error"],
                           "properties": {"error": {"type": "string", "enum": [
                               "invalid_request", "invalid_client", "unsupported_grant_type"]},
                               "error_description": {"type": "string"}}},
        },
    }


def _outcome_schema(current: bool) -> dict:
    """Every FHIR error answer. canvas-2022: each issue's ``diagnostics`` names the rule and what was wrong
    (FHIR-2); canvas-current: its ``details.text`` does, with a code that fits the status (FHIR-10)."""
    words = ({"details": {"type": "object", "required": ["text"],
                          "properties": {"text": {"type": "string", "minLength": 1}}}} if current
             else {"diagnostics": {"type": "string", "minLength": 1}})
    return {
        "description": "Every FHIR error answer: each issue's code fits the status (FHIR-10) and its details.text "
                       "names the rule and what was wrong (FHIR-2)." if current else
                       "Every FHIR error answer (FHIR-2): each issue names the rule and what was wrong.",
        "type": "object", "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
            "issue": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["severity", "code", *words],
                "properties": {
                    "severity": {"type": "string", "enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string", "minLength": 1},
                    **words,
                    "expression": {"type": "array", "items": {"type": "string"}},
                }}},
        },
    }


def _v2_read(reference_read: dict) -> dict:
    patient = {"type": "object", "required": ["reference", "type"],
               "properties": {"reference": {"type": "string", "pattern": r"^Patient/[A-Za-z0-9\-\.]{1,64}$"},
                              "type": {"type": "string", "enum": ["Patient"]}}}
    return {
        "description": "A stored message as v2 reads it back (ID-2, STAT-2, SUBJ-1, PAY-6, SENT-*, RECV-*, RCPT-3).",
        "type": "object",
        "required": ["resourceType", "id", "meta", "status", "subject", "sent", "recipient", "sender", "payload"],
        "properties": {
            "resourceType": {"type": "string", "enum": ["Communication"]},
            "id": {"type": "string", "pattern": ID_PATTERN},
            "meta": {"type": "object", "required": ["versionId", "lastUpdated"],
                     "properties": {"versionId": {"type": "string"}, "lastUpdated": {"type": "string"}}},
            "status": {"type": "string", "enum": ["completed"]},
            "subject": patient,
            "sent": {"type": "string"},
            "received": {"type": "string"},
            "recipient": {"type": "array", "minItems": 1, "maxItems": 1, "items": reference_read},
            "sender": reference_read,
            "payload": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                "type": "object", "required": ["contentString"],
                "properties": {"contentString": {"type": "string", "minLength": 1,
                                                 "description": "HTML: <p>text</p>, newlines as <br> (PAY-6)"}}}},
        },
    }


_UNAUTHORISED = _outcome("No valid bearer token (missing, unknown or expired): FHIR-3.",
                         headers={"WWW-Authenticate": {"schema": {"type": "string"}}})
_REFUSED = _outcome("Update and delete are not supported on Communication (FHIR-6).",
                    headers={"Allow": {"required": True, "schema": {"type": "string"}}})


def _refusals(what: str) -> dict:
    return {method: {"summary": f"{method.upper()} {what}: always refused", "security": [],
                     "tags": ["Communication"], "responses": {"405": _REFUSED}}
            for method in ("put", "patch", "delete")}


def _people(kind: str) -> dict:
    return {
        f"/{kind}": {"get": {
            "summary": f"Every {kind} on the mock (valid references for a create)", "tags": ["People"],
            "responses": {"200": _answer(f"A searchset Bundle of {kind}s", _ref("PersonBundle")),
                          "401": _UNAUTHORISED}}},
        f"/{kind}/{{id}}": {"get": {
            "summary": f"Read one {kind}", "tags": ["People"],
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _answer(f"The {kind}", _ref("Person")), "401": _UNAUTHORISED,
                          "404": _outcome(f"No such {kind} (FHIR-6)")}}},
    }


@lru_cache(maxsize=None)
def document(profile: str = "canvas-2022") -> dict:
    """The OpenAPI document of ``profile`` (built once each: it depends on nothing but the package's own files)."""
    current = profile == CANVAS_CURRENT
    create_body = {"required": True, "content": _json(_ref("CommunicationCreate"), types=MEDIA_TYPES)}  # FHIR-8
    if current:  # ID-1, ID-3: 201 with the JSON null, the id only in a Location naming version 1
        created = _answer("Created; the body is JSON null, Location names <base>/Communication/<id>/_history/1",
                          {"nullable": True, "enum": [None]}, types=("application/json",),
                          headers={"Location": {"required": True, "schema": {"type": "string", "minLength": 1}}})
        refused_400 = ("Not JSON, not a Communication, a missing element (status and payload contentString "
                       "included), a wrong JSON type or a malformed date-time (FHIR-1, RCPT-1, SNDR-1, PAY-1, "
                       "STAT-1, PAY-5)")
        refused_422 = "A business rule refused it (RCPT-2, SNDR-2, PAY-3, STAT-1, FHIR-4, FHIR-5)"
    else:
        created = _answer("Created; Location names Communication/<id>", headers={
            "Location": {"required": True, "schema": {"type": "string", "minLength": 1}}})
        refused_400 = ("Not JSON, not a Communication, a missing element, a wrong JSON type "
                       "or a malformed date-time (FHIR-1, RCPT-1, SNDR-1, PAY-1)")
        refused_422 = "A business rule refused it (RCPT-2, SNDR-2, PAY-3, PAY-4, FHIR-4, FHIR-5)"
    paths = {
        "/auth/token/": {"post": {
            "summary": "OAuth 2.0 client-credentials grant (FHIR-3)", "tags": ["Auth"], "security": [],
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["grant_type", "client_id", "client_secret"],
                "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]},
                               "client_id": {"type": "string", "minLength": 1},
                               "client_secret": {"type": "string", "minLength": 1}}}}}},
            "responses": {
                "200": {"description": "A bearer token", "content": {"application/json": {"schema": _ref("TokenAnswer")}}},
                "400": {"description": "Malformed grant", "content": {"application/json": {"schema": _ref("OAuthError")}}},
                "401": {"description": "Unknown client or wrong secret",
                        "content": {"application/json": {"schema": _ref("OAuthError")}}},
            },
        }},
        "/metadata": {"get": {
            "summary": "The CapabilityStatement (no token needed)", "tags": ["Metadata"], "security": [],
            "responses": {"200": _answer("What the server supports", _ref("CapabilityStatement"))},
        }},
        "/Communication": {
            "post": {
                "summary": "Create a message (ID-1, ID-2, SENT-*, RECV-*, RCPT-*, SNDR-*, PAY-*)",
                "tags": ["Communication"], "requestBody": create_body,
                "responses": {
                    "201": created,
                    "400": _outcome(refused_400),
                    "401": _UNAUTHORISED,
                    "413": _outcome("The body is larger than the server accepts"),
                    "415": _outcome(f"Content-Type is not {MEDIA_TYPES_TEXT} (FHIR-8)"),
                    "422": _outcome(refused_422),
                },
            },
            "get": {
                "summary": "Search messages (FHIR-7)", "tags": ["Communication"],
                "parameters": [param.openapi() for param in SEARCH_PARAMS],
                "responses": {"200": _answer("A searchset Bundle", _ref("CommunicationBundle")),
                              "400": _outcome("An unknown parameter or a malformed value (FHIR-7)"),
                              "401": _UNAUTHORISED},
            },
            **_refusals("/Communication"),
        },
        "/Communication/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "summary": "Read a message (ID-2)", "tags": ["Communication"],
                "responses": {"200": _answer("The stored message", _ref("Communication")),
                              "401": _UNAUTHORISED, "404": _outcome("No such message (FHIR-6)")},
            },
            **_refusals("/Communication/{id}"),
        },
        **_people("Patient"),
        **_people("Practitioner"),
    }
    if current:
        paths["/Communication/{id}/_history/{version}"] = {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "summary": "Read the version a create's Location names (ID-1); a message has version 1 only",
                "tags": ["Communication"],
                "responses": {"200": _answer("The stored message", _ref("Communication")),
                              "401": _UNAUTHORISED, "404": _outcome("No such message or version (FHIR-6)")},
            },
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Canvas FHIR Communication API: reference mock",
            "version": "1.0.0",
            "description": "The FHIR surface of the canvas-conformance mock server. Rule IDs (RCPT-1, FHIR-3...) "
                           "refer to the project's rule catalogue. Every FHIR error answer is an OperationOutcome.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": _components(current),
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document(current_app.config["PROFILE"]))
