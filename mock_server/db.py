"""The mock's storage: one SQLite database (a file in WAL mode, or ``:memory:``).

One connection per app, shared by the server's threads behind a lock: SQLite work
here takes microseconds, so the lock costs less than a connection per request and
makes ``:memory:`` databases work across threads. Several processes may share one
file: WAL plus a busy timeout lets their writers take turns. A create is answered
only after its transaction has committed (the connection is in autocommit mode:
``isolation_level=None``; several statements go inside ``_tx()``). Creates that arrive
while another is being written are committed together (``insert_communication``).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import mmap
import os
import secrets
import sqlite3
import struct
import threading
import weakref
from pathlib import Path
from typing import Iterable, NamedTuple

from flask import Flask, current_app

SCHEMA = """
CREATE TABLE IF NOT EXISTS communication (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    created        TEXT NOT NULL,
    sender_type    TEXT NOT NULL,
    sender_id      TEXT NOT NULL,
    recipient_type TEXT NOT NULL,
    recipient_id   TEXT NOT NULL,
    patient_id     TEXT NOT NULL,
    resource       TEXT NOT NULL,
    ui_sent_at     TEXT
);
CREATE INDEX IF NOT EXISTS ix_communication_patient   ON communication (patient_id, seq);
CREATE INDEX IF NOT EXISTS ix_communication_sender    ON communication (sender_id, seq);
CREATE INDEX IF NOT EXISTS ix_communication_recipient ON communication (recipient_id, seq);
-- Search totals without counting rows: one counter per value a search can filter on alone, kept
-- by a trigger in the create's own transaction, so FHIR-7's total is one row read however many
-- messages match, where count(*) would visit each of them. Rows leave only through reset(),
-- which clears the counters with them, so there is no delete trigger.
CREATE TABLE IF NOT EXISTS communication_count (
    key TEXT PRIMARY KEY,  -- '*', 'patient:<id>', 'sender:<type>/<id>', 'sender:<id>', 'recipient:...'
    n   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS communication_counted AFTER INSERT ON communication BEGIN
    INSERT INTO communication_count (key, n) VALUES
        ('*', 1),
        ('patient:' || NEW.patient_id, 1),
        ('sender:' || NEW.sender_type || '/' || NEW.sender_id, 1),
        ('sender:' || NEW.sender_id, 1),
        ('recipient:' || NEW.recipient_type || '/' || NEW.recipient_id, 1),
        ('recipient:' || NEW.recipient_id, 1)
    ON CONFLICT (key) DO UPDATE SET n = n + 1;
END;
-- Versions a message had before its latest (RECV-3's "Mark read" makes version 2): what a v2 Location,
-- which names version 1, still reads (ID-3).
CREATE TABLE IF NOT EXISTS communication_version (
    id       TEXT NOT NULL,
    version  TEXT NOT NULL,
    resource TEXT NOT NULL,
    PRIMARY KEY (id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS person (
    resource_type TEXT NOT NULL,
    id            TEXT NOT NULL,
    resource      TEXT NOT NULL,
    PRIMARY KEY (resource_type, id)
);
CREATE TABLE IF NOT EXISTS token (
    token_hash TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
-- Tokens that have moved the mock clock, and how far their own moves took it in all (auth.py).
CREATE TABLE IF NOT EXISTS clock_mover (
    token_hash    TEXT PRIMARY KEY,
    shift_seconds REAL NOT NULL
) WITHOUT ROWID;
-- Whatever a client can observe besides messages and tokens: the mock clock, the fault rules with
-- their counters, the sign-in session secret. Kept here, not in a process's memory, so that every
-- worker process of ``serve --workers N`` (and every process sharing the file) answers alike.
CREATE TABLE IF NOT EXISTS mock_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sms_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id TEXT NOT NULL,
    body       TEXT NOT NULL,
    created    TEXT NOT NULL
);
"""


# WAL checkpoints (see _Checkpointer): the background thread every 100 commits (~800 pages),
# the commit path itself only past 10,000 pages (~40 MB of WAL).
_COMMITS_PER_CHECKPOINT = 100
_INLINE_CHECKPOINT_PAGES = 10_000
_INSERT_COMMUNICATION = (
    "INSERT INTO communication (id, created, sender_type, sender_id, recipient_type,"
    " recipient_id, patient_id, resource) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


class StoredMessage(NamedTuple):
    """One stored Communication with the columns the UI and the control surface need."""

    seq: int
    id: str
    created: str
    sender_type: str
    sender_id: str
    recipient_type: str
    recipient_id: str
    patient_id: str
    resource: dict
    ui_sent_at: str | None


class SearchFilters(NamedTuple):
    """Search parameters after parsing; ``None`` means "not filtered on"."""

    id: str | None = None
    patient: str | None = None
    sender: tuple[str | None, str] | None = None  # (type or None, id)
    recipient: tuple[str | None, str] | None = None


class Store:
    """All SQL lives here. Methods are safe to call from any thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # Rows waiting for the next commit (see insert_communication); its own short lock.
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        # Positive answers only, never invalidated but by load_people: people and tokens are
        # never deleted or changed through the API, and a miss still asks the database, so a
        # token issued by another process sharing the file is found. Saves three queries a create.
        self._people: dict[tuple[str, str], dict] = {}
        self._tokens: dict[str, str] = {}
        # Writers of all processes sharing the file take turns on a lock file first (see _writing).
        self._write_lock_file = None if path == ":memory:" else open(f"{path}-writelock", "a+b")  # noqa: SIM115
        # mock_state as last read, and the version of it that was (see get_state).
        self._state_version = _StateVersion(path)
        self._state: dict[str, str] = {}
        self._state_seen = -1
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._checkpointer: _Checkpointer | None = None
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        with self._writing():
            self._conn.executescript(SCHEMA)
            with self._tx():
                self._count_existing()
        if path != ":memory:":
            # Checkpoints move to a thread of their own; the commit path keeps a far-off inline
            # one only as a safety net, should that thread ever fall behind.
            self._conn.execute(f"PRAGMA wal_autocheckpoint = {_INLINE_CHECKPOINT_PAGES}")
            self._checkpointer = _Checkpointer(path)
            weakref.finalize(self, self._checkpointer.stop)

    def _count_existing(self) -> None:
        """Fill the counters of a database written before they existed (the caller holds the lock)."""
        counted = self._conn.execute("SELECT 1 FROM communication_count WHERE key = '*'").fetchone()
        if counted or not self._conn.execute("SELECT 1 FROM communication LIMIT 1").fetchone():
            return
        self._conn.execute(
            "INSERT INTO communication_count (key, n)"
            " SELECT '*', count(*) FROM communication"
            " UNION ALL SELECT 'patient:' || patient_id, count(*) FROM communication GROUP BY patient_id"
            " UNION ALL SELECT 'sender:' || sender_type || '/' || sender_id, count(*) FROM communication"
            "  GROUP BY sender_type, sender_id"
            " UNION ALL SELECT 'sender:' || sender_id, count(*) FROM communication GROUP BY sender_id"
            " UNION ALL SELECT 'recipient:' || recipient_type || '/' || recipient_id, count(*) FROM communication"
            "  GROUP BY recipient_type, recipient_id"
            " UNION ALL SELECT 'recipient:' || recipient_id, count(*) FROM communication GROUP BY recipient_id")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            self._conn.close()
            if self._write_lock_file is not None:
                self._write_lock_file.close()
            self._state_version.close()

    # -- people -------------------------------------------------------------------------
    def load_people(self, people: Iterable[dict]) -> None:
        rows = [(p["resourceType"], p["id"], json.dumps(p)) for p in people]
        self._people.clear()
        with self._writing(), self._tx():
            self._conn.executemany(
                "INSERT OR REPLACE INTO person (resource_type, id, resource) VALUES (?, ?, ?)", rows
            )

    def get_person(self, resource_type: str, person_id: str) -> dict | None:
        cached = self._people.get((resource_type, person_id))
        if cached is not None:
            return json.loads(json.dumps(cached))  # a copy: callers may change what they get
        with self._lock:
            row = self._conn.execute(
                "SELECT resource FROM person WHERE resource_type = ? AND id = ?",
                (resource_type, person_id),
            ).fetchone()
        if not row:
            return None
        self._people[(resource_type, person_id)] = json.loads(row[0])
        return json.loads(row[0])

    def person_exists(self, resource_type: str, person_id: str) -> bool:
        return (resource_type, person_id) in self._people or self.get_person(resource_type, person_id) is not None

    def list_people(self, resource_type: str) -> list[dict]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT resource FROM person WHERE resource_type = ? ORDER BY rowid", (resource_type,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    # -- communications -----------------------------------------------------------------
    def insert_communication(self, resource: dict, *, created: str, patient_id: str) -> None:
        """Store one message; returns once it is committed (with any others that queued meanwhile).

        Group commit: each caller queues its row, then takes the write lock. The holder writes
        every queued row in one transaction; a caller whose row a holder already committed leaves
        at once. Why: under load, threads taking the lock one SQLite call after another would
        queue behind each other (each call gives up the GIL while the lock is held); one commit
        (one WAL append of the shared index and counter pages) serves all who waited. Alone, a row is a
        single autocommit INSERT. A row is never answered before the commit that holds it.
        """
        sender_type, sender_id = resource["sender"]["reference"].split("/", 1)
        recipient_type, recipient_id = resource["recipient"][0]["reference"].split("/", 1)
        pending = _Pending((resource["id"], created, sender_type, sender_id, recipient_type, recipient_id,
                            patient_id, _resource_json(resource)))
        with self._queue_lock:
            self._queue.append(pending)
        with self._lock:
            if not pending.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                with self._across_processes():
                    self._write(batch)
        if self._checkpointer is not None:
            self._checkpointer.note_commit()
        if not pending.done:  # cannot happen: the batch that held the row marked it
            raise RuntimeError("a create was not written")
        if pending.error is not None:
            raise pending.error

    def _write(self, batch: list[_Pending]) -> None:
        """Commit every row of ``batch`` (the caller holds the lock); a row that fails fails alone.

        Every row leaves marked done, with its error if it has one: a caller whose row was in
        someone else's batch learns its fate from the mark alone.
        """
        if len(batch) == 1:
            pending = batch[0]
            try:
                # One statement in autocommit mode is its own transaction: SQLite takes the write
                # lock as it starts (busy timeout included), runs the counter trigger inside it,
                # and has committed when execute() returns.
                self._conn.execute(_INSERT_COMMUNICATION, pending.row)
            except Exception as err:  # noqa: BLE001 (handed to the caller, who raises it)
                pending.error = err
            pending.done = True
            return
        try:
            with self._tx():
                self._conn.executemany(_INSERT_COMMUNICATION, [p.row for p in batch])
        except Exception:  # noqa: BLE001
            if self._conn.in_transaction:  # a failed COMMIT leaves it open
                self._conn.execute("ROLLBACK")
            for pending in batch:  # each row on its own, so only a bad one fails
                self._write([pending])
            return
        for pending in batch:
            pending.done = True

    def get_communication(self, message_id: str) -> StoredMessage | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM communication WHERE id = ?", (message_id,)
            ).fetchone()
        return _message(row) if row else None

    def communication_version_json(self, message_id: str, version: str) -> str | None:
        """The message as it was at ``version`` (its JSON text): the current one, or one kept when it changed."""
        with self._lock:
            row = self._conn.execute(
                "SELECT resource FROM communication WHERE id = ?1 AND json_extract(resource, '$.meta.versionId') = ?2"
                " UNION ALL SELECT resource FROM communication_version WHERE id = ?1 AND version = ?2 LIMIT 1",
                (message_id, version)).fetchone()
        return row[0] if row else None

    def communication_json(self, message_id: str) -> str | None:
        """The stored resource as its JSON text, exactly as the API answers it (see ``_resource_json``)."""
        with self._lock:
            row = self._conn.execute("SELECT resource FROM communication WHERE id = ?", (message_id,)).fetchone()
        return row[0] if row else None

    def search_communication_json(self, filters: SearchFilters, *, count: int, offset: int
                                  ) -> tuple[int, list[tuple[str, str]]]:
        """``search_communications``, each match as (id, its resource's JSON text), not decoded."""
        return self._search(filters, count=count, offset=offset, columns="id, resource", decode=tuple)

    def search_communications(self, filters: SearchFilters, *, count: int, offset: int
                              ) -> tuple[int, list[StoredMessage]]:
        return self._search(filters, count=count, offset=offset, columns="*", decode=_message)

    def _search(self, filters: SearchFilters, *, count: int, offset: int, columns: str, decode):
        where, args = [], []
        if filters.id is not None:
            where.append("id = ?")
            args.append(filters.id)
        if filters.patient is not None:
            where.append("patient_id = ?")
            args.append(filters.patient)
        for column, value in (("sender", filters.sender), ("recipient", filters.recipient)):
            if value is not None:
                kind, ident = value
                where.append(f"{column}_id = ?")
                args.append(ident)
                if kind is not None:
                    where.append(f"{column}_type = ?")
                    args.append(kind)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        key = _counter_key(filters)
        with self._lock:
            if key is not None:
                row = self._conn.execute("SELECT n FROM communication_count WHERE key = ?", (key,)).fetchone()
                total = row[0] if row else 0
            else:
                total = self._conn.execute(f"SELECT count(*) FROM communication{clause}", args).fetchone()[0]
            rows = self._conn.execute(
                f"SELECT {columns} FROM communication{clause} ORDER BY seq LIMIT ? OFFSET ?",
                [*args, count, offset],
            ).fetchall() if count else []
        return total, [decode(r) for r in rows]

    def messages_for_patient(self, patient_id: str) -> list[StoredMessage]:
        """Every message the patient sends or receives, oldest created first (UI-1)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM communication WHERE patient_id = ? ORDER BY created, seq", (patient_id,)
            ).fetchall()
        return [_message(r) for r in rows]

    def mark_ui_sent(self, message_id: str, when: str) -> bool:
        """Record that the draft was sent from the chart; ``sent`` is left alone (UI-3)."""
        with self._writing(), self._tx():
            cur = self._conn.execute(
                "UPDATE communication SET ui_sent_at = ? WHERE id = ? AND ui_sent_at IS NULL",
                (when, message_id),
            )
        return cur.rowcount == 1

    def mark_received(self, message_id: str, when: str) -> bool:
        """RECV-3: a practitioner marked the message read in the chart: ``received`` is stored as ``when``
        (a new version of the resource, so its meta moves on), only where none was stored before."""
        with self._writing(), self._tx():
            self._conn.execute(
                "INSERT OR IGNORE INTO communication_version (id, version, resource)"
                " SELECT id, COALESCE(json_extract(resource, '$.meta.versionId'), '1'), resource FROM communication"
                " WHERE id = ? AND json_extract(resource, '$.received') IS NULL", (message_id,))
            cur = self._conn.execute(
                "UPDATE communication SET resource = json_set(resource, '$.received', ?1,"
                " '$.meta.versionId', CAST(COALESCE(CAST(json_extract(resource, '$.meta.versionId') AS INTEGER),"
                " 1) + 1 AS TEXT), '$.meta.lastUpdated', ?1)"
                " WHERE id = ?2 AND json_extract(resource, '$.received') IS NULL",
                (when, message_id),
            )
        return cur.rowcount == 1

    def reset(self) -> None:
        with self._writing(), self._tx():
            self._conn.execute("DELETE FROM communication")
            self._conn.execute("DELETE FROM communication_version")
            self._conn.execute("DELETE FROM communication_count")
            self._conn.execute("DELETE FROM sms_outbox")

    # -- tokens -------------------------------------------------------------------------
    def add_token(self, token_hash: str, client_id: str, expires_at: str) -> None:
        with self._writing(), self._tx():
            self._conn.execute(
                "INSERT INTO token (token_hash, client_id, expires_at) VALUES (?, ?, ?)",
                (token_hash, client_id, expires_at),
            )

    def token_expiry(self, token_hash: str) -> str | None:
        cached = self._tokens.get(token_hash)
        if cached is not None:
            return cached
        with self._lock:
            row = self._conn.execute(
                "SELECT expires_at FROM token WHERE token_hash = ?", (token_hash,)
            ).fetchone()
        if row:
            self._tokens[token_hash] = row[0]
        return row[0] if row else None

    def add_clock_move(self, token_hash: str, seconds: float) -> None:
        with self._writing(), self._tx():
            self._conn.execute(
                "INSERT INTO clock_mover (token_hash, shift_seconds) VALUES (?, ?) ON CONFLICT (token_hash) "
                "DO UPDATE SET shift_seconds = shift_seconds + excluded.shift_seconds", (token_hash, seconds))

    def clock_moves(self, token_hash: str) -> float | None:
        """Seconds the token's own moves of the clock add up to; None if it never moved it."""
        with self._lock:
            row = self._conn.execute("SELECT shift_seconds FROM clock_mover WHERE token_hash = ?",
                                     (token_hash,)).fetchone()
        return row[0] if row else None

    def forget_clock_moves(self) -> None:
        with self._writing(), self._tx():
            self._conn.execute("DELETE FROM clock_mover")

    # -- shared state (mock_state: the clock, the fault rules, the session secret) -----------
    def get_state(self, key: str) -> str | None:
        """The value under ``key`` as every process sharing the database sees it now.

        Read from SQLite only when ``_StateVersion`` says some process has written mock_state since
        this one last read it; otherwise from memory, so the clock and the fault switch cost no
        query on every request. The version is read before the table: a write that lands between
        the two bumps it again, and the next call reads once more.
        """
        version = self._state_version.read()
        if version != self._state_seen:
            with self._lock:
                rows = self._conn.execute("SELECT key, value FROM mock_state").fetchall()
            self._state, self._state_seen = dict(rows), version
        return self._state.get(key)

    def set_state(self, key: str, value: str | None) -> None:
        """Store ``value`` under ``key`` (``None`` removes it)."""
        with self._writing():
            if value is None:
                self._conn.execute("DELETE FROM mock_state WHERE key = ?", (key,))
            else:
                self._conn.execute("INSERT OR REPLACE INTO mock_state (key, value) VALUES (?, ?)", (key, value))
            self._state_version.bump()

    def update_state(self, key: str, change):
        """Read, change and write one value in one write transaction, so that processes take turns.

        ``change(old)`` (old is ``None`` when absent) returns ``(new value or None to keep it,
        result)``; the result is returned. Why a transaction: fault counters (``times``, ``every``)
        are read and moved by every worker; two workers must never both see the same count.
        """
        with self._writing():
            with self._tx():
                row = self._conn.execute("SELECT value FROM mock_state WHERE key = ?", (key,)).fetchone()
                new, result = change(row[0] if row else None)
                if new is not None:
                    self._conn.execute("INSERT OR REPLACE INTO mock_state (key, value) VALUES (?, ?)", (key, new))
            if new is not None:
                self._state_version.bump()
        return result

    def shared_secret(self, key: str = "session_secret") -> str:
        """A random secret made by whichever process asks first, then the same for every process."""
        with self._writing():
            made = self._conn.execute("INSERT OR IGNORE INTO mock_state (key, value) VALUES (?, ?)",
                                      (key, secrets.token_hex(32))).rowcount
            if made:
                self._state_version.bump()
            return self._conn.execute("SELECT value FROM mock_state WHERE key = ?", (key,)).fetchone()[0]

    # -- SMS outbox (the mock never sends SMS for API-created messages: UI-3) --------------
    def sms_outbox(self) -> list[dict]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT patient_id, body, created FROM sms_outbox ORDER BY seq"
            ).fetchall()
        return [{"patient": r[0], "body": r[1], "created": r[2]} for r in rows]

    # -- helpers ------------------------------------------------------------------------
    def _tx(self):
        return _Transaction(self._conn)

    @contextlib.contextmanager
    def _writing(self):
        """This process's lock, then the lock file shared by every process on the database."""
        with self._lock, self._across_processes():
            yield

    @contextlib.contextmanager
    def _across_processes(self):
        """``flock`` on ``<database>-writelock`` around a write (the caller holds ``self._lock``).

        Why: when two processes want SQLite's write lock at once, the loser's busy handler sleeps
        and polls (1, 2, 5, 10 ... 100 ms), so with several workers creates waited milliseconds
        for a lock held microseconds. A blocked ``flock`` is woken by the kernel the moment the
        holder lets go. SQLite's own locking still guards the data; this only orders the writers.
        """
        if self._write_lock_file is None:
            yield
            return
        fcntl.flock(self._write_lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._write_lock_file, fcntl.LOCK_UN)


class _StateVersion:
    """A counter of the writes to ``mock_state``, seen by every process sharing the database at once.

    Why: the clock and the fault switch are asked on every request, and each process must see a
    change another made (``PUT /_mock/clock`` through one worker freezes the clock of all). A
    query per ask cost more than the rest of the state handling; this is eight bytes of the file
    ``<database>-state`` mapped into every process's memory, so asking is a memory read. Writers
    bump it after their commit, while they hold the write lock of all processes (``_writing``),
    and before their request is answered: a request that starts after that answer sees the new
    value. ``:memory:`` is one process's own, so its counter is too. The file holds nothing but
    the counter: deleting it while no process runs loses nothing.
    """

    _FORMAT = "<Q"

    def __init__(self, path: str) -> None:
        if path == ":memory:":
            self._map = bytearray(8)
            return
        fd = os.open(f"{path}-state", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size < 8:
                os.ftruncate(fd, 8)  # zeros; a process that raced here first loses nothing (same size)
            self._map = mmap.mmap(fd, 8)
        finally:
            os.close(fd)

    def read(self) -> int:
        return struct.unpack_from(self._FORMAT, self._map)[0]

    def bump(self) -> None:
        """One more write (the caller holds the write lock of every process)."""
        struct.pack_into(self._FORMAT, self._map, 0, (self.read() + 1) & 0xFFFF_FFFF_FFFF_FFFF)

    def close(self) -> None:
        if isinstance(self._map, mmap.mmap):
            self._map.close()


class _Checkpointer:
    """Copies the WAL back into the database file from its own thread and connection.

    Why: SQLite's automatic checkpoint runs inside whichever commit crosses 1,000 WAL pages, and
    with ``synchronous = NORMAL`` it ends with an fsync, taken while holding the Store's lock, so
    every create behind that commit would wait too. Here the thread is woken every
    ``_COMMITS_PER_CHECKPOINT`` commits and runs a PASSIVE checkpoint, which never blocks the
    writers. Durability does not depend on it: a commit is in the WAL before its 201.
    The thread sleeps until woken (no polling) and ends when the Store is closed or collected.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stopping = False
        self._commits = 0
        self._thread = threading.Thread(target=self._run, name="mock-checkpoint", daemon=True)
        self._thread.start()

    def note_commit(self) -> None:
        self._commits += 1  # a lost increment under a race only delays a checkpoint a little
        if self._commits >= _COMMITS_PER_CHECKPOINT:
            self._commits = 0
            self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, check_same_thread=False, timeout=30, isolation_level=None)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    pass  # busy or closed under us: the next wake-up (or the inline safety net) retries
        finally:
            conn.close()


class _Pending:
    """One queued create: its row, and once written, done (or the error it met)."""

    __slots__ = ("row", "done", "error")

    def __init__(self, row: tuple) -> None:
        self.row = row
        self.done = False
        self.error: Exception | None = None


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error; the caller holds the lock."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self):
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(self, exc_type, exc, tb):
        self._conn.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


def _counter_key(filters: SearchFilters) -> str | None:
    """The counter that holds this search's total, or None when it must be counted (several filters)."""
    given = [(name, value) for name, value in (("patient", filters.patient), ("sender", filters.sender),
                                                ("recipient", filters.recipient)) if value is not None]
    if filters.id is not None or len(given) > 1:
        return None  # an id matches at most one row: counting it is as cheap as a lookup
    if not given:
        return "*"
    name, value = given[0]
    if name == "patient":
        return f"patient:{value}"
    kind, ident = value
    return f"{name}:{kind}/{ident}" if kind else f"{name}:{ident}"


def _resource_json(resource: dict) -> str:
    """The stored text of a resource: the very bytes the API answers for it.

    It is ``outcome.fhir_response``'s encoding (compact separators, ASCII with escapes, keys in
    their order), and decoding then encoding such text again gives it back unchanged, so read
    and search hand it out as it is, with no decode and encode per message.
    """
    return json.dumps(resource, separators=(",", ":"))


def _message(row: tuple) -> StoredMessage:
    values = list(row)
    values[8] = json.loads(values[8])
    return StoredMessage(*values)


def get_db() -> Store:
    return current_app.extensions["mock_store"]


def get_store(app: Flask) -> Store:
    return app.extensions["mock_store"]


def init_app(app: Flask) -> None:
    store = Store(app.config["DATABASE"])
    people_file = app.config.get("PEOPLE_FILE")
    if people_file:
        data = json.loads(Path(people_file).read_text(encoding="utf-8"))
        store.load_people([*data.get("practitioners", []), *data.get("patients", [])])
    app.extensions["mock_store"] = store
