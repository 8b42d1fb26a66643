"""``canvas-conformance serve`` refuses what it cannot serve with one line on stderr and exit 2, naming the cause."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def serve(*args, env=None):
    return subprocess.run([sys.executable, "-m", "canvas_conformance", "serve", "--port", "0", *args],
                          capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args, env, said", [
    (["--db", ":memory:", "--server", "waitress", "--workers", "3"], {}, "--server waitress runs one process"),
    (["--db", ":memory:"], {"CANVAS_MOCK_PROFILE": "canvas-1999"}, "'canvas-1999' is not a profile"),
    (["--db", ":memory:", "--token-lifetime", "0"], {}, "--token-lifetime must be a positive number"),
], ids=["waitress workers", "unknown profile", "token lifetime"])
def test_serve_refuses_with_one_line_and_exit_2(args, env, said):
    done = serve(*args, env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_folder_that_cannot_be_made_is_named_as_the_database(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path / "a-file" / "mock.sqlite3"
    done = serve("--db", str(path))
    assert done.returncode == 2 and f"cannot open the database {path}" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_file_that_is_no_database_is_named_as_the_database(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"these are not the pages of an SQLite database\n" * 200)
    done = serve("--db", str(path))
    assert done.returncode == 2 and f"cannot open the database {path}" in done.stderr, done.stderr
