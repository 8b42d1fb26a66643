"""Concurrent creates against real ``serve`` processes: no lost, duplicated or refused message (ID-2, FHIR-7).

One process with 16 client threads, then three processes sharing one database file (SQLite in
WAL mode; each process its own connection and lock). Every create must be answered 201, the
ids must all differ, the search total must be exact, and no "database is locked" may reach a
client or a log.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from itertools import cycle

import pytest
import requests

from ..mock_helpers import fetch_token

CREATES, THREADS = 200, 16


def burst(base_urls: list[str], token: str, body: dict) -> list[requests.Response]:
    """CREATES creates from THREADS threads, each thread with its own keep-alive connection."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    targets = [url for url, _ in zip(cycle(base_urls), range(CREATES))]
    per_thread = [targets[i::THREADS] for i in range(THREADS)]

    def worker(urls: list[str]) -> list[requests.Response]:
        with requests.Session() as session:
            return [session.post(f"{url}/Communication", json=body, headers=headers, timeout=30) for url in urls]

    with ThreadPoolExecutor(THREADS) as pool:
        return [answer for answers in pool.map(worker, per_thread) for answer in answers]


def assert_all_created(answers: list[requests.Response], base_urls: list[str], token: str) -> None:
    refused = [(a.status_code, a.text[:200]) for a in answers if a.status_code != 201]
    assert not refused, f"{len(refused)} creates were not answered 201, e.g. {refused[:3]}"
    ids = [a.headers["Location"].rstrip("/").rsplit("/", 1)[1] for a in answers]
    assert len(set(ids)) == CREATES
    for url in base_urls:  # every process sees every message
        bundle = requests.get(f"{url}/Communication", params={"_count": 0},
                              headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        assert bundle["total"] == CREATES


@pytest.mark.slow
def test_one_server_sixteen_threads(serve_process, message):
    server = serve_process()
    token = fetch_token(server.base_url)
    answers = burst([server.base_url], token, message())
    assert_all_created(answers, [server.base_url], token)
    assert "locked" not in server.stderr()


@pytest.mark.slow
def test_three_servers_sharing_one_database_file(serve_process, message, tmp_path):
    db = str(tmp_path / "shared.sqlite3")
    servers = [serve_process(db=db) for _ in range(3)]
    urls = [s.base_url for s in servers]
    token = fetch_token(urls[0])  # tokens live in the shared database: one works everywhere
    answers = burst(urls, token, message())
    assert_all_created(answers, urls, token)
    for server in servers:
        assert "locked" not in server.stderr() and "Traceback" not in server.stderr()
