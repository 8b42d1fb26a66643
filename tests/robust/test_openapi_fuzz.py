"""A bounded schemathesis run against the mock's own /openapi.json, in-process (WSGI).

What it shows: for generated requests, valid and deliberately invalid (schemathesis's positive
and negative modes), the mock never answers 5xx, every FHIR error is an OperationOutcome naming
the problem, and every answer matches the description (status, content type, headers, body
schema). Half of the valid creates take their parties and text from a fixture message, so
generated messages are really stored and read back, and the read-back matches the description.
Runs are derandomised and bounded: the same requests every time, a few hundred in all.

The same run is shown to FAIL against mocks that break the promises: one that answers an HTML
500 (fault injection) and one whose errors are not OperationOutcomes.
"""
from __future__ import annotations

import traceback

import pytest
import schemathesis
from flask import jsonify
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from mock_server import create_app
from mock_server.outcome import FhirError

EXAMPLES_PER_OPERATION = 12
EXAMPLES_FOR_CREATE = 40  # the endpoint under test gets more
# positive_data_acceptance is left out on purpose: a body can match the schema and still break a
# business rule the schema cannot express (an unknown patient: FHIR-4), which is a documented 422.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, ignored_auth, unsupported_method]


@schemathesis.check
def error_is_operation_outcome(ctx, response, case):
    """FHIR-2: every FHIR error answer is an OperationOutcome whose issues say what was wrong."""
    if response.status_code < 400 or case.operation.path == "/auth/token/":
        return None  # the token endpoint answers OAuth 2.0 error objects, as OAuth clients expect
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"error {response.status_code} has no JSON body") from None
    assert isinstance(body, dict) and body.get("resourceType") == "OperationOutcome", \
        f"error {response.status_code} is not an OperationOutcome"
    assert body.get("issue") and all(_said(issue) for issue in body["issue"]), \
        "an OperationOutcome issue has no diagnostics (nor details.text)"
    return True


def _said(issue: dict) -> str | None:
    """canvas-2022's errors say it in diagnostics, canvas-current's (v2) in details.text alone (FHIR-10)."""
    return issue.get("diagnostics") or (issue.get("details") or {}).get("text")


def with_fixture_parties(body, known: dict):
    """The generated body with the sender, first recipient and first payload of a fixture message.

    Everything else (status, sent, received, further recipients and payloads, unknown elements)
    stays as generated, so the mock stores generated messages, not just the fixture.
    """
    if not isinstance(body, dict):
        return body
    recipients = body.get("recipient") if isinstance(body.get("recipient"), list) else []
    payloads = body.get("payload") if isinstance(body.get("payload"), list) else []
    return {**body, "sender": known["sender"], "recipient": [known["recipient"][0], *recipients],
            "payload": [known["payload"][0], *payloads]}


def run_bounded(schema, auth: dict, mode: GenerationMode, *, known: dict,
                examples: int = EXAMPLES_PER_OPERATION, create_examples: int | None = None) -> dict[str, int]:
    """Send up to ``examples`` generated requests per operation and validate every answer.

    Returns how many requests each operation got (and ``created``: bodies stored and read back).
    An operation with nothing that can be made invalid (no body, no parameter) gets none in
    negative mode and is left out.
    """
    sent: dict[str, int] = {}
    read = schema["/Communication/{id}"]["GET"]
    for result in schema.get_all_operations():
        operation = result.ok()

        if operation.label == "POST /Communication":
            count = create_examples or (EXAMPLES_FOR_CREATE if examples == EXAMPLES_PER_OPERATION else examples)
        else:
            count = examples

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=count, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        def exchange(case):
            creating = operation.label == "POST /Communication" and mode is GenerationMode.POSITIVE
            if creating and sent.get(operation.label, 0) % 2:
                case.body = with_fixture_parties(case.body, known)
            response = case.call(headers=auth)
            sent[operation.label] = sent.get(operation.label, 0) + 1
            case.validate_response(response, checks=[*CHECKS, error_is_operation_outcome], headers=auth)
            if creating and response.status_code == 201:
                # The stored message reads back as described (ID-1, ID-2).
                message_id = response.headers["location"][0].split("/Communication/", 1)[1].split("/", 1)[0]
                readback = read.Case(path_parameters={"id": message_id})
                answer = readback.call(headers=auth)
                assert answer.status_code == 200, answer.text
                readback.validate_response(answer, checks=CHECKS, headers=auth)
                sent["created"] = sent.get("created", 0) + 1

        try:
            exchange()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
    return sent


@pytest.fixture
def schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_generated_requests_get_described_answers(schema, auth, mode, message):
    sent = run_bounded(schema, auth, mode, known=message())
    for label in ("POST /Communication", "GET /Communication", "POST /auth/token/", "GET /Communication/{id}"):
        assert sent.get(label, 0) > 0, f"no request was generated for {label}"
    if mode is GenerationMode.POSITIVE:
        assert sent.get("created", 0) > 0, "no generated message was stored; the create path went untested"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_canvas_current_answers_as_its_own_document_describes(mode, message):
    """The same run, fewer requests, on a canvas-current mock and its own /openapi.json (v2's 201 null,
    versioned Location, Bundles without fullUrl, details.text errors, the vread path)."""
    app = create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test", "PROFILE": "canvas-current"})
    client = app.test_client()
    token = client.post("/auth/token/", data={"grant_type": "client_credentials", "client_id": app.config["CLIENT_ID"],
                                              "client_secret": app.config["CLIENT_SECRET"]}).json["access_token"]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    sent = run_bounded(schema, {"Authorization": f"Bearer {token}"}, mode, known=message(), examples=4,
                       create_examples=EXAMPLES_FOR_CREATE)
    assert sent.get("GET /Communication/{id}/_history/{version}", 0) > 0
    if mode is GenerationMode.POSITIVE:
        assert sent.get("created", 0) > 0, "no generated message was stored; the create path went untested"


def explained(failure) -> str:
    """Everything schemathesis said about a failed run (its failures come as exception groups)."""
    return "".join(traceback.format_exception(failure.value))


def test_the_run_fails_against_a_mock_answering_html_500(schema, client, auth, message):
    client.put("/_mock/faults", headers=auth, json={"rules": [{"kind": "html500", "path": "/Communication"}]})
    with pytest.raises((AssertionError, Failure, FailureGroup)) as failure:
        run_bounded(schema, auth, GenerationMode.POSITIVE, known=message(), examples=3)
    assert "Server error" in explained(failure)


def test_the_run_fails_against_a_mock_whose_errors_are_not_operation_outcomes(message):
    broken = create_app({"DATABASE": ":memory:"})
    broken.register_error_handler(FhirError, lambda err: (jsonify(error=str(err)), err.status))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", broken)
    auth = {"Authorization": "Bearer not-a-token"}  # every FHIR request is then an error
    with pytest.raises((AssertionError, Failure, FailureGroup)) as failure:
        run_bounded(schema, auth, GenerationMode.NEGATIVE, known=message(), examples=3)
    assert "is not an OperationOutcome" in explained(failure)
