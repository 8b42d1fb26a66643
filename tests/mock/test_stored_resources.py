"""What the mock stores is a valid FHIR R4 Communication (checked with fhir.resources)."""
from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.operationoutcome import OperationOutcome


@pytest.mark.parametrize("name", ["practitioner_to_patient", "patient_to_practitioner", "document_example", "minimal"])
def test_stored_message_validates(api, message, name):
    Communication.model_validate(api.created(message(name)))


def test_search_bundle_and_metadata_validate(api, client, message):
    api.created(message("minimal"))
    Bundle.model_validate(api.search().json)
    CapabilityStatement.model_validate(client.get("/metadata").json)


def test_error_answers_validate(api, message):
    body = message("minimal")
    del body["sender"]
    OperationOutcome.model_validate(api.create(body).json)
