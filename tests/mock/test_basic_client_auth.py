"""HTTP Basic client authentication at the token endpoint (RFC 6749 section 2.3.1).

The client's id and secret, each form-urlencoded, joined by ':' and base64-encoded in an
``Authorization: Basic`` header, instead of the client_id/client_secret form fields; one
method at a time.
"""
from __future__ import annotations

import base64
from urllib.parse import quote_plus

import pytest


def basic(client_id: str, client_secret: str) -> dict:
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_basic_credentials_get_a_token_that_works(client, app):
    answer = client.post("/auth/token/", data={"grant_type": "client_credentials"},
                         headers=basic(app.config["CLIENT_ID"], app.config["CLIENT_SECRET"]))
    assert answer.status_code == 200 and answer.json["token_type"] == "Bearer"
    read = client.get("/Patient", headers={"Authorization": f"Bearer {answer.json['access_token']}"})
    assert read.status_code == 200


def test_the_id_and_secret_are_form_urlencoded_inside_the_header():
    from mock_server import create_app
    app = create_app({"CLIENT_ID": "team a/ci", "CLIENT_SECRET": "p:ss+w%rd é"})
    answer = app.test_client().post("/auth/token/", data={"grant_type": "client_credentials"},
                                    headers=basic("team a/ci", "p:ss+w%rd é"))
    assert answer.status_code == 200, answer.json


def test_a_wrong_basic_secret_is_401_with_a_basic_challenge(client, app):
    answer = client.post("/auth/token/", data={"grant_type": "client_credentials"},
                         headers=basic(app.config["CLIENT_ID"], "wrong"))
    assert (answer.status_code, answer.json["error"]) == (401, "invalid_client")
    assert answer.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("header, says", [
    ("Basic not*base64", "not base64"),
    ("Basic " + base64.b64encode(b"no-colon").decode(), "no ':'"),
])
def test_a_malformed_basic_header_is_invalid_request(client, header, says):
    answer = client.post("/auth/token/", data={"grant_type": "client_credentials"}, headers={"Authorization": header})
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_request") and says in \
        answer.json["error_description"]


def test_two_methods_at_once_are_refused(client, app):
    answer = client.post("/auth/token/", headers=basic(app.config["CLIENT_ID"], app.config["CLIENT_SECRET"]),
                         data={"grant_type": "client_credentials", "client_id": app.config["CLIENT_ID"],
                               "client_secret": app.config["CLIENT_SECRET"]})
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_request")
