"""Tokens (client-credentials grant) and the bearer check on every FHIR endpoint (FHIR-3)."""
from __future__ import annotations

import pytest

from ..mock_helpers import grant_form


def grant(client, **form):
    return client.post("/auth/token/", data=form)


def test_token_answer_has_the_oauth_fields(client, app):
    answer = grant(client, **grant_form(app.config))
    assert answer.status_code == 200
    body = answer.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 36000
    assert body["access_token"] and "system/Communication.write" in body["scope"]
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("form, status, error", [
    ({"grant_type": "password", "client_id": "conformance-client", "client_secret": "conformance-secret"},
     400, "unsupported_grant_type"),
    ({"grant_type": "client_credentials", "client_id": "conformance-client"}, 400, "invalid_request"),
    ({"grant_type": "client_credentials", "client_id": "conformance-client", "client_secret": "wrong"},
     401, "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "someone-else", "client_secret": "conformance-secret"},
     401, "invalid_client"),
])
def test_token_refusals(client, form, status, error):
    answer = grant(client, **form)
    assert (answer.status_code, answer.json["error"]) == (status, error)
    assert "conformance-secret" not in answer.get_data(as_text=True)


def test_token_lifetime_is_settable():
    from mock_server import create_app
    app = create_app({"TOKEN_LIFETIME": 60})
    answer = grant(app.test_client(), **grant_form(app.config))
    assert answer.json["expires_in"] == 60


PROTECTED = [
    ("POST", "/Communication"), ("GET", "/Communication"), ("GET", "/Communication/abc"),
    ("GET", "/Patient"), ("GET", "/Patient/5350cd20de8a470aa570a852859ac87e"), ("GET", "/Practitioner"),
    ("GET", "/_mock/clock"), ("POST", "/_mock/reset"),
]


@pytest.mark.parametrize("method, path", PROTECTED)
@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic Y29uZm9ybWFuY2U=", "Bearer "])
def test_fhir_endpoints_need_a_valid_token(client, outcome, method, path, header):
    headers = {"Authorization": header} if header else {}
    answer = client.open(path, method=method, headers=headers, json={})
    outcome(answer, 401, "FHIR-3")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_refused_and_nothing_stored(api, app, client, auth, message, outcome):
    before = api.total()
    client.put("/_mock/clock", json={"shift_seconds": 36001}, headers=auth)
    outcome(api.create(message("minimal")), 401, "FHIR-3")
    fresh = grant(client, **grant_form(app.config)).json["access_token"]
    client.delete("/_mock/clock", headers={"Authorization": f"Bearer {fresh}"})
    assert api.total() == before  # back in real time, the first token is valid again


def test_a_refused_create_stores_nothing(api, client, message, outcome):
    before = api.total()
    outcome(client.post("/Communication", json=message("minimal")), 401, "FHIR-3")
    assert api.total() == before


def test_metadata_needs_no_token(client):
    answer = client.get("/metadata")
    assert answer.status_code == 200
    assert answer.json["resourceType"] == "CapabilityStatement"


def test_the_database_keeps_no_usable_token(app, token):
    rows = app.extensions["mock_store"]._conn.execute("SELECT token_hash FROM token").fetchall()
    assert rows and all(token not in r[0] for r in rows)
