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
