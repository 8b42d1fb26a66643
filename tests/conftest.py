"""Shared fixtures for the project's own tests: a fresh mock app per test, its token, test data."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from mock_server import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="session")
def fixture_data():
    """The files under fixtures/, the one source of test data."""
    return {
        "people": json.loads((FIXTURES / "people.json").read_text()),
        "communications": json.loads((FIXTURES / "communications.json").read_text()),
    }


@pytest.fixture
def message(fixture_data):
    """A fresh copy of a named message body from fixtures/communications.json."""
    def make(name: str = "practitioner_to_patient") -> dict:
        return copy.deepcopy(fixture_data["communications"][name])
    return make


@pytest.fixture
def app():
    return create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test"})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token(client, app):
    answer = client.post("/auth/token/", data={
        "grant_type": "client_credentials",
        "client_id": app.config["CLIENT_ID"],
        "client_secret": app.config["CLIENT_SECRET"],
    })
    assert answer.status_code == 200, answer.json
    return answer.json["access_token"]


@pytest.fixture
def auth(token):
    """Headers that authorise a request to the mock."""
    return {"Authorization": f"Bearer {token}"}
