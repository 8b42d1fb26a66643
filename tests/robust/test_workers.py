"""``serve --workers 2``: two worker processes answer as one server (tokens, clock, faults, sign-in, data).

Every request here goes on a fresh connection, so the kernel spreads them over both workers; each
answer's correlation id starts with its process's random prefix (16 hex digits), which shows that
both workers did answer. The chance that 24 fresh connections all land on one worker is 2^-23.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests

from ..mock_helpers import bearer, fetch_token, grant_form

FRESH = 24  # fresh connections per check
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def worker_of(answer: requests.Response) -> str:
    return answer.headers["fumage-correlation-id"][:16]


def fresh_gets(url: str, n: int = FRESH, **kwargs) -> list[requests.Response]:
    """``n`` GETs, each on a connection of its own (requests.get opens and closes one per call)."""
    return [requests.get(url, timeout=10, **kwargs) for _ in range(n)]


@pytest.fixture
def two_workers(serve_process):
    server = serve_process("--workers", "2")
    return server, fetch_token(server.base_url)


@pytest.mark.slow
def test_a_token_granted_on_one_connection_works_on_every_worker(two_workers):
    server, token = two_workers
    answers = fresh_gets(f"{server.base_url}/Patient", headers=bearer(token))
    assert [a.status_code for a in answers] == [200] * FRESH
    assert len({worker_of(a) for a in answers}) == 2
    assert "Traceback" not in server.stderr()


@pytest.mark.slow
def test_a_clock_set_through_one_worker_is_the_clock_of_all(two_workers, message):
    server, token = two_workers
    frozen = "2022-02-10T15:04:00+00:00"
    assert requests.put(f"{server.base_url}/_mock/clock", json={"now": frozen}, headers=bearer(token),
                        timeout=10).json()["now"] == frozen
    answers = fresh_gets(f"{server.base_url}/_mock/clock", headers=bearer(token))
    assert {a.json()["now"] for a in answers} == {frozen}
    assert len({worker_of(a) for a in answers}) == 2
    # and what the clock drives: a create's default sent (SENT-2), read back on other connections
    body = message()
    body.pop("sent", None)
    created = [requests.post(f"{server.base_url}/Communication", json=body, timeout=10,
                             headers={**bearer(token), "Content-Type": "application/fhir+json"}) for _ in range(8)]
    for answer in created:
        assert answer.status_code == 201
        stored = requests.get(answer.headers["Location"], headers=bearer(token), timeout=10).json()
        assert datetime.fromisoformat(stored["sent"].replace("Z", "+00:00")) == datetime.fromisoformat(frozen)


@pytest.mark.slow
def test_a_fault_with_times_two_fires_exactly_twice_across_workers(two_workers):
    server, token = two_workers
    rule = {"kind": "503", "path": "/metadata", "times": 2, "retry_after": 0}
    assert requests.put(f"{server.base_url}/_mock/faults", json={"rules": [rule]}, headers=bearer(token),
                        timeout=10).status_code == 200
    answers = fresh_gets(f"{server.base_url}/metadata")
    assert sorted(a.status_code for a in answers) == [200] * (FRESH - 2) + [503] * 2
    assert len({worker_of(a) for a in answers if a.status_code == 200}) == 2  # a fault's id is its own
    shown = requests.get(f"{server.base_url}/_mock/faults", headers=bearer(token), timeout=10).json()["rules"]
    assert (shown[0]["matched"], shown[0]["fired"]) == (FRESH, 2)


@pytest.mark.slow
def test_every_n_counts_the_requests_of_all_workers(two_workers):
    server, token = two_workers
    requests.put(f"{server.base_url}/_mock/faults", headers=bearer(token), timeout=10,
                 json={"rules": [{"kind": "429", "path": "/metadata", "every": 3}]})
    answers = fresh_gets(f"{server.base_url}/metadata")
    assert [a.status_code for a in answers] == [200, 200, 429] * (FRESH // 3)


@pytest.mark.slow
def test_a_signed_in_cookie_works_on_every_worker(two_workers):
    server, _ = two_workers
    base = server.base_url
    page = requests.get(f"{base}/sign-in", timeout=10)
    csrf = CSRF.search(page.text).group(1)
    signed = requests.post(f"{base}/sign-in", cookies=page.cookies, allow_redirects=False, timeout=10,
                           data={"csrf_token": csrf, "client_id": grant_form()["client_id"],
                                 "client_secret": grant_form()["client_secret"], "next": "/"})
    assert signed.status_code == 303, signed.text[:300]
    cookies = signed.cookies
    answers = fresh_gets(f"{base}/", cookies=cookies, allow_redirects=False)
    assert [a.status_code for a in answers] == [200] * FRESH  # not redirected to the sign-in page
    assert len({worker_of(a) for a in answers}) == 2


@pytest.mark.slow
def test_creates_from_many_threads_all_read_back_on_any_worker(two_workers, message):
    server, token = two_workers
    creates, threads = 160, 16
    headers = {**bearer(token), "Content-Type": "application/fhir+json"}

    def create(i: int) -> str:
        body = message()
        body["payload"] = [{"contentString": f"worker check #{i}"}]
        answer = requests.post(f"{server.base_url}/Communication", json=body, headers=headers, timeout=30)
        assert answer.status_code == 201, answer.text[:300]
        return answer.headers["Location"]

    with ThreadPoolExecutor(threads) as pool:
        locations = list(pool.map(create, range(creates)))
    assert len(set(locations)) == creates
    with ThreadPoolExecutor(threads) as pool:
        read = list(pool.map(lambda url: requests.get(url, headers=bearer(token), timeout=30), locations))
    assert [r.status_code for r in read] == [200] * creates
    assert sorted(r.json()["payload"][0]["contentString"] for r in read) == sorted(
        f"worker check #{i}" for i in range(creates))
    assert len({worker_of(r) for r in read}) == 2
    total = requests.get(f"{server.base_url}/Communication", params={"_count": 0}, headers=bearer(token),
                         timeout=10).json()["total"]
    assert total == creates
    assert "locked" not in server.stderr() and "Traceback" not in server.stderr()


@pytest.mark.slow
@pytest.mark.parametrize("start", range(3))
def test_every_worker_answers_right_after_the_banner(serve_process, start):
    """The banner is printed when one worker answers; the other must answer too, at once. (A worker
    forked while serve's announcing thread held an import lock hung on its first request.)"""
    server = serve_process("--workers", "2")
    answers = [requests.get(f"{server.base_url}/metadata", timeout=5) for _ in range(8)]
    assert [a.status_code for a in answers] == [200] * 8
