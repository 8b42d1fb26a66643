"""Helpers for the mock's own tests: create a message, read it back, count what is stored; served mocks."""
from __future__ import annotations

import json

import pytest

from mock_server.outcome import CORRELATION_HEADER

from ..mock_helpers import serve_process, threaded_mock  # noqa: F401  (fixtures for the tests of this folder)


class Api:
    """Thin helper over the Flask test client for the Communication endpoints."""

    def __init__(self, client, auth):
        self.client = client
        self.auth = auth

    def create(self, body, *, content_type="application/fhir+json", headers=None):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.client.post("/Communication", data=data, content_type=content_type,
                                headers={**self.auth, **(headers or {})})

    def created(self, body) -> dict:
        """Create ``body`` (which must succeed) and return the stored resource."""
        answer = self.create(body)
        assert answer.status_code == 201, answer.json
        return self.read(location_id(answer.headers["Location"])).json

    def read(self, message_id):
        return self.client.get(f"/Communication/{message_id}", headers=self.auth)

    def search(self, **params):
        return self.client.get("/Communication", query_string=params, headers=self.auth)

    def total(self, **params) -> int:
        answer = self.search(**params)
        assert answer.status_code == 200, answer.json
        return answer.json["total"]


def location_id(location: str) -> str:
    """The id a Location names: ``<base>/Communication/<id>``, with or without ``/_history/<version>``."""
    return location.split("/Communication/", 1)[1].split("/", 1)[0]


@pytest.fixture
def api(client, auth):
    return Api(client, auth)


def issue_text(issue: dict) -> str:
    """What an issue says: ``diagnostics`` (canvas-2022), or ``details.text`` (canvas-current, FHIR-10)."""
    return issue.get("diagnostics") or (issue.get("details") or {}).get("text") or ""


def assert_outcome(answer, status: int, rule: str, *, expression: str | None = None):
    """The answer is ``status`` with an OperationOutcome, one of whose issues names ``rule``."""
    assert answer.status_code == status, (answer.status_code, answer.get_data(as_text=True)[:500])
    assert answer.headers["Content-Type"].startswith("application/fhir+json")
    assert answer.headers.get(CORRELATION_HEADER)
    body = answer.json
    assert body["resourceType"] == "OperationOutcome"
    for issue in body["issue"]:
        assert issue["severity"] in ("error", "fatal") and issue["code"] and issue_text(issue)
    matching = [i for i in body["issue"] if issue_text(i).startswith(f"[{rule}]")]
    assert matching, f"no issue names {rule}: {body}"
    if expression:
        assert any(expression in i.get("expression", []) for i in matching), body
    return body


@pytest.fixture
def outcome():
    """``outcome(answer, status, rule, expression=None)`` asserts an OperationOutcome naming ``rule``."""
    return assert_outcome


@pytest.fixture
def people(fixture_data):
    """Ids of the fixture people, by kind."""
    data = fixture_data["people"]
    return {"Patient": [p["id"] for p in data["patients"]],
            "Practitioner": [p["id"] for p in data["practitioners"]]}

