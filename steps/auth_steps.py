"""Steps about bearer tokens (FHIR-3): requests without a valid one, and the client-credentials grant.

An expired token can only be made where the target's clock can be moved on (the
mock's clock control): the clock is moved past the token's lifetime for one
request and given back at once.
"""
from __future__ import annotations

import secrets

import pytest
from pytest_bdd import given, then, when

from canvas_conformance import checks
from canvas_conformance.client import Answer, Evidence

from .bodies import Draft
from .message_steps import Submission, count_before, send, submit
from .target import Target
from .terms import phrase


@when(phrase("it is submitted with {credential:Credential}"), target_fixture="submission")
def submitted_with(target: Target, draft: Draft, credential: str, evidence: Evidence) -> Submission:
    if credential == "missing":
        return submit(target, draft, name="create message with no bearer token", authorize=False)
    if credential == "unknown":
        return submit(target, draft, name="create message with a bearer token the target never issued",
                      bearer=secrets.token_urlsafe(32))
    if not target.mock_controls:
        pytest.skip("an expired token needs a target whose clock can be moved on (the mock's clock control); "
                    "this target offers none")
    lifetime = target.client.token_lifetime
    if lifetime is None:
        pytest.skip("the token's lifetime is unknown: a ready token was given, or the grant stated no expires_in")
    involved, before = count_before(target, draft)
    target.shift_clock(lifetime + 60)
    try:
        answer, started, finished = send(target, draft, name="create message with the run's token, now expired")
    finally:
        # The clock control itself needs a valid token, and every token issued before the move has expired.
        target.release_clock(bearer=fresh_token(target))
    evidence.note(f"FHIR-3: the run's token (lifetime {lifetime} s) was expired by moving the target's clock on "
                  f"{lifetime + 60} s for one request; the clock was given back right after, with a token "
                  "granted after the move")
    return Submission(draft, answer, before, involved, started, finished)


def fresh_token(target: Target) -> str:
    grant = target.client.grant("request a token valid on the moved clock, to give the clock back")
    try:
        return grant.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        raise RuntimeError(f"no fresh token to give the target its clock back (status {grant.status})") from None


@when("the new message is read with no bearer token", target_fixture="answer")
def read_without_token(target: Target, created: str) -> Answer:
    return target.client.request("read the new message with no bearer token", "GET", f"Communication/{created}",
                                 authorize=False)


@given("the run has client credentials for the target")
def has_credentials(target: Target) -> None:
    if not target.client.has_credentials:
        pytest.skip("no client id and secret were given (only a ready token), so the grant cannot be checked")


@when("a bearer token is requested for them", target_fixture="grant")
def request_token(target: Target) -> Answer:
    return target.client.grant("request a bearer token with the client credentials")


@then("the target grants a bearer token with its lifetime and scope")
def token_granted(grant: Answer, rule: str) -> None:
    try:
        body = grant.json()
    except ValueError:
        body = grant.text
    checks.check_token_grant(grant.status, body, rule=rule)
