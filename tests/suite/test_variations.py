"""Targets that answer differently in ways the rules allow pass every API scenario they can run."""
from __future__ import annotations

import json

import os

import pytest

from .catch_table import judge, record_variant
from .corpus import VARIANTS
from .corpus_current import CURRENT_VARIANTS, profile_of
from .twists import LENIENT, RESERVED


def test_allowed_forms_pass(run_suite, serve):
    """Relative Location with /_history/1, a JSON body on 201, Z instants with fractions, extra elements
    and absolute references in read-backs, 400 rather than 422 for business rules."""
    target = serve(LENIENT.install)
    run = run_suite(target.env(), marks="api")
    assert {row["status"] for row in run.rows} == {"passed"}, [
        (r["name"], r["status"], r["message"]) for r in run.rows if r["status"] != "passed"]
    assert run.exit_code == 0
    creates = [e for r in run.rows for e in r["exchanges"] if e["method"] == "POST" and e["status"] == 201]
    assert creates and all(e["response_headers"]["Location"].endswith("/_history/1") for e in creates)
    assert all(json.loads(e["response_body"])["resourceType"] == "Communication" for e in creates)


def test_a_target_without_mock_controls_or_enough_people(run_suite, serve):
    """No clock control (SENT-2 checked against the request's time window, expiry not checkable), no
    search without a parameter (nothing-stored counted per party), a ready token, one patient."""
    target = serve(RESERVED.install)
    token = target.app.test_client().post("/auth/token/", data={
        "grant_type": "client_credentials", "client_id": target.client_id,
        "client_secret": target.client_secret}).json["access_token"]
    practitioners = [p["id"] for p in target.app.extensions["mock_store"].list_people("Practitioner")]
    patients = [p["id"] for p in target.app.extensions["mock_store"].list_people("Patient")]
    run = run_suite({"CANVAS_BASE_URL": target.base_url, "CANVAS_TOKEN": token,
                     "CANVAS_PATIENTS": patients[0], "CANVAS_PRACTITIONERS": ",".join(practitioners[:2])},
                    marks="api")
    assert run.exit_code == 0
    assert run.results["target"]["mock_controls"] is False
    skipped = {row["name"]: row["message"] for row in run.by_status("skipped")}
    assert {name for name in skipped} == {
        "A create without a valid bearer token is refused with 401 (credential: an expired bearer token)",
        "Client credentials are exchanged for a bearer token",
        "Only the first recipient is kept (further: another patient)",
        "A message between two people of the same kind is refused (sender: a patient, recipient: another patient)",
    }
    assert "clock" in skipped["A create without a valid bearer token is refused with 401 "
                              "(credential: an expired bearer token)"]
    assert "needs 2 patients" in skipped["Only the first recipient is kept (further: another patient)"]
    assert "CANVAS_PATIENTS" in skipped["Only the first recipient is kept (further: another patient)"]
    assert {row["status"] for row in run.rows} == {"passed", "skipped"}
    sent_2 = next(r for r in run.rows if "SENT-2" in r["rules"])
    assert any("Date header" in note and "± 5 s" in note for note in sent_2["notes"]), sent_2["notes"]
    refused = next(r for r in run.rows if "RCPT-1" in r["rules"])
    assert any(e["name"].startswith("search patient=") and "marker" in e["name"] for e in refused["exchanges"])
    assert token not in json.dumps(run.results), "the ready token is redacted from results.json"


@pytest.mark.parametrize("variant", VARIANTS + CURRENT_VARIANTS, ids=lambda v: f"{profile_of(v)}: {v.name}")
@pytest.mark.skipif(not os.environ.get("CANVAS_CORPUS"), reason="the mutation corpus runs the whole API suite, explored "
                    "scenarios included, once per breakage or variant (about 25 s each here): make corpus")
def test_each_allowed_variant_passes_every_rule(run_suite, serve, variant):
    target = serve(variant.install, **variant.config)
    run = run_suite(target.env(), marks="api", profile=profile_of(variant))
    verdict = judge(run.rows, None)
    record_variant(variant, verdict)
    assert {row["status"] for row in run.rows} == {"passed"}, {
        name: message[:200] for name, message in verdict.messages.items()}
    assert run.exit_code == 0
