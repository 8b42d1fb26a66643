"""exchanges.har: a HAR 1.2 archive of the run's exchanges that HAR tools can open."""
from __future__ import annotations

import json
from datetime import datetime

import jsonschema
import pytest

from canvas_conformance.report import har
from canvas_conformance.report.rows import build_run
from canvas_conformance.report.writer import write_all

from .conftest import BASE_URL, BEARER, CLIENT_SECRET

# The fields HAR 1.2 requires (http://www.softwareishard.com/blog/har-12-spec/), as JSON Schema.
_NV = {"type": "object", "required": ["name", "value"],
       "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}
_NVS = {"type": "array", "items": _NV}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"}
HAR_SCHEMA = {
    "type": "object", "required": ["log"],
    "properties": {"log": {
        "type": "object", "required": ["version", "creator", "entries"],
        "properties": {
            "version": {"const": "1.2"},
            "creator": {"type": "object", "required": ["name", "version"],
                        "properties": {"name": {"type": "string"}, "version": {"type": "string"}}},
            "pages": {"type": "array", "items": {
                "type": "object", "required": ["startedDateTime", "id", "title", "pageTimings"],
                "properties": {"startedDateTime": _DATE, "id": {"type": "string"}, "title": {"type": "string"},
                               "pageTimings": {"type": "object"}}}},
            "entries": {"type": "array", "items": {
                "type": "object",
                "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
                "properties": {
                    "pageref": {"type": "string"},
                    "startedDateTime": _DATE,
                    "time": {"type": "number", "minimum": 0},
                    "comment": {"type": "string"},
                    "request": {
                        "type": "object",
                        "required": ["method", "url", "httpVersion", "cookies", "headers", "queryString",
                                     "headersSize", "bodySize"],
                        "properties": {
                            "method": {"type": "string", "minLength": 1}, "url": {"type": "string"},
                            "httpVersion": {"type": "string"}, "cookies": {"type": "array"},
                            "headers": _NVS, "queryString": _NVS,
                            "headersSize": {"type": "integer"}, "bodySize": {"type": "integer"},
                            "postData": {"type": "object", "required": ["mimeType"],
                                         "properties": {"mimeType": {"type": "string"}, "text": {"type": "string"},
                                                        "params": {"type": "array", "items": _NV}}}}},
                    "response": {
                        "type": "object",
                        "required": ["status", "statusText", "httpVersion", "cookies", "headers", "content",
                                     "redirectURL", "headersSize", "bodySize"],
                        "properties": {
                            "status": {"type": "integer"}, "statusText": {"type": "string"},
                            "httpVersion": {"type": "string"}, "cookies": {"type": "array"}, "headers": _NVS,
                            "content": {"type": "object", "required": ["size", "mimeType"],
                                        "properties": {"size": {"type": "integer"}, "mimeType": {"type": "string"},
                                                       "text": {"type": "string"}}},
                            "redirectURL": {"type": "string"},
                            "headersSize": {"type": "integer"}, "bodySize": {"type": "integer"}}},
                    "cache": {"type": "object"},
                    "timings": {"type": "object", "required": ["send", "wait", "receive"],
                                "properties": {k: {"type": "number", "minimum": -1}
                                               for k in ("blocked", "dns", "connect", "ssl", "send", "wait",
                                                         "receive")}},
                }}},
        }}},
}


@pytest.fixture
def written(tmp_path, scenario, results, exchange):
    """A report folder whose run has a create, a search, a token request and an exchange with no answer."""
    token = exchange("get a token", url=f"{BASE_URL}/auth/token/", request_headers={
        "Content-Type": "application/x-www-form-urlencoded"},
        request_body=f"grant_type=client_credentials&client_id=c&client_secret={CLIENT_SECRET}",
        response_headers={"Content-Type": "application/json"},
        response_body=json.dumps({"access_token": BEARER, "token_type": "Bearer"}))
    token["started"] = "2026-11-25T12:00:00.050000+00:00"
    search = exchange("search", method="GET", url=f"{BASE_URL}/Communication?subject=Patient/a&_count=2&empty=",
                      request_body=None, response_headers={"Content-Type": "application/fhir+json"},
                      response_body='{"resourceType": "Bundle"}', status=200)
    search["started"] = "2026-11-25T12:00:01.200000+00:00"
    dropped = exchange("create, dropped", error="ConnectionError: connection dropped mid-answer")
    dropped["started"] = "2026-11-25T12:00:01.500000+00:00"
    create = exchange()  # 12:00:00.100
    doc = results([
        scenario("passed", ["SENT-1"], name="token then create", exchanges=[token, create]),
        scenario("error", ["RCPT-1", "RCPT-2"], name="search then drop", exchanges=[search, dropped]),
        scenario("skipped", ["RCPT-3"], exchanges=[]),
    ])
    write_all(doc, tmp_path, secrets=[CLIENT_SECRET])
    return tmp_path, doc


def test_the_archive_is_har_1_2_with_its_required_fields(written):
    folder, _ = written
    archive = json.loads((folder / "exchanges.har").read_text(encoding="utf-8"))
    jsonschema.validate(archive, HAR_SCHEMA)
    assert archive["log"]["version"] == "1.2"
    assert archive["log"]["creator"] == {"name": "canvas-conformance", "version": "0.1.0"}


def test_one_entry_per_exchange_in_run_order_sorted_by_start(written):
    folder, doc = written
    entries = json.loads((folder / "exchanges.har").read_text())["log"]["entries"]
    recorded = [x for s in doc["scenarios"] for x in s["exchanges"]]
    assert len(entries) == len(recorded) == 4
    starts = [datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00")) for e in entries]
    assert starts == sorted(starts)
    assert [e["startedDateTime"] for e in entries] == [
        "2026-11-25T12:00:00.050Z", "2026-11-25T12:00:00.100Z", "2026-11-25T12:00:01.200Z",
        "2026-11-25T12:00:01.500Z"]
    assert [(e["request"]["method"], e["response"]["status"]) for e in entries] == [
        ("POST", 201), ("POST", 201), ("GET", 200), ("POST", 0)]
    assert [e["time"] for e in entries] == [12.5] * 4


def test_entries_name_their_scenario_and_rules(written):
    folder, _ = written
    log = json.loads((folder / "exchanges.har").read_text())["log"]
    first, _, search, dropped = log["entries"]
    assert first["_scenario"] == "token then create" and first["_rules"] == ["SENT-1"]
    assert first["comment"] == "SENT-1 · token then create · get a token"
    assert search["_rules"] == ["RCPT-1", "RCPT-2"] and search["_scenario"] == "search then drop"
    assert [p["title"] for p in log["pages"]] == ["SENT-1 token then create", "RCPT-1 RCPT-2 search then drop"]
    assert {e["pageref"] for e in log["entries"]} == {p["id"] for p in log["pages"]}
    assert search["_correlationId"] == "corr-0001"


def test_requests_and_answers_carry_their_parts(written):
    folder, _ = written
    token, create, search, dropped = json.loads((folder / "exchanges.har").read_text())["log"]["entries"]
    assert search["request"]["queryString"] == [{"name": "subject", "value": "Patient/a"},
                                                {"name": "_count", "value": "2"}, {"name": "empty", "value": ""}]
    assert "postData" not in search["request"] and search["request"]["bodySize"] == 0
    assert search["response"]["content"] == {"size": 26, "mimeType": "application/fhir+json",
                                             "text": '{"resourceType": "Bundle"}'}
    assert search["response"]["statusText"] == "OK"
    post = create["request"]["postData"]
    assert post["mimeType"] == "application/fhir+json"
    assert json.loads(post["text"])["resourceType"] == "Communication"
    assert create["request"]["bodySize"] == len(post["text"].encode("utf-8"))
    assert create["response"]["statusText"] == "Created"
    assert {"name": "Location", "value": f"{BASE_URL}/Communication/abc"} in create["response"]["headers"]
    assert token["request"]["postData"]["params"][0] == {"name": "grant_type", "value": "client_credentials"}


def test_an_exchange_without_an_answer_is_status_0_with_the_error(written):
    folder, _ = written
    dropped = json.loads((folder / "exchanges.har").read_text())["log"]["entries"][-1]
    assert dropped["response"]["status"] == 0
    assert dropped["response"]["_error"] == "ConnectionError: connection dropped mid-answer"
    assert dropped["comment"].endswith("· create, dropped · no answer: ConnectionError: connection dropped mid-answer")


def test_no_secret_is_in_the_archive(written):
    folder, _ = written
    text = (folder / "exchanges.har").read_text()
    assert BEARER not in text and CLIENT_SECRET not in text
    entries = json.loads(text)["log"]["entries"]
    auth = [h["value"] for e in entries for h in e["request"]["headers"] if h["name"] == "Authorization"]
    assert auth and set(auth) == {"Bearer [REDACTED]"}


def test_authorization_is_masked_even_in_an_unscrubbed_run(scenario, results):
    archive = har.build(build_run(results([scenario("passed", ["SENT-1"])])))
    headers = archive["log"]["entries"][0]["request"]["headers"]
    assert {"name": "Authorization", "value": "Bearer [REDACTED]"} in headers
    assert BEARER not in json.dumps(archive)


def test_out_of_order_and_missing_start_times(scenario, results, exchange):
    late, early, unknown = exchange("late"), exchange("early"), exchange("unknown")
    late["started"] = "2026-11-25T13:00:00+01:00"  # 12:00:00 UTC, written in another zone
    early["started"] = "2026-11-25T11:59:59.5Z"
    unknown["started"] = None  # recorded after "early": it stays after it
    run = build_run(results([scenario("passed", ["SENT-1"], exchanges=[late, early, unknown])]))
    entries = har.build(run)["log"]["entries"]
    assert [(e["comment"].rsplit(" · ", 1)[-1], e["startedDateTime"]) for e in entries] == [
        ("early", "2026-11-25T11:59:59.500Z"), ("unknown", "2026-11-25T11:59:59.500Z"),
        ("late", "2026-11-25T12:00:00.000Z")]


def test_a_run_without_exchanges_is_an_empty_archive(scenario, results):
    archive = json.loads(har.render(build_run(results([scenario("skipped", ["RCPT-3"], exchanges=[])]))))
    jsonschema.validate(archive, HAR_SCHEMA)
    assert archive["log"]["entries"] == [] and archive["log"]["pages"] == []
