"""Search totals come from counters kept by a trigger (db.py); they must equal what is stored (FHIR-7).

Each total is compared with the number of stored messages that match, counted here from the
control surface's full list, for every filter the mock takes alone and in pairs.
"""
from __future__ import annotations

import sqlite3
from itertools import combinations

from mock_server import create_app

from ..mock_helpers import bearer, token_from


def make_messages(client, auth, message, fixture_data):
    """A mix of senders and recipients: each practitioner with each patient, both directions."""
    people = fixture_data["people"]
    for i, practitioner in enumerate(people["practitioners"]):
        for j, patient in enumerate(people["patients"][:3]):
            body = message("practitioner_to_patient")
            body["sender"] = {"reference": f"Practitioner/{practitioner['id']}"}
            body["recipient"] = [{"reference": f"Patient/{patient['id']}"}]
            if (i + j) % 2:
                body["sender"], body["recipient"] = body["recipient"][0], [body["sender"]]
            for _ in range(1 + (i + j) % 3):
                assert client.post("/Communication", json=body, headers=auth).status_code == 201


def matches(stored: dict, name: str, value: str) -> bool:
    resource = stored["resource"]
    if name == "_id":
        return resource["id"] == value
    if name == "patient":
        return stored["patient"] == value.rsplit("/", 1)[-1]
    reference = resource["sender"]["reference"] if name == "sender" else resource["recipient"][0]["reference"]
    return reference == value if "/" in value else reference.rsplit("/", 1)[1] == value


def test_totals_equal_the_stored_matches_for_every_filter(client, auth, message, fixture_data):
    make_messages(client, auth, message, fixture_data)
    stored = client.get("/_mock/communications", headers=auth).json["messages"]
    people = fixture_data["people"]
    a_patient, a_practitioner = people["patients"][1]["id"], people["practitioners"][1]["id"]
    candidates = [("patient", f"Patient/{a_patient}"), ("patient", a_patient),
                  ("sender", f"Practitioner/{a_practitioner}"), ("sender", a_practitioner),
                  ("sender", f"Patient/{a_patient}"), ("recipient", f"Patient/{a_patient}"),
                  ("recipient", a_practitioner), ("_id", stored[3]["id"]), ("sender", "Patient/nobody")]
    queries = [[]] + [[c] for c in candidates] + [list(pair) for pair in combinations(candidates, 2)
                                                   if pair[0][0] != pair[1][0]]
    for query in queries:
        expected = sum(all(matches(s, name, value) for name, value in query) for s in stored)
        bundle = client.get("/Communication", query_string=query + [("_count", "0")], headers=auth).json
        assert bundle["total"] == expected, f"{query}: total {bundle['total']}, stored {expected}"


def test_reset_clears_the_totals(client, auth, message, fixture_data):
    make_messages(client, auth, message, fixture_data)
    client.post("/_mock/reset", headers=auth)
    assert client.get("/Communication?_count=0", headers=auth).json["total"] == 0
    assert client.post("/Communication", json=message(), headers=auth).status_code == 201
    assert client.get("/Communication?_count=0", headers=auth).json["total"] == 1


def test_a_database_written_before_the_counters_gets_them_on_opening(tmp_path, message, fixture_data):
    db = str(tmp_path / "old.sqlite3")
    old = create_app({"DATABASE": db})
    client = old.test_client()
    auth = bearer(token_from(client, old.config))
    make_messages(client, auth, message, fixture_data)
    expected = client.get("/Communication?patient=" + fixture_data["people"]["patients"][0]["id"] + "&_count=0",
                          headers=auth).json["total"]
    old.extensions["mock_store"].close()
    with sqlite3.connect(db) as conn:  # as if written by a mock without counters
        conn.execute("DROP TRIGGER communication_counted")
        conn.execute("DROP TABLE communication_count")

    reopened = create_app({"DATABASE": db}).test_client()
    got = reopened.get("/Communication?patient=" + fixture_data["people"]["patients"][0]["id"] + "&_count=0",
                       headers=auth).json["total"]
    assert got == expected > 0
    assert reopened.get("/Communication?_count=0", headers=auth).json["total"] == \
        len(reopened.get("/_mock/communications", headers=auth).json["messages"])
