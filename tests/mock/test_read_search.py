"""Read, search (FHIR-7), refused changes (FHIR-6), people and metadata."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

PATIENT = "5350cd20de8a470aa570a852859ac87e"
OTHER_PATIENT = "b2c4e6f8a0b24d6f8e0a2c4e6f8a0b2c"
BOT = "5eede137ecfe4124b8b773040e33be14"


def test_unknown_id_is_404(api, outcome):  # FHIR-6
    outcome(api.read("does-not-exist"), 404, "FHIR-6")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("on_instance", [True, False])
def test_changes_are_405(api, client, auth, message, outcome, method, on_instance):  # FHIR-6
    location = api.create(message("minimal")).headers["Location"]
    path = "/Communication/" + location.rsplit("/", 1)[1] if on_instance else "/Communication"
    answer = client.open(path, method=method, json=message("minimal"), headers=auth)
    outcome(answer, 405, "FHIR-6")
    assert "GET" in answer.headers["Allow"]
    assert api.total() == 1


def test_unknown_endpoint_is_an_outcome(client, outcome):
    outcome(client.get("/Nothing/here"), 404, "FHIR-6")


def links(bundle):
    return {link["relation"]: link["url"] for link in bundle["link"]}


def offset_of(url):
    return int(parse_qs(urlsplit(url).query)["_offset"][0])


def test_search_pages_through_everything(api, message):  # FHIR-7
    created = [api.created(message("minimal"))["id"] for _ in range(5)]
    api.created(message("patient_to_practitioner"))  # the same patient, from the other side
    other = message("minimal")
    other["recipient"][0]["reference"] = f"Patient/{OTHER_PATIENT}"
    api.created(other)

    seen, url = [], f"/Communication?patient={PATIENT}&_count=2"
    pages = 0
    while url:
        bundle = api.client.get(url.replace("http://mock.test", ""), headers=api.auth).json
        assert bundle["type"] == "searchset" and bundle["total"] == 6
        assert {"self", "first", "last"} <= links(bundle).keys()
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        url = links(bundle).get("next")
        pages += 1
    assert pages == 3 and len(seen) == 6 and seen[:5] == created
    assert offset_of(links(bundle)["last"]) == 4


@pytest.mark.parametrize("params, expected", [
    ({"patient": PATIENT}, 2), ({"patient": f"Patient/{PATIENT}"}, 2), ({"patient": OTHER_PATIENT}, 1),
    ({"sender": f"Practitioner/{BOT}"}, 2), ({"sender": BOT}, 2), ({"sender": f"Patient/{BOT}"}, 0),
    ({"recipient": f"Patient/{PATIENT}"}, 1), ({"recipient": "Practitioner/4150cd20de8a470aa570a852859ac87e"}, 1),
    ({}, 3),
])
def test_search_filters(api, message, params, expected):  # FHIR-7
    api.created(message("minimal"))
    api.created(message("patient_to_practitioner"))
    other = message("minimal")
    other["recipient"][0]["reference"] = f"Patient/{OTHER_PATIENT}"
    api.created(other)
    assert api.total(**params) == expected


def test_search_by_id(api, message):  # FHIR-7
    wanted = api.created(message("minimal"))["id"]
    api.created(message("minimal"))
    bundle = api.search(_id=wanted).json
    assert bundle["total"] == 1 and bundle["entry"][0]["resource"]["id"] == wanted
    assert bundle["entry"][0]["fullUrl"] == f"http://mock.test/Communication/{wanted}"


def test_count_defaults_to_10_and_caps_at_100(api, message):  # FHIR-7
    for _ in range(12):
        api.created(message("minimal"))
    assert len(api.search().json["entry"]) == 10
    bundle = api.search(_count=500).json
    assert len(bundle["entry"]) == 12 and "next" not in links(bundle)


def test_no_next_link_on_the_last_page(api, message):  # FHIR-7
    for _ in range(3):
        api.created(message("minimal"))
    assert "next" in links(api.search(_count=2).json)
    assert "next" not in links(api.search(_count=2, _offset=2).json)


@pytest.mark.parametrize("params", [{"_count": "-1"}, {"_count": "ten"}, {"_offset": "x"},
                                    {"subject": PATIENT}, {"patient": "Practitioner/x"},
                                    {"sender": "Location/1"}])
def test_bad_search_parameters_are_400(api, outcome, params):  # FHIR-7
    outcome(api.search(**params), 400, "FHIR-7")


@pytest.mark.parametrize("kind, count", [("Patient", 3), ("Practitioner", 3)])
def test_people_are_listed_and_readable(client, auth, people, kind, count):
    bundle = client.get(f"/{kind}", headers=auth).json
    assert bundle["total"] == count == len(people[kind])
    one = people[kind][0]
    assert client.get(f"/{kind}/{one}", headers=auth).json["id"] == one


def test_canvas_bot_exists(client, auth):
    assert client.get(f"/Practitioner/{BOT}", headers=auth).json["name"][0]["text"] == "Canvas Bot"


def test_unknown_person_is_404(client, auth, outcome):
    outcome(client.get("/Patient/nobody", headers=auth), 404, "FHIR-6")


def test_every_answer_has_a_fresh_correlation_id(client, auth):
    ids = {client.get("/metadata").headers["fumage-correlation-id"] for _ in range(3)}
    ids.add(client.get("/Communication/x", headers=auth).headers["fumage-correlation-id"])
    assert len(ids) == 4
