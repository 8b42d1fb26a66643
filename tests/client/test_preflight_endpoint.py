"""The pre-flight knows a FHIR endpoint: ``GET <base>/metadata`` must answer 200 with a
CapabilityStatement whose ``rest`` resources name Communication, else the run stops (exit 2,
one line saying what was found: status, content type, resourceType).

Why: a base URL with a wrong path still answers something (a 404 OperationOutcome, a web page),
and a run against it used to pass the pre-flight and exit 0 with every rule skipped.
"""
from __future__ import annotations

import pytest
import responses

from canvas_conformance import preflight

from ..mock_helpers import CAPABILITIES

BASE = "http://127.0.0.1:5995"


def creds(base: str = BASE, **more) -> preflight.Credentials:
    return preflight.Credentials(base, f"{base}/auth/token/", more.get("client_id", "me"),
                                 more.get("client_secret", "s3cret"), more.get("token"), 5.0)


def one_line(run) -> str:
    assert run.code == 2, (run.out, run.err)
    assert len(run.err_lines) == 1, run.err
    assert not run.report.exists()
    return run.err_lines[0]


def test_a_wrong_path_on_the_mock_stops_the_run_with_what_it_found(serve, run_harness):
    target = serve()
    wrong = target._replace(base_url=f"{target.base_url}/fhir")
    line = one_line(run_harness(wrong, "--tags", "RCPT-1"))
    assert line == (f"canvas-conformance: {wrong.base_url}/metadata is not a FHIR endpoint serving Communication "
                    "(expected HTTP 200 with a CapabilityStatement; got HTTP 404, application/fhir+json, "
                    "resourceType 'OperationOutcome'): is --base-url the FHIR base?")


def test_a_wrong_path_with_a_ready_token_stops_the_run_too(serve, run_harness):
    target = serve()
    wrong = target._replace(base_url=f"{target.base_url}/fhir")
    run = run_harness(wrong, "--tags", "RCPT-1", env={"CANVAS_TOKEN": "T-not-a-real-token"})
    assert "is not a FHIR endpoint serving Communication" in one_line(run)
    assert "T-not-a-real-token" not in run.err


def test_the_mock_itself_passes_the_preflight(serve):
    target = serve()
    token = preflight.probe(creds(target.base_url, client_id=target.client_id, client_secret=target.client_secret))
    assert isinstance(token, str) and token


@pytest.mark.parametrize("answer, found", [
    (dict(status=200, body="<html>welcome</html>", content_type="text/html"),
     "got HTTP 200, text/html, not a JSON object"),
    (dict(status=200, json={"resourceType": "Patient", "id": "x"}),
     "got HTTP 200, application/json, resourceType 'Patient'"),
    (dict(status=200, json={"resourceType": "CapabilityStatement", "rest": [{"resource": [{"type": "Patient"}]}]}),
     "resourceType 'CapabilityStatement' not listing Communication among its rest resources"),
    (dict(status=200, json={"resourceType": "CapabilityStatement", "rest": {"resource": "Communication"}}),
     "not listing Communication among its rest resources"),
    (dict(status=200, json=["CapabilityStatement"]), "got HTTP 200, application/json, not a JSON object"),
    (dict(status=401, json={**CAPABILITIES}), "got HTTP 401, application/json, resourceType 'CapabilityStatement'"),
    (dict(status=200, json={"resourceType": 7}), "got HTTP 200, application/json, no resourceType"),
])
@responses.activate
def test_metadata_that_is_no_capability_statement_serving_communication_is_refused(answer, found):
    responses.get(f"{BASE}/metadata", **answer)
    grant = responses.post(f"{BASE}/auth/token/", json={"access_token": "t"})
    with pytest.raises(preflight.Refusal) as refused:
        preflight.probe(creds())
    assert str(refused.value).startswith(f"{BASE}/metadata is not a FHIR endpoint serving Communication")
    assert found in str(refused.value)
    assert grant.call_count == 0  # nothing more is asked of a target that is not the FHIR endpoint


@responses.activate
def test_a_capability_statement_serving_communication_lets_the_preflight_go_on():
    responses.get(f"{BASE}/metadata", json=CAPABILITIES)
    responses.post(f"{BASE}/auth/token/", json={"access_token": "granted-token"})
    assert preflight.probe(creds()) == "granted-token"
