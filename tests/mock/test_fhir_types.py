"""The FHIR value patterns are declared once (mock_server/fhir_types.py): validation, the schema and the documents agree."""
from __future__ import annotations

import re

import pytest

from mock_server import fhir_types
from mock_server.validation import schema

VALID_INSTANTS = ["2021-04-28T13:30:00Z", "2021-04-01T13:30:00.123+02:00", "0001-01-01T00:00:00-14:00",
                  "2021-02-28T23:59:59+14:00"]
REFUSED_INSTANTS = ["2021-04-29", "2021-04-29T13:30:00", "2021-02-30T10:00:00Z", "2016-12-31T23:59:60Z",
                    "2021-04-29T13:30:00+25:00", "0000-01-01T00:00:00Z", "yesterday"]


def test_the_create_schema_carries_the_same_id_pattern():
    assert schema()["definitions"]["id"]["pattern"] == fhir_types.ID_PATTERN


@pytest.mark.parametrize("value, matches", [("Patient/abc-1.2", True), ("Practitioner/" + "a" * 64, True),
                                            ("Practitioner/" + "a" * 65, False), ("Patient/", False),
                                            ("Patient/a b", False), ("Observation/1", True), ("1/2", False)])
def test_a_reference_is_a_type_and_an_id(value, matches):
    found = fhir_types.REFERENCE.match(value)
    assert bool(found) is matches
    if found:
        assert re.match(fhir_types.ID_PATTERN, found["id"])
        party = re.match(fhir_types.PARTY_REFERENCE_PATTERN, value)
        assert bool(party) is (found["type"] in fhir_types.PARTY_TYPES)


@pytest.mark.parametrize("value", VALID_INSTANTS)
def test_what_the_instant_pattern_promises_the_create_accepts(api, message, value):
    assert re.match(fhir_types.INSTANT_PATTERN, value)
    assert re.match(schema()["definitions"]["dateTime"]["pattern"], value)  # an instant is a FHIR dateTime
    assert api.create({**message("practitioner_to_patient"), "sent": value}).status_code == 201


@pytest.mark.parametrize("value", REFUSED_INSTANTS)
def test_what_the_create_refuses_the_instant_pattern_does_not_promise(api, message, outcome, value):
    assert not re.match(fhir_types.INSTANT_PATTERN, value)
    outcome(api.create({**message("practitioner_to_patient"), "sent": value}), 400, "FHIR-1")


def test_the_documents_describe_the_patterns_the_mock_uses(client):
    openapi = client.get("/openapi.json").json
    schemas = openapi["components"]["schemas"]
    assert schemas["Communication"]["properties"]["id"]["pattern"] == fhir_types.ID_PATTERN
    read_reference = schemas["Communication"]["properties"]["sender"]
    assert read_reference["properties"]["reference"]["pattern"] == fhir_types.PARTY_REFERENCE_PATTERN
    assert read_reference["properties"]["type"]["enum"] == list(fhir_types.PARTY_TYPES)
    assert schemas["FHIR_instant"]["pattern"] == fhir_types.INSTANT_PATTERN
    create = openapi["paths"]["/Communication"]["post"]
    assert list(create["requestBody"]["content"]) == list(fhir_types.MEDIA_TYPES)
    assert client.get("/metadata").json["format"] == list(fhir_types.MEDIA_TYPES)


@pytest.mark.parametrize("media_type", fhir_types.MEDIA_TYPES)
def test_every_declared_media_type_is_accepted(api, message, media_type):
    assert api.create(message("practitioner_to_patient"), content_type=f"{media_type}; charset=utf-8").status_code == 201


def test_the_refusal_names_the_declared_media_types(api, message, outcome):
    body = outcome(api.create(message("practitioner_to_patient"), content_type="text/plain"), 415, "FHIR-8")
    assert body["issue"][0]["diagnostics"].endswith(f"send {fhir_types.MEDIA_TYPES_TEXT}")
