"""The mock as Canvas's v2 API (PROFILE canvas-current): each rule's table of requests and answers.

Every test gets a fresh app of the profile (the ``app`` fixture below replaces tests/conftest.py's),
so ``client``, ``auth`` and ``api`` talk to a canvas-current mock. canvas-2022's behaviour is the
other test files' (they run on the default profile and must not change); where a v2 answer differs,
a test here also asks a 2022 app, so a profile leaking into the other shows up.
"""
from __future__ import annotations

import html
import json
import re
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server import create_app
from mock_server.outcome import CORRELATION_HEADER, FITTING_CODES

from .conftest import location_id

CURRENT = "canvas-current"
BASE = "http://mock.test"
PATIENT = "5350cd20de8a470aa570a852859ac87e"
OTHER_PATIENT = "b2c4e6f8a0b24d6f8e0a2c4e6f8a0b2c"
BOT = "5eede137ecfe4124b8b773040e33be14"
DOCTOR = "4150cd20de8a470aa570a852859ac87e"
UUID_FORM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def make_app(profile: str = CURRENT, **config):
    return create_app({"DATABASE": ":memory:", "BASE_URL": BASE, "PROFILE": profile, **config})


@pytest.fixture
def app():
    return make_app()


def v2_outcome(answer, status: int, rule: str, *, expression: str | None = None) -> dict:
    """``status`` with a v2 OperationOutcome (FHIR-10): codes that fit it, ``details.text`` and no
    ``diagnostics``; one issue's text starts with ``[rule]`` (and names ``expression`` when given)."""
    assert answer.status_code == status, (answer.status_code, answer.get_data(as_text=True)[:500])
    assert answer.headers["Content-Type"].startswith("application/fhir+json")
    assert UUID_FORM.fullmatch(answer.headers[CORRELATION_HEADER])
    body = answer.get_json()
    OperationOutcome.model_validate(body)
    for issue in body["issue"]:
        assert issue["severity"] == "error" and "diagnostics" not in issue, issue
        assert issue["code"] in FITTING_CODES.get(status, (issue["code"],)), (status, issue)
        assert issue["details"]["text"].startswith("["), issue
    matching = [i for i in body["issue"] if i["details"]["text"].startswith(f"[{rule}]")]
    assert matching, f"no issue names {rule}: {body}"
    if expression:
        assert any(expression in i.get("expression", []) for i in matching), body
    return body


def stored_count(client, auth) -> int:
    return client.get("/_mock/communications", headers=auth).get_json()["total"]


def _with(**changes):
    def change(body):
        for key, value in changes.items():
            if value is _DROP:
                body.pop(key, None)
            else:
                body[key] = value
    return change


_DROP = object()


# -- STAT-1, PAY-5: refusals, nothing stored --------------------------------------------------
REFUSALS = [
    # (name, change, status, rule, expression)
    ("no status", _with(status=_DROP), 400, "STAT-1", "Communication.status"),
    ("null status", _with(status=None), 400, "STAT-1", "Communication.status"),
    ("status stopped", _with(status="stopped"), 422, "STAT-1", "Communication.status"),
    ("status not-done", _with(status="not-done"), 422, "STAT-1", "Communication.status"),
    ("status on-hold", _with(status="on-hold"), 422, "STAT-1", "Communication.status"),
    ("status entered-in-error", _with(status="entered-in-error"), 422, "STAT-1", "Communication.status"),
    ("status no FHIR code", _with(status="sent"), 400, "FHIR-1", "Communication.status"),
    ("text as content only", _with(payload=[{"content": "Your lab results are ready."}]), 400, "PAY-5",
     "Communication.payload[0].contentString"),
    ("no text at all", _with(payload=[{"contentAttachment": {"url": "x"}}]), 400, "PAY-5",
     "Communication.payload[0].contentString"),
    ("content only, then contentString", _with(payload=[{"content": "a"}, {"contentString": "b"}]), 400, "PAY-5",
     "Communication.payload[0].contentString"),
    ("blank contentString", _with(payload=[{"contentString": " \n"}]), 422, "PAY-3", None),
    ("no recipient", _with(recipient=_DROP), 400, "RCPT-1", "Communication.recipient"),
    ("unknown patient", _with(recipient=[{"reference": "Patient/0000"}]), 422, "FHIR-4", None),
    ("patient to patient", _with(sender={"reference": f"Patient/{OTHER_PATIENT}"}), 422, "FHIR-5", None),
]


