"""Fixtures for the runner's tests: constructed results.json documents, and a throwaway suite.

Why construct results rather than only run the real suite: every status, every odd
shape (unknown status, a scenario tagged with no rule, an echoed secret) must be
shown in the reports on purpose, which a suite against a well-behaved mock never
produces. Why a throwaway suite (written into a tmp folder, never into steps/): the
runner's process handling, exit codes, progress and scrubbing are tested through a
real pytest-bdd child run whose outcomes the test decides.
"""
from __future__ import annotations

import json

import pytest


CLIENT_SECRET = "planted-client-secret-7f3a9c"
BEARER = "planted-bearer-token-0b1e55d2c4"
BASE_URL = "http://127.0.0.1:5999"


# -- constructed results ------------------------------------------------------------------

@pytest.fixture
def exchange(message):
    """An Exchange dict as the suite's client records it (a create of a fixture message by default)."""
    def make(name="create the message", *, method="POST", url=f"{BASE_URL}/Communication", status=201,
             request_body=None, response_body="", response_headers=None, request_headers=None, error=None,
             duration_ms=12.5, correlation_id="corr-0001"):
        if request_body is None and method == "POST":
            request_body = json.dumps(message("practitioner_to_patient"))
        return {
            "name": name, "method": method, "url": url,
            "request_headers": request_headers if request_headers is not None else {
                "Authorization": f"Bearer {BEARER}", "Content-Type": "application/fhir+json"},
            "request_body": request_body, "status": None if error else status,
            "response_headers": response_headers if response_headers is not None else {
                "fumage-correlation-id": correlation_id, "Location": f"{BASE_URL}/Communication/abc"},
            "response_body": response_body, "correlation_id": correlation_id,
            "started": "2026-11-25T12:00:00.100000+00:00", "duration_ms": duration_ms, "error": error,
        }
    return make


@pytest.fixture
def scenario(exchange):
    """A scenario dict of results.json, with one exchange unless told otherwise."""
    def make(status, rules=("SENT-2",), *, name=None, message=None, exchanges=None, tags=None, notes=(),
             attachments=(), feature="Sent and received times", feature_file="features/sent_received.feature"):
        rules = list(rules)
        step_status = {"passed": "passed", "failed": "failed", "error": "error"}.get(status, "skipped")
        return {
            "nodeid": f"steps/test_conformance.py::test_{(name or status).replace(' ', '_')}",
            "feature_file": feature_file, "feature": feature,
            "name": name or f"a {status} scenario of {' '.join(rules) or 'no rule'}",
            "rules": rules,
            "tags": list(tags) if tags is not None else [*rules, "documented", "api"],
            "status": status, "message": message, "duration_s": 0.05,
            "steps": [{"keyword": "Given", "text": "a message from a practitioner to a patient",
                       "status": "passed", "duration_s": 0.001},
                      {"keyword": "Then", "text": "the stored sent time is the creation time",
                       "status": step_status, "duration_s": 0.002}],
            "exchanges": [exchange()] if exchanges is None else list(exchanges),
            "notes": list(notes), "attachments": list(attachments),
        }
    return make


@pytest.fixture
def results():
    """A results.json document around the given scenarios."""
    def make(scenarios, *, base_url=BASE_URL, embedded_mock=False):
        return {
            "tool_version": "0.1.0",
            "target": {"base_url": base_url, "embedded_mock": embedded_mock, "mock_controls": embedded_mock},
            "started": "2026-11-25T12:00:00+00:00", "finished": "2026-11-25T12:00:02.500000+00:00",
            "scenarios": list(scenarios),
        }
    return make


@pytest.fixture
def every_status(scenario):
    """One scenario per status, each on its own rule, plus a scenario tagged with no catalogue rule."""
    return [
        scenario("passed", ["SENT-1"]),
        scenario("failed", ["SENT-2"], message="sent was 2020-01-01T00:00:00Z, not the creation time"),
        scenario("error", ["RCPT-1"], message="ConnectionError: connection dropped", exchanges=[]),
        scenario("skipped", ["RCPT-3"], message="needs two patients, only one given", exchanges=[]),
        scenario("manual", ["UI-1"], message="MANUAL: 1. open the chart 2. find the message", exchanges=[],
                 tags=["UI-1", "documented", "ui"]),
        scenario("failed", [], name="a scenario tagged with no rule", tags=["api"], message="boom"),
    ]
