"""Create: each API rule's documented behaviour and the violation it refuses (nothing stored)."""
from __future__ import annotations

import re

import pytest

PATIENT = "5350cd20de8a470aa570a852859ac87e"


def freeze(client, auth, instant: str):
    answer = client.put("/_mock/clock", json={"now": instant}, headers=auth)
    assert answer.status_code == 200, answer.json


# -- ID-1, ID-2 ----------------------------------------------------------------------------
def test_create_answers_201_with_location_and_empty_body(api, message):  # ID-1
    answer = api.create(message("minimal"))
    assert answer.status_code == 201
    assert re.fullmatch(r"http://mock\.test/Communication/[0-9a-f]{32}", answer.headers["Location"])
    assert answer.get_data() == b""


def test_location_id_reads_back_and_body_id_is_ignored(api, message):  # ID-2
    body = message("minimal")
    body["id"] = "client-chosen-id"
    answer = api.create(body)
    new_id = answer.headers["Location"].rsplit("/", 1)[1]
    assert new_id != "client-chosen-id"
    assert api.read(new_id).json["id"] == new_id
    assert api.read("client-chosen-id").status_code == 404


def test_two_creates_never_share_an_id(api, message):  # ID-2
    ids = {api.create(message("minimal")).headers["Location"] for _ in range(20)}
    assert len(ids) == 20


# -- SENT-*, RECV-* ------------------------------------------------------------------------
@pytest.mark.parametrize("given, stored", [
    ("2021-04-29T09:30:00-04:00", "2021-04-29T13:30:00+00:00"),
    ("2021-04-29T13:30:00.000Z", "2021-04-29T13:30:00+00:00"),
    ("2021-04-29T23:30:00.250+10:00", "2021-04-29T13:30:00.250000+00:00"),
    ("2021-12-31T23:59:59-14:00", "2022-01-01T13:59:59+00:00"),
])
def test_sent_is_stored_in_utc(api, message, given, stored):  # SENT-1
    body = message("minimal")
    body["sent"] = given
    assert api.created(body)["sent"] == stored


def test_sent_defaults_to_server_now(api, message, client, auth):  # SENT-2
    freeze(client, auth, "2022-02-10T15:04:00Z")
    resource = api.created(message("minimal"))
    assert resource["sent"] == "2022-02-10T15:04:00+00:00"
    assert "received" not in resource


def test_sent_takes_received_when_only_received_given(api, message, client, auth):  # SENT-3
    freeze(client, auth, "2026-01-01T00:00:00Z")
    body = message("minimal")
    body["received"] = "2021-04-29T09:30:00-04:00"
    resource = api.created(body)
    assert resource["sent"] == resource["received"] == "2021-04-29T13:30:00+00:00"


def test_both_given_are_stored_as_given(api, message):  # SENT-4, RECV-1
    body = message("minimal")
    body["sent"], body["received"] = "2021-04-29T13:30:00Z", "2021-05-01T08:00:00+02:00"
    resource = api.created(body)
    assert resource["sent"] == "2021-04-29T13:30:00+00:00"
    assert resource["received"] == "2021-05-01T06:00:00+00:00"


def test_no_received_given_none_stored(api, message):  # RECV-2
    resource = api.created(message("practitioner_to_patient"))
    assert "received" not in resource


# -- Refusals: status, rule, nothing stored ------------------------------------------------
def _drop(field):
    def change(body):
        del body[field]
    return change


def _set(field, value):
    def change(body):
        body[field] = value
    return change


def _set_in(path, value):
    def change(body):
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


