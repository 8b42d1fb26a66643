"""Read and search latency and server memory with 10^4, 10^5 and 10^6 stored messages.

Messages are bulk-loaded straight into SQLite through the mock's own schema (``Store``), not
through HTTP, then a ``serve`` process is started on the file and measured with wrk at one
connection. The data: 1,000 patients and the fixture practitioners, so a patient's share of the
messages grows with the store (10 each at 10^4, 1,000 each at 10^6), as it would in a clinic.
"""
from __future__ import annotations

import json
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import requests

from common import people, start_mock, token, wrk

SIZES = (10_000, 100_000, 1_000_000)
PATIENTS = 1_000
BATCH = 50_000


def bulk_load(path: Path, count: int) -> float:
    """Write ``count`` messages into a fresh database at ``path``; returns the seconds it took."""
    from mock_server.db import Store

    Store(str(path)).close()  # the schema and indexes, exactly as the mock creates them
    with sqlite3.connect(path) as conn:  # counters are filled in one pass after the load, as for an old database
        conn.execute("DROP TRIGGER communication_counted")
    practitioners = [p["id"] for p in people()["practitioners"]]
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # a bulk load: durability of the load itself does not matter
    conn.execute("BEGIN")
    rows = []
    for n in range(count):
        message_id = uuid.UUID(int=n + 1).hex
        patient = f"{n % PATIENTS:032x}"
        practitioner = practitioners[n % len(practitioners)]
        from_patient = n % 4 == 0
        sender = ("Patient", patient) if from_patient else ("Practitioner", practitioner)
        recipient = ("Practitioner", practitioner) if from_patient else ("Patient", patient)
        instant = f"2022-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00+00:00"
        resource = {
            "resourceType": "Communication", "id": message_id,
            "meta": {"versionId": "1", "lastUpdated": instant}, "status": "unknown", "sent": instant,
            "recipient": [{"reference": f"{recipient[0]}/{recipient[1]}", "type": recipient[0]}],
            "sender": {"reference": f"{sender[0]}/{sender[1]}", "type": sender[0]},
            "payload": [{"contentString": f"Bulk message number {n}"}],
        }
        rows.append((message_id, instant, *sender, *recipient, patient, json.dumps(resource, separators=(",", ":"))))
        if len(rows) >= BATCH:
            _insert(conn, rows)
    _insert(conn, rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    Store(str(path)).close()  # puts the trigger back and counts what was loaded
    return time.perf_counter() - started


def _insert(conn: sqlite3.Connection, rows: list) -> None:
    conn.executemany(
        "INSERT INTO communication (id, created, sender_type, sender_id, recipient_type, recipient_id,"
        " patient_id, resource) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    rows.clear()


def first_answer_seconds(db: str) -> tuple[float, object]:
    """Start ``serve`` on ``db``; seconds from spawning the process to the first answered request."""
    started = time.perf_counter()
    server = start_mock(db)
    while True:
        try:
            if requests.get(f"{server.base_url}/metadata", timeout=5).status_code == 200:
                return time.perf_counter() - started, server
        except requests.ConnectionError:
            time.sleep(0.002)


def run(*, sizes=SIZES, seconds: float = 2) -> list[dict]:
    out = []
    bot = people()["practitioners"][0]["id"]
    with tempfile.TemporaryDirectory(prefix="canvas-scale-") as folder:
        for size in sizes:
            db = Path(folder) / f"scale-{size}.sqlite3"
            load_seconds = bulk_load(db, size)
            startup, server = first_answer_seconds(str(db))
            try:
                bearer = token(server.base_url)
                rss_idle = server.rss_kib()
                middle = uuid.UUID(int=size // 2 + 1).hex
                patient = f"{(size // 2) % PATIENTS:032x}"
                queries = {
                    "read by id": f"/Communication/{middle}",
                    "search _id": f"/Communication?_id={middle}",
                    "search patient (first page of 10)": f"/Communication?patient=Patient/{patient}&_count=10",
                    "search patient, last page": None,  # filled below: the deepest offset a client pages to
                    "search sender = a practitioner (1/3 of all)": f"/Communication?sender=Practitioner/{bot}&_count=10",
                    "search all (first page of 10)": "/Communication?_count=10",
                }
                per_patient = requests.get(f"{server.base_url}/Communication?patient=Patient/{patient}&_count=0",
                                           headers={"Authorization": f"Bearer {bearer}"}, timeout=60).json()["total"]
                queries["search patient, last page"] = (f"/Communication?patient=Patient/{patient}&_count=10"
                                                        f"&_offset={max(per_patient - 10, 0)}")
                results = {name: wrk(server.base_url, path=path, token_value=bearer, connections=1,
                                     seconds=seconds, max_requests=100_000)._asdict()
                           for name, path in queries.items()}
                out.append({"size": size, "load_seconds": round(load_seconds, 1), "startup_seconds": startup,
                            "db_mib": round(sum(p.stat().st_size for p in Path(folder).glob(f"{db.name}*")) / 2**20, 1),
                            "rss_idle_mib": round(rss_idle / 1024, 1), "rss_after_mib": round(server.rss_kib() / 1024, 1),
                            "per_patient": per_patient, "queries": results})
            finally:
                server.stop()
            for path in Path(folder).glob(f"{db.name}*"):
                path.unlink()
    return out


if __name__ == "__main__":
    print(json.dumps(run(sizes=(10_000, 100_000), seconds=1), indent=1))
