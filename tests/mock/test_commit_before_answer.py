"""A create is committed before its 201 leaves (ID-1): another connection to the file already sees it.

db.py inserts with one statement in autocommit mode instead of BEGIN IMMEDIATE / INSERT / COMMIT;
these tests pin what that must keep: nothing left open after the answer, the row and its search
counters visible to a reader that shares only the database file, and a failed insert leaving nothing.
"""
from __future__ import annotations

import sqlite3

import pytest

from mock_server import create_app
from mock_server.db import Store

from ..mock_helpers import token_from


@pytest.fixture
def file_app(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "mock.sqlite3"), "BASE_URL": "http://mock.test"})
    yield app
    app.extensions["mock_store"].close()


def test_a_created_message_is_committed_when_the_201_is_answered(file_app, message, tmp_path):
    client = file_app.test_client()
    token = token_from(client, file_app.config)
    reader = sqlite3.connect(tmp_path / "mock.sqlite3")
    try:
        for n in range(1, 4):
            answer = client.post("/Communication", json=message("minimal"), headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 201
            assert not file_app.extensions["mock_store"]._conn.in_transaction
            new_id = answer.headers["Location"].rsplit("/", 1)[1]
            assert reader.execute("SELECT count(*) FROM communication WHERE id = ?", (new_id,)).fetchone() == (1,)
            assert reader.execute("SELECT n FROM communication_count WHERE key = '*'").fetchone() == (n,)
    finally:
        reader.close()


def test_a_failed_insert_leaves_no_row_and_no_counter(tmp_path):
    store = Store(str(tmp_path / "mock.sqlite3"))
    resource = {"id": "same", "sender": {"reference": "Practitioner/a"}, "recipient": [{"reference": "Patient/b"}]}
    store.insert_communication(resource, created="2021-01-01T00:00:00.000000+00:00", patient_id="b")
    with pytest.raises(sqlite3.IntegrityError):  # the id is unique
        store.insert_communication(resource, created="2021-01-01T00:00:01.000000+00:00", patient_id="b")
    assert not store._conn.in_transaction
    assert store._conn.execute("SELECT n FROM communication_count WHERE key = 'patient:b'").fetchone() == (1,)
    assert store._conn.execute("SELECT count(*) FROM communication").fetchone() == (1,)
    store.close()