REFUSALS = [
    # (name, change, status, rule, expression)
    ("no recipient", _drop("recipient"), 400, "RCPT-1", "Communication.recipient"),
    ("empty recipient", _set("recipient", []), 400, "RCPT-1", "Communication.recipient"),
    ("null recipient", _set("recipient", None), 400, "RCPT-1", "Communication.recipient"),
    ("recipient is a Location", _set_in(["recipient", 0, "reference"], "Location/abc"), 422, "RCPT-2", None),
    ("recipient with no id", _set_in(["recipient", 0, "reference"], "Patient/"), 422, "RCPT-2", None),
    ("recipient empty reference", _set_in(["recipient", 0, "reference"], ""), 422, "RCPT-2", None),
    ("recipient without reference", _set("recipient", [{"display": "Amara"}]), 422, "RCPT-2", None),
    ("recipient type disagrees", _set_in(["recipient", 0, "type"], "Practitioner"), 422, "RCPT-2", None),
    ("no sender", _drop("sender"), 400, "SNDR-1", "Communication.sender"),
    ("sender is an Organization", _set("sender", {"reference": "Organization/5eede137"}), 422, "SNDR-2", None),
    ("sender is a list", _set("sender", [{"reference": "Practitioner/5eede137ecfe4124b8b773040e33be14"}]),
     400, "FHIR-1", "Communication.sender"),
    ("no payload", _drop("payload"), 400, "PAY-1", "Communication.payload"),
    ("empty payload", _set("payload", []), 400, "PAY-1", "Communication.payload"),
    ("empty content", _set("payload", [{"content": ""}]), 422, "PAY-3", None),
    ("empty contentString", _set("payload", [{"contentString": ""}]), 422, "PAY-3", None),
    ("blank content", _set("payload", [{"contentString": "  \n "}]), 422, "PAY-3", None),
    ("empty first, text second", _set("payload", [{"content": ""}, {"content": "hi"}]), 422, "PAY-3", None),
    ("no text in first payload", _set("payload", [{"contentAttachment": {"url": "x"}}]), 422, "PAY-4", None),
    ("content and contentString differ", _set("payload", [{"content": "a", "contentString": "b"}]), 422, "PAY-4", None),
    ("wrong resourceType", _set("resourceType", "Patient"), 400, "FHIR-1", None),
    ("no resourceType", _drop("resourceType"), 400, "FHIR-1", None),
    ("impossible sent", _set("sent", "2021-02-30T25:00:00Z"), 400, "FHIR-1", "Communication.sent"),
    ("sent on Feb 30", _set("sent", "2021-02-30T10:00:00Z"), 400, "FHIR-1", "Communication.sent"),
    ("sent without offset", _set("sent", "2021-04-29T13:30:00"), 400, "FHIR-1", "Communication.sent"),
    ("sent a date only", _set("sent", "2021-04-29"), 400, "FHIR-1", "Communication.sent"),
    ("received not a string", _set("received", 1619702400), 400, "FHIR-1", "Communication.received"),
    ("status not a code", _set("status", "sent"), 400, "FHIR-1", "Communication.status"),
    ("unknown patient", _set_in(["recipient", 0, "reference"], "Patient/0000"), 422, "FHIR-4", None),
    ("unknown practitioner", _set("sender", {"reference": "Practitioner/ffff"}), 422, "FHIR-4", None),
    ("practitioner to practitioner",
     _set("recipient", [{"reference": "Practitioner/4150cd20de8a470aa570a852859ac87e"}]), 422, "FHIR-5", None),
    ("patient to patient", _set("sender", {"reference": "Patient/b2c4e6f8a0b24d6f8e0a2c4e6f8a0b2c"}), 422, "FHIR-5", None),
]


@pytest.mark.parametrize("name, change, status, rule, expression", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_and_nothing_stored(api, message, outcome, name, change, status, rule, expression):
    before = api.total()
    body = message("practitioner_to_patient")
    change(body)
    outcome(api.create(body), status, rule, expression=expression)
    assert api.total() == before


def test_all_problems_of_a_stage_are_reported_at_once(api, message):  # FHIR-2
    body = message("minimal")
    del body["recipient"], body["sender"]
    body["payload"] = []
    rules = sorted(i["diagnostics"].split("]")[0][1:] for i in api.create(body).json["issue"])
    assert rules == ["PAY-1", "RCPT-1", "SNDR-1"]


# -- RCPT-3, PAY-2, PAY-4 ------------------------------------------------------------------
def test_only_first_recipient_is_kept(api, message):  # RCPT-3
    body = message("practitioner_to_patient")
    body["recipient"].append({"reference": "Patient/b2c4e6f8a0b24d6f8e0a2c4e6f8a0b2c"})
    body["recipient"].append({"reference": "Location/anything"})
    resource = api.created(body)
    assert [r["reference"] for r in resource["recipient"]] == ["Patient/5350cd20de8a470aa570a852859ac87e"]
    assert api.total(patient="b2c4e6f8a0b24d6f8e0a2c4e6f8a0b2c") == 0


def test_only_first_payload_is_kept(api, message):  # PAY-2
    body = message("minimal")
    body["payload"] = [{"contentString": "first"}, {"contentString": "second"}, {"content": ""}]
    assert api.created(body)["payload"] == [{"contentString": "first"}]


@pytest.mark.parametrize("element", ["content", "contentString"])
def test_content_or_content_string_reads_back_as_content_string(api, message, element):  # PAY-4
    body = message("minimal")
    body["payload"] = [{element: "See you Friday"}]
    assert api.created(body)["payload"] == [{"contentString": "See you Friday"}]


def test_document_example_is_accepted(api, message):  # PAY-4 (the document's own example)
    resource = api.created(message("document_example"))
    assert resource["payload"][0]["contentString"] == "You have an upcoming appointment!"


# -- FHIR-8, status, references ------------------------------------------------------------
@pytest.mark.parametrize("content_type", ["application/json", "application/fhir+json",
                                          "application/fhir+json; charset=utf-8"])
def test_json_content_types_are_accepted(api, message, content_type):  # FHIR-8
    assert api.create(message("minimal"), content_type=content_type).status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded", ""])
def test_other_content_types_get_415(api, message, outcome, content_type):  # FHIR-8
    before = api.total()
    outcome(api.create(message("minimal"), content_type=content_type), 415, "FHIR-8")
    assert api.total() == before


def test_status_defaults_to_unknown_and_is_kept_when_given(api, message):
    assert api.created(message("minimal"))["status"] == "unknown"
    body = message("minimal")
    body["status"] = "completed"
    assert api.created(body)["status"] == "completed"


def test_references_read_back_with_their_type(api, message):
    resource = api.created(message("patient_to_practitioner"))
    assert resource["sender"] == {"reference": f"Patient/{PATIENT}", "type": "Patient"}
    assert resource["recipient"] == [{"reference": "Practitioner/4150cd20de8a470aa570a852859ac87e",
                                      "type": "Practitioner"}]

