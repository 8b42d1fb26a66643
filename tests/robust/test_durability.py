"""Durability: SIGKILL the server in the middle of a burst of creates; every create it answered 201 survives.

The mock answers a create only after its transaction has committed (WAL, synchronous=NORMAL:
durable across a process crash). The test kills the process with creates in flight, restarts
``serve`` on the same ``--db`` and reads back every acknowledged message, field by field.
"""
from __future__ import annotations

import threading
import time

import pytest
import requests

from ..mock_helpers import fetch_token

THREADS, ACKNOWLEDGED_BEFORE_KILL, MAX_PER_THREAD, TIME_LIMIT = 4, 120, 1000, 30


@pytest.mark.slow
def test_every_acknowledged_create_survives_sigkill(serve_process, message, tmp_path):
    db = str(tmp_path / "durable.sqlite3")
    server = serve_process(db=db)
    token = fetch_token(server.base_url)
    headers = {"Authorization": f"Bearer {token}"}
    template = message()
    acknowledged: list[tuple[str, dict]] = []
    broken: list[str] = []
    lock, stop = threading.Lock(), threading.Event()

    def creator(number: int) -> None:
        with requests.Session() as session:
            for i in range(MAX_PER_THREAD):
                if stop.is_set():
                    return
                body = {**template, "payload": [{"contentString": f"{template['payload'][0]['contentString']} #{number}-{i}"}]}
                try:
                    answer = session.post(f"{server.base_url}/Communication", json=body, headers=headers, timeout=10)
                except requests.exceptions.ConnectionError as err:
                    with lock:
                        broken.append(type(err).__name__)
                    return
                if answer.status_code == 201:
                    with lock:
                        acknowledged.append((answer.headers["Location"].rsplit("/", 1)[1], body))

    threads = [threading.Thread(target=creator, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + TIME_LIMIT
    while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()  # SIGKILL, with creates in flight
    for thread in threads:
        thread.join(timeout=TIME_LIMIT)
    stop.set()
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL
    assert broken, "the kill did not land in the middle of the burst"

    restarted = serve_process(db=db)
    with requests.Session() as session:
        for message_id, sent_body in acknowledged:
            answer = session.get(f"{restarted.base_url}/Communication/{message_id}", headers=headers, timeout=10)
            assert answer.status_code == 200, f"acknowledged Communication/{message_id} was lost"
            stored = answer.json()
            assert stored["id"] == message_id
            assert stored["payload"] == [{"contentString": sent_body["payload"][0]["contentString"]}]
            assert stored["sender"]["reference"] == sent_body["sender"]["reference"]
            assert stored["recipient"][0]["reference"] == sent_body["recipient"][0]["reference"]
            assert stored["sent"].startswith(sent_body["sent"][:19])
        total = session.get(f"{restarted.base_url}/Communication", params={"_count": 0}, headers=headers,
                            timeout=10).json()["total"]
    assert total >= len(acknowledged)  # a create in flight may have committed unanswered; none vanished
