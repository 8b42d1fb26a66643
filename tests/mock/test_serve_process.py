"""``canvas-conformance serve`` as a real process: it serves, and a restart keeps every message."""
from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys

import pytest
import requests

from ..mock_helpers import bearer, fetch_token, grant_form

pytestmark = pytest.mark.slow


def start(db, *extra):
    proc = subprocess.Popen([sys.executable, "-m", "canvas_conformance", "serve", "--port", "0",
                             "--db", str(db), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
    if not match:
        proc.kill()
        raise AssertionError(f"no base URL printed: {line!r} {proc.stderr.read()}")
    return proc, match.group(1)


def token(base):
    return bearer(fetch_token(base))


def test_restart_on_the_same_database_keeps_messages(tmp_path, message):
    db = tmp_path / "mock.sqlite3"
    proc, base = start(db)
    try:
        auth = token(base)
        answer = requests.post(f"{base}/Communication", json=message("patient_to_practitioner"),
                               headers=auth, timeout=5)
        assert answer.status_code == 201 and answer.headers["Location"].startswith(base)
        location = answer.headers["Location"]
        first = requests.get(location, headers=auth, timeout=5).json()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    proc, base = start(db)
    try:
        auth = token(base)  # tokens live in the database too, but ask afresh as a client would
        again = requests.get(f"{base}/Communication/{first['id']}", headers=auth, timeout=5)
        assert again.status_code == 200 and again.json() == first
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_a_busy_port_is_one_clear_line_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "canvas_conformance", "serve", "--port", str(port),
                               "--db", str(tmp_path / "x.sqlite3")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in done.stderr


def test_given_secret_is_never_printed(tmp_path):
    proc, base = start(tmp_path / "s.sqlite3", "--client-secret", "hush-hush-1234")
    try:
        assert requests.post(f"{base}/auth/token/", timeout=5,
                             data={**grant_form(), "client_secret": "hush-hush-1234"}).status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert "hush-hush-1234" not in out + err


UUID_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
FRESH = 24  # fresh connections: the kernel spreads them over both workers (all on one: 2^-23)


def test_every_worker_behaves_as_the_profile(serve_process, message):
    """``serve --profile canvas-current --workers 2``: whichever worker answers, it answers as v2."""
    server = serve_process("--profile", "canvas-current", "--workers", "2")
    auth = {**token(server.base_url), "Content-Type": "application/fhir+json"}
    v1_body = message("document_example")  # no status, text as content: v2 refuses it (STAT-1, PAY-5)
    workers = set()
    for n in range(FRESH):
        # requests.post/get open and close a connection each: every exchange may meet either worker.
        created = requests.post(f"{server.base_url}/Communication", json=message("minimal"), headers=auth, timeout=10)
        assert created.status_code == 201 and created.content == b"null", created.text  # ID-3
        assert re.fullmatch(rf"{server.base_url}/Communication/[0-9a-f-]{{36}}/_history/1",
                            created.headers["Location"])  # ID-1
        stored = requests.get(created.headers["Location"], headers=auth, timeout=10).json()
        assert stored["status"] == "completed" and stored["subject"]["type"] == "Patient"  # STAT-2, SUBJ-1
        assert stored["payload"] == [{"contentString": "<p>Your lab results are ready.</p>"}]  # PAY-6
        refused = requests.post(f"{server.base_url}/Communication", json=v1_body, headers=auth, timeout=10)
        issues = refused.json()["issue"]
        assert refused.status_code == 400 and {i["details"]["text"][:7] for i in issues} == {"[STAT-1", "[PAY-5]"}
        assert all("diagnostics" not in i and i["code"] == "required" for i in issues)  # FHIR-10
        for answer in (created, refused, requests.get(f"{server.base_url}/metadata", timeout=10)):
            correlation = answer.headers["fumage-correlation-id"]
            assert UUID_ID.fullmatch(correlation), correlation  # FHIR-9
            workers.add(correlation.replace("-", "")[:12])  # the process's random prefix (its first 12 digits)
    assert len(workers) == 2, workers
    search = requests.get(f"{server.base_url}/Communication?_count=100", headers=auth, timeout=10).json()
    assert search["total"] == FRESH and all(set(e) == {"resource"} for e in search["entry"])  # FHIR-7
    assert "Traceback" not in server.stderr()
