"""WAL checkpoints run in the Store's own background thread, keep the WAL bounded, and stop with the Store."""
from __future__ import annotations

import gc
import os
import sqlite3
import time

from mock_server.db import _COMMITS_PER_CHECKPOINT, Store

CREATED = "2021-01-01T00:00:00.000000+00:00"


def _insert(store: Store, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        store.insert_communication({"id": f"m{n}", "sender": {"reference": "Practitioner/dr"},
                                    "recipient": [{"reference": f"Patient/p{n % 50}"}]},
                                   created=CREATED, patient_id=f"p{n % 50}")


def _checkpoint_threads(store: Store) -> list:
    return [store._checkpointer._thread] if store._checkpointer and store._checkpointer._thread.is_alive() else []


def test_the_wal_stays_bounded_without_inline_checkpoints(tmp_path):
    path = tmp_path / "mock.sqlite3"
    store = Store(str(path))
    try:
        # The commit path would not checkpoint before 10,000 pages; 20 batches of commits go far past
        # what one checkpoint interval writes, so a WAL this small means the thread did the work.
        assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] >= 10_000
        for batch in range(20):
            _insert(store, _COMMITS_PER_CHECKPOINT, batch * _COMMITS_PER_CHECKPOINT)
            time.sleep(0.02)  # let the woken thread run, as the gaps between requests do
        wal_pages = os.path.getsize(f"{path}-wal") / 4096
        assert wal_pages < 6 * _COMMITS_PER_CHECKPOINT * 10, wal_pages  # ~10 pages a commit at most
        reader = sqlite3.connect(path)
        assert reader.execute("SELECT count(*) FROM communication").fetchone() == (20 * _COMMITS_PER_CHECKPOINT,)
        reader.close()
    finally:
        store.close()


def test_the_thread_ends_with_the_store(tmp_path):
    store = Store(str(tmp_path / "closed.sqlite3"))
    thread = _checkpoint_threads(store)[0]
    store.close()
    assert not thread.is_alive()

    forgotten = Store(str(tmp_path / "forgotten.sqlite3"))
    thread = _checkpoint_threads(forgotten)[0]
    del forgotten
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_memory_databases_have_no_checkpoint_thread():
    store = Store(":memory:")
    assert store._checkpointer is None
    store.close()
