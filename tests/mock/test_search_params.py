"""The search parameters are declared once (mock_server/search.py): the route, /metadata and /openapi.json agree."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from mock_server.search import NAMES, PARAMS

PATIENT = "5350cd20de8a470aa570a852859ac87e"
PRACTITIONER = "5eede137ecfe4124b8b773040e33be14"
# A well-formed value for each declared parameter (the first test fails when one is missing here).
SAMPLES = {"_id": "some-id", "patient": f"Patient/{PATIENT}", "sender": f"Practitioner/{PRACTITIONER}", "recipient": PATIENT,
           "_count": "5", "_offset": "0"}
UNDECLARED = ["_sort", "status", "subject", "_ID", "Patient", "_include", "_total", "count"]


def test_every_declared_parameter_has_a_sample():
    assert set(SAMPLES) == set(NAMES) and len(NAMES) == len(PARAMS) == len(set(NAMES))


def test_the_capability_statement_lists_exactly_the_declared_parameters(client):
    communication = next(r for r in client.get("/metadata").json["rest"][0]["resource"] if r["type"] == "Communication")
    assert communication["searchParam"] == [{"name": p.name, "type": p.fhir_type} for p in PARAMS]


def test_the_openapi_document_lists_exactly_the_declared_parameters(client):
    parameters = client.get("/openapi.json").json["paths"]["/Communication"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == list(NAMES)
    assert all(p["in"] == "query" and p["description"] for p in parameters)
    numbers = {p.name for p in PARAMS if p.fhir_type == "number"}
    assert {p["name"] for p in parameters if p["schema"]["type"] == "integer"} == numbers == {"_count", "_offset"}


@pytest.mark.parametrize("name", NAMES)
def test_every_declared_parameter_is_accepted(api, name):
    answer = api.search(**{name: SAMPLES[name]})
    assert answer.status_code == 200, answer.json
    assert answer.json["resourceType"] == "Bundle"


@pytest.mark.parametrize("name", UNDECLARED)
def test_every_other_parameter_is_refused_naming_the_declared_ones(api, outcome, name):
    assert name not in NAMES
    body = outcome(api.search(**{name: "1"}), 400, "FHIR-7")
    assert body["issue"][0]["diagnostics"].endswith("supported: " + ", ".join(NAMES))


def test_the_filters_given_are_kept_in_every_paging_link_and_the_page_is_each_link_own(api, message):
    for _ in range(3):
        assert api.create(message("practitioner_to_patient")).status_code == 201
    filters = {p.name: SAMPLES[p.name] for p in PARAMS if p.filter is not None and p.name != "_id"}
    bundle = api.search(**filters, _count="1", _offset="1").json
    assert bundle["total"] == 3
    for link in bundle["link"]:
        query = parse_qsl(urlsplit(link["url"]).query)
        assert [k for k, _ in query] == [*filters, "_count", "_offset"], link
        assert dict(query) | {"_offset": "*"} == {**filters, "_count": "1", "_offset": "*"}
    assert {link["relation"] for link in bundle["link"]} == {"self", "first", "previous", "next", "last"}


def test_the_paging_value_is_answered_first_when_several_are_malformed(api, outcome):
    body = outcome(api.search(patient="Observation/1", _offset="x"), 400, "FHIR-7")
    assert body["issue"][0]["diagnostics"].startswith("[FHIR-7] _offset ")
