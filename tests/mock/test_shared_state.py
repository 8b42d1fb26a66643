"""Apps sharing one database file see each other's changes to the shared state at once.

Each app reads ``mock_state`` (the clock, the fault rules) from SQLite only when the version
counter every process maps (db._StateVersion) has moved, and keeps it in memory otherwise; these
tests hold that no app answers from a stale copy: the first request after a change, on another
app, sees it. Two apps in one process share the file just as serve's worker processes do
(tests/robust/test_workers.py has the processes).
"""
from __future__ import annotations

import pytest

from mock_server import create_app

from ..mock_helpers import bearer, token_from


@pytest.fixture
def two_apps(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    first = create_app({"DATABASE": path})
    second = create_app({"DATABASE": path, "RESET_SHARED_STATE": False})
    yield first, second
    for one in (first, second):
        one.extensions["mock_store"].close()


def _client_and_auth(app):
    client = app.test_client()
    return client, bearer(token_from(client, app.config))


def test_a_clock_frozen_by_one_app_is_read_by_the_other_on_its_next_request(two_apps):
    (one, one_auth), (other, other_auth) = map(_client_and_auth, two_apps)
    assert other.get("/_mock/clock", headers=other_auth).json["frozen"] is False  # cached by now
    for now in ("2022-02-10T15:04:00+00:00", "2021-07-01T00:00:00+00:00"):
        assert one.put("/_mock/clock", json={"now": now}, headers=one_auth).status_code == 200
        assert other.get("/_mock/clock", headers=other_auth).json["now"] == now
    assert one.delete("/_mock/clock", headers=one_auth).status_code == 200
    assert other.get("/_mock/clock", headers=other_auth).json["frozen"] is False


def test_fault_rules_and_their_counters_set_through_one_app_hold_on_the_other(two_apps):
    (one, one_auth), (other, other_auth) = map(_client_and_auth, two_apps)
    assert other.get("/Patient", headers=other_auth).status_code == 200
    rule = {"kind": "503", "path": "/Patient", "times": 2}
    assert one.post("/_mock/faults", json=rule, headers=one_auth).status_code == 201
    assert other.get("/Patient", headers=other_auth).status_code == 503
    assert one.get("/Patient", headers=one_auth).status_code == 503
    assert other.get("/Patient", headers=other_auth).status_code == 200  # times: 2 in all, not per app
    assert one.put("/_mock/faults", json={"rules": [{"kind": "429", "path": "/Patient"}]},
                   headers=one_auth).status_code == 200
    assert other.get("/Patient", headers=other_auth).status_code == 429
    assert one.delete("/_mock/faults", headers=one_auth).status_code == 200
    assert other.get("/Patient", headers=other_auth).status_code == 200


def test_the_session_secret_is_the_first_apps_for_every_app_on_the_file(two_apps):
    first, second = two_apps
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
