"""Group commit in the Store: creates that queue together are committed together, each answered after it.

db.py's insert_communication lets the thread holding the write lock commit every row queued
meanwhile. These tests pin what must hold whatever the batching: every caller's row is committed
(seen by another connection) when its call returns, a bad row fails its own caller only, and
the search counters stay exact.
"""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from mock_server.db import Store

CREATED = "2021-01-01T00:00:00.000000+00:00"


def _resource(message_id: str, patient: str = "p1") -> dict:
    return {"id": message_id, "sender": {"reference": "Practitioner/dr"},
            "recipient": [{"reference": f"Patient/{patient}"}]}


@pytest.fixture
def store(tmp_path):
    opened = Store(str(tmp_path / "mock.sqlite3"))
    yield opened
    opened.close()


def _wait_for_queue(store: Store, length: int) -> None:
    deadline = time.monotonic() + 10
    while len(store._queue) < length:
        assert time.monotonic() < deadline, f"only {len(store._queue)} rows queued"
        time.sleep(0.005)


def test_rows_queued_together_are_committed_together_and_each_call_returns_after_it(store, tmp_path):
    reader = sqlite3.connect(tmp_path / "mock.sqlite3", check_same_thread=False)
    seen, errors = {}, []

    def create(n: int) -> None:
        try:
            store.insert_communication(_resource(f"m{n}", f"p{n % 3}"), created=CREATED, patient_id=f"p{n % 3}")
            seen[n] = reader.execute("SELECT count(*) FROM communication WHERE id = ?", (f"m{n}",)).fetchone()[0]
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    store._lock.acquire()  # as if a commit were in progress: every create below queues behind it
    threads = [threading.Thread(target=create, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    _wait_for_queue(store, 12)
    store._lock.release()
    for thread in threads:
        thread.join(timeout=10)
    reader.close()
    assert not errors
    assert seen == {n: 1 for n in range(12)}  # committed when each call returned
    counts = dict(store._conn.execute("SELECT key, n FROM communication_count").fetchall())
    assert counts["*"] == 12 and counts["patient:p0"] == counts["patient:p1"] == counts["patient:p2"] == 4
    assert not store._conn.in_transaction and store._queue == []


def test_a_bad_row_in_a_batch_fails_its_own_caller_only(store):
    store.insert_communication(_resource("taken"), created=CREATED, patient_id="p1")
    outcomes = {}

    def create(message_id: str) -> None:
        try:
            store.insert_communication(_resource(message_id), created=CREATED, patient_id="p1")
            outcomes[message_id] = "stored"
        except sqlite3.IntegrityError:
            outcomes[message_id] = "refused"

    store._lock.acquire()
    ids = ["a", "b", "taken", "c"]
    threads = [threading.Thread(target=create, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    _wait_for_queue(store, len(ids))
    store._lock.release()
    for thread in threads:
        thread.join(timeout=10)
    assert outcomes == {"a": "stored", "b": "stored", "taken": "refused", "c": "stored"}
    assert store._conn.execute("SELECT count(*) FROM communication").fetchone() == (4,)
    assert store._conn.execute("SELECT n FROM communication_count WHERE key = '*'").fetchone() == (4,)
    assert not store._conn.in_transaction


def test_many_threads_without_a_held_lock_store_every_row_once(store):
    def create(n: int) -> None:
        for k in range(25):
            store.insert_communication(_resource(f"t{n}-{k}"), created=CREATED, patient_id="p1")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert store._conn.execute("SELECT count(DISTINCT id) FROM communication").fetchone() == (200,)
    assert store._conn.execute("SELECT n FROM communication_count WHERE key = 'patient:p1'").fetchone() == (200,)