@pytest.mark.parametrize("name, change, status, rule, expression", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_and_nothing_stored(api, client, auth, message, name, change, status, rule, expression):
    body = message("practitioner_to_patient")
    change(body)
    v2_outcome(api.create(body), status, rule, expression=expression)
    assert stored_count(client, auth) == 0


def test_the_2022_profile_still_takes_no_status_and_content(message):  # STAT-1, PAY-5 are v2's alone
    client = make_app("canvas-2022").test_client()
    auth = _auth(client)
    assert client.post("/Communication", json=message("document_example"), headers=auth).status_code == 201


def test_a_missing_status_and_a_v1_content_are_reported_at_once(api, message):  # FHIR-2
    body = message("minimal")
    del body["status"], body["sender"]
    body["payload"] = [{"content": "hi"}]
    rules = sorted(i["details"]["text"].split("]")[0][1:] for i in v2_outcome(api.create(body), 400, "STAT-1")["issue"])
    assert rules == ["PAY-5", "SNDR-1", "STAT-1"]


# -- STAT-2: every documented status is stored as completed -------------------------------------
@pytest.mark.parametrize("status", ["unknown", "completed", "in-progress", "preparation"])
def test_every_documented_status_reads_back_completed(api, message, status):
    body = message("practitioner_to_patient")
    body["status"] = status
    assert api.created(body)["status"] == "completed"


# -- PAY-5 (accepted side), PAY-6: the text as HTML ---------------------------------------------
PAY6 = [
    ("You have an upcoming appointment!", "<p>You have an upcoming appointment!</p>"),
    ("Fish & chips", "<p>Fish &amp; chips</p>"),
    ("1 < 2 > 0", "<p>1 &lt; 2 &gt; 0</p>"),
    ("<b>bold</b>", "<p>&lt;b&gt;bold&lt;/b&gt;</p>"),
    ("&amp; already", "<p>&amp;amp; already</p>"),
    ("line one\nline two\n", "<p>line one<br>line two<br></p>"),
    ("windows\r\nline", "<p>windows\r<br>line</p>"),
    ("\"quotes\" and 'apostrophes'", "<p>\"quotes\" and 'apostrophes'</p>"),
    ("café ☕ 日本語", "<p>café ☕ 日本語</p>"),
]


@pytest.mark.parametrize("text, stored", PAY6, ids=[t for t, _ in PAY6])
def test_text_reads_back_as_the_mocks_html(api, message, text, stored):
    body = message("practitioner_to_patient")
    body["payload"] = [{"contentString": text}]
    assert api.created(body)["payload"] == [{"contentString": stored}]


class _Text(HTMLParser):
    """The text content of HTML as PAY-6 reads it: markup removed, entities decoded, ``<br>`` a newline."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def text_content(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


@settings(derandomize=True, max_examples=60, deadline=None, database=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), min_size=1,
                    max_size=40).filter(lambda t: t.strip() and not any(ord(c) < 32 and c not in "\t\n" for c in t)))
def test_the_html_text_content_is_the_text_sent(text):  # PAY-6
    from mock_server.messages import as_html

    assert text_content(as_html(text)) == text
    assert html.unescape(as_html(text)[3:-4].replace("<br>", "\n")) == text


def test_content_beside_content_string_is_ignored(api, message):  # PAY-5 (PAY-4 is v1's)
    body = message("practitioner_to_patient")
    body["payload"] = [{"content": "old name", "contentString": "new name"}]
    assert api.created(body)["payload"] == [{"contentString": "<p>new name</p>"}]


# -- SUBJ-1: the subject is the Patient party --------------------------------------------------
SUBJECTS = [
    ("practitioner to patient", "practitioner_to_patient", None),
    ("patient to practitioner", "patient_to_practitioner", None),
    ("another patient as subject", "practitioner_to_patient", {"reference": f"Patient/{OTHER_PATIENT}"}),
    ("the practitioner as subject", "patient_to_practitioner", {"reference": f"Practitioner/{DOCTOR}"}),
    ("a Group as subject", "practitioner_to_patient", {"reference": "Group/1"}),
]


@pytest.mark.parametrize("name, fixture, subject", SUBJECTS, ids=[s[0] for s in SUBJECTS])
def test_subject_is_the_patient_party(api, message, name, fixture, subject):
    body = message(fixture)
    if subject:
        body["subject"] = subject
    assert api.created(body)["subject"] == {"reference": f"Patient/{PATIENT}", "type": "Patient"}


# -- ID-1, ID-2, ID-3: the 201 ------------------------------------------------------------------
def test_create_answers_201_null_and_a_versioned_location(api, message):
    answer = api.create(message("minimal"))
    assert answer.status_code == 201
    assert answer.get_data() == b"null" and answer.headers["Content-Type"] == "application/json"  # ID-3
    assert answer.json is None
    match = re.fullmatch(rf"{BASE}/Communication/(?P<id>[^/]+)/_history/1", answer.headers["Location"])  # ID-1
    assert match and uuid.UUID(match["id"]) and str(uuid.UUID(match["id"])) == match["id"]  # ID-2: a UUID
    stored = api.read(match["id"]).json
    assert stored["id"] == match["id"] and stored["meta"]["versionId"] == "1"


def test_the_location_reads_back_and_no_other_version_does(api, client, auth, message):
    location = api.create(message("minimal")).headers["Location"]
    path = location.removeprefix(BASE)
    assert client.get(path, headers=auth).json == api.read(location_id(location)).json
    v2_outcome(client.get(path[:-1] + "2", headers=auth), 404, "FHIR-6")
    v2_outcome(client.get("/Communication/nothing/_history/1", headers=auth), 404, "FHIR-6")
    v2_outcome(client.get(path), 401, "FHIR-3")
    v2_outcome(client.put(path, json=message("minimal"), headers=auth), 405, "FHIR-6")


def test_the_2022_profile_answers_as_before(message):  # ID-1, ID-3 unchanged there
    client = make_app("canvas-2022").test_client()
    auth = _auth(client)
    answer = client.post("/Communication", json=message("minimal"), headers=auth)
    assert answer.status_code == 201 and answer.get_data() == b"" and "Content-Type" not in answer.headers
    assert re.fullmatch(rf"{BASE}/Communication/[0-9a-f]{{32}}", answer.headers["Location"])
    assert client.get(answer.headers["Location"].removeprefix(BASE) + "/_history/1", headers=auth).status_code == 404
    stored = client.get(answer.headers["Location"].removeprefix(BASE), headers=auth).json
    assert stored["status"] == "unknown" and "subject" not in stored
    assert stored["payload"] == [{"contentString": "Your lab results are ready."}]


# -- RCPT-3, PAY-2: dropped, as in 2022 ---------------------------------------------------------
def test_a_second_recipient_and_payload_are_dropped(api, message):
    body = message("practitioner_to_patient")
    body["recipient"].append({"reference": f"Patient/{OTHER_PATIENT}"})
    body["payload"].append({"contentString": "second"})
    stored = api.created(body)
    assert stored["recipient"] == [{"reference": f"Patient/{PATIENT}", "type": "Patient"}]  # RCPT-3
    assert stored["payload"] == [{"contentString": "<p>You have an upcoming appointment!</p>"}]  # PAY-2


# -- FHIR-7: search as v2 answers it ------------------------------------------------------------
def links(bundle) -> dict:
    return {link["relation"]: link["url"] for link in bundle["link"]}


def query_of(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_an_empty_result_has_no_links_and_no_entries(api):
    bundle = api.search(patient=f"Patient/{PATIENT}").json
    assert bundle == {"resourceType": "Bundle", "type": "searchset", "total": 0}
    Bundle.model_validate(bundle)


def test_search_pages_by_relative_links_without_full_urls(api, client, auth, message):
    created = [api.created(message("minimal"))["id"] for _ in range(5)]
    other = message("minimal")
    other["recipient"][0]["reference"] = f"Patient/{OTHER_PATIENT}"
    api.created(other)
    url, seen, pages = f"/Communication?patient=Patient/{PATIENT}&_count=2", [], []
    while url:
        bundle = client.get(url, headers=auth).json
        Bundle.model_validate(bundle)
        assert bundle["total"] == 5
        found = links(bundle)
        assert all(u.startswith("/Communication?") for u in found.values()), found
        assert all(query_of(u)["patient"] == f"Patient/{PATIENT}" and query_of(u)["_count"] == "2"
                   for u in found.values())
        assert "previous" not in found and {"self", "first", "last"} <= found.keys()
        assert all(set(entry) == {"resource"} for entry in bundle["entry"])
        pages.append(found)
        seen += [entry["resource"]["id"] for entry in bundle["entry"]]
        url = found.get("next")
    assert seen == created and len(pages) == 3
    assert [query_of(p["self"])["_offset"] for p in pages] == ["0", "2", "4"]
    assert {query_of(p["last"])["_offset"] for p in pages} == {"4"}
    assert "next" not in pages[-1]


@pytest.mark.parametrize("params, size", [({}, 10), ({"_count": 3}, 3), ({"_count": 100}, 12), ({"_count": 500}, 12),
                                           ({"_count": 0}, 0), ({"_offset": 11}, 1), ({"_offset": 50}, 0)])
def test_page_sizes(api, message, params, size):  # FHIR-7: default 10, capped at 100
    for _ in range(12):
        api.created(message("minimal"))
    bundle = api.search(**params).json
    assert bundle["total"] == 12 and len(bundle.get("entry", [])) == size
    assert query_of(links(bundle)["self"])["_count"] == str(min(params.get("_count", 10), 100))


def test_links_keep_a_base_path(message):  # relative to the server's root, so they resolve against it
    app = make_app(BASE_URL="http://mock.test/fhir")
    client = app.test_client()
    auth = _auth(client)
    client.post("/Communication", json=message("minimal"), headers=auth)
    assert all(u.startswith("/fhir/Communication?") for u in links(client.get("/Communication", headers=auth).json).values())


def test_people_are_listed_as_v2_bundles(client, auth):
    bundle = client.get("/Patient", headers=auth).json
    Bundle.model_validate(bundle)
    assert links(bundle) == {"self": "/Patient"} and all(set(e) == {"resource"} for e in bundle["entry"])


# -- FHIR-9: a fresh UUID correlation id on every answer ----------------------------------------
def _auth(client) -> dict:
    app = client.application
    answer = client.post("/auth/token/", data={"grant_type": "client_credentials", "client_id": app.config["CLIENT_ID"],
                                               "client_secret": app.config["CLIENT_SECRET"]})
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


EVERY_KIND_OF_ANSWER = [
    ("token", "POST", "/auth/token/", "grant"),
    ("token refused", "POST", "/auth/token/", {"grant_type": "password"}),
    ("metadata", "GET", "/metadata", None),
    ("openapi", "GET", "/openapi.json", None),
    ("search", "GET", "/Communication", "token"),
    ("create", "POST", "/Communication", "create"),
    ("401", "GET", "/Communication", None),
    ("404 endpoint", "GET", "/Nothing/here", None),
    ("404 message", "GET", "/Communication/none", "token"),
    ("405", "DELETE", "/Communication/x", "token"),
    ("405 from routing", "POST", "/metadata", None),
    ("413", "POST", "/Communication", "huge"),
    ("400 Content-Length", "POST", "/Communication", "bad length"),
    ("415", "POST", "/Communication", "text"),
    ("control", "GET", "/_mock/clock", "token"),
    ("page", "GET", "/", None),
    ("fault 503", "GET", "/Patient", "token"),
    ("fault 429", "GET", "/Practitioner", "token"),
    ("fault html500", "GET", "/Practitioner/x", "token"),
]
FAULTS = [{"kind": "503", "path": "/Patient"}, {"kind": "429", "path": "/Practitioner"},
          {"kind": "html500", "path": "/Practitioner/*"}]


def test_every_answer_carries_a_fresh_uuid_correlation_id(message):
    client = make_app(FAULTS=FAULTS).test_client()
    auth = _auth(client)
    ids = []
    for name, method, path, extra in EVERY_KIND_OF_ANSWER:
        kwargs: dict = {}
        if extra == "grant":
            kwargs["data"] = {"grant_type": "client_credentials", "client_id": "conformance-client",
                              "client_secret": "conformance-secret"}
        elif isinstance(extra, dict):
            kwargs["data"] = extra
        elif extra == "create":
            kwargs.update(json=message("minimal"), headers=auth)
        elif extra == "huge":
            kwargs.update(data=b"x" * 70_000, content_type="application/fhir+json", headers=auth)
        elif extra == "bad length":
            kwargs.update(data=b"{}", headers=auth, environ_overrides={"CONTENT_LENGTH": "many"})
        elif extra == "text":
            kwargs.update(data=json.dumps(message("minimal")), content_type="text/plain", headers=auth)
        elif extra == "token":
            kwargs["headers"] = auth
        answer = client.open(path, method=method, **kwargs)
        correlation = answer.headers.get(CORRELATION_HEADER)
        assert correlation and UUID_FORM.fullmatch(correlation), (name, answer.status_code, correlation)
        if name.startswith("fault"):
            assert answer.headers["x-mock-fault"] == name.split()[1], name
        ids.append(correlation)
    assert len(set(ids)) == len(ids)


def test_the_2022_profile_keeps_its_32_digit_ids():
    client = make_app("canvas-2022", FAULTS=FAULTS[:1]).test_client()
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/metadata").headers[CORRELATION_HEADER])
    assert client.get("/Patient").headers[CORRELATION_HEADER].startswith("fault-")


# -- FHIR-10: the issue code fits the status; details.text, no diagnostics ----------------------
def test_error_codes_fit_their_status(client, auth, message):
    cases = [  # (what, answer, status, rule)
        ("no token", client.get("/Communication"), 401, "FHIR-3"),
        ("unknown token", client.get("/Communication", headers={"Authorization": "Bearer nope"}), 401, "FHIR-3"),
        ("no such message", client.get("/Communication/none", headers=auth), 404, "FHIR-6"),
        ("no such endpoint", client.get("/Nothing"), 404, "FHIR-6"),
        ("no such person", client.get("/Patient/none", headers=auth), 404, "FHIR-6"),
        ("delete", client.delete("/Communication/x", headers=auth), 405, "FHIR-6"),
        ("routing 405", client.post("/metadata"), 405, "FHIR-6"),
        ("unknown search parameter", client.get("/Communication?_sort=sent", headers=auth), 400, "FHIR-7"),
        ("bad _count", client.get("/Communication?_count=x", headers=auth), 400, "FHIR-7"),
        ("not JSON", client.post("/Communication", data=b"{", content_type="application/json", headers=auth),
         400, "FHIR-1"),
        ("bad Content-Length", client.post("/Communication", data=b"{}", headers=auth,
                                           environ_overrides={"CONTENT_LENGTH": "x"}), 400, "FHIR-2"),
    ]
    for what, answer, status, rule in cases:
        body = v2_outcome(answer, status, rule)
        assert body["issue"][0]["code"] == FITTING_CODES[status][0] or status in (400, 401, 422), what


def test_a_400_over_the_issue_cap_stays_invalid(api, message):  # FHIR-10: too-costly is no 400 code
    body = message("minimal")
    body["payload"] = [{"contentString": 1}] * 150
    body["recipient"] = [{"reference": 1}] * 150
    issues = v2_outcome(api.create(body), 400, "FHIR-1")["issue"]
    assert len(issues) == 101 and issues[-1]["code"] == "invalid" and "not listed" in issues[-1]["details"]["text"]


def test_faulted_outcomes_are_v2_too():
    client = make_app(FAULTS=FAULTS[:2]).test_client()
    for path, status in (("/Patient", 503), ("/Practitioner", 429)):
        body = client.get(path).json
        OperationOutcome.model_validate(body)
        assert "diagnostics" not in body["issue"][0] and body["issue"][0]["details"]["text"].startswith("[FAULT]")


def test_the_2022_profile_keeps_diagnostics(message):
    client = make_app("canvas-2022").test_client()
    issue = client.get("/Communication").json["issue"][0]
    assert issue["diagnostics"].startswith("[FHIR-3]") and "details" not in issue


# -- what is stored and answered is valid FHIR R4B ---------------------------------------------
@pytest.mark.parametrize("name", ["practitioner_to_patient", "patient_to_practitioner", "minimal"])
def test_stored_messages_validate(api, message, name):
    stored = api.created(message(name))
    Communication.model_validate(stored)
    assert stored["status"] == "completed" and stored["subject"]["reference"] == f"Patient/{PATIENT}"
def test_metadata_describes_the_v2_profile(client):
    statement = client.get("/metadata").json
    CapabilityStatement.model_validate(statement)
    assert "canvas-current" in statement["implementation"]["description"]
    communication = statement["rest"][0]["resource"][0]
    assert {"code": "vread"} in communication["interaction"]
    old = make_app("canvas-2022").test_client().get("/metadata").json
    assert {"code": "vread"} not in old["rest"][0]["resource"][0]["interaction"]


def test_openapi_describes_the_v2_profile(client):
    document = client.get("/openapi.json").json
    create = document["components"]["schemas"]["CommunicationCreate"]
    assert "status" in create["required"]
    assert create["properties"]["status"]["enum"] == ["completed", "in-progress", "preparation", "unknown"]
    assert document["components"]["schemas"]["FHIR_Communication_Payload"]["required"] == ["contentString"]
    created = document["paths"]["/Communication"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["nullable"] is True
    assert "/Communication/{id}/_history/{version}" in document["paths"]
    issue = document["components"]["schemas"]["OperationOutcome"]["properties"]["issue"]["items"]
    assert "details" in issue["required"] and "diagnostics" not in issue["properties"]
    read = document["components"]["schemas"]["Communication"]
    assert "subject" in read["required"] and read["properties"]["status"]["enum"] == ["completed"]
    old = make_app("canvas-2022").test_client().get("/openapi.json").json
    assert "status" not in old["components"]["schemas"]["CommunicationCreate"]["required"]
    assert "/Communication/{id}/_history/{version}" not in old["paths"]
