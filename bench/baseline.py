"""Before and after: the create benchmarks run against an earlier commit and the working tree, in one go.

Why: figures from different days on a shared 2-core box are not comparable (another job's load
moves requests/s by half). This exports ``--ref`` (default: the last commit before the create
path was optimised) with ``git archive`` into a temporary folder and measures it right next to
the current code, with the same venv, the same wrk runs and the same in-process CPU count:

- CPU per create in-process (bench/cpu_create.py in a subprocess whose PYTHONPATH puts the old
  code first);
- wrk create at 1, 8 and 32 connections against ``serve`` of each, with the server's CPU per request.

Run: ``python bench/baseline.py [--ref COMMIT] [--seconds 3]``.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from common import BENCH, ROOT, fixture_message, start_mock, token, wrk_with_cpu

# The last commit before the perf branch's changes to the create path (main, 2026-11-25).
BEFORE_REF = "b5b7ab4"
CONNECTIONS = (1, 8, 32)


def _export(ref: str, folder: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, "mock_server",
                              "canvas_conformance", "fixtures"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")


def _cpu_create(pythonpath: str | None, creates: int, rounds: int) -> dict:
    env = {**os.environ}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    code = ("import json, sys; sys.path.insert(0, %r); import cpu_create, mock_server; "
            "print(json.dumps({**cpu_create.run(creates=%d, rounds=%d), 'code': mock_server.__file__}))"
            % (str(BENCH), creates, rounds))
    # Run from BENCH: ``python -c`` puts the working folder first on sys.path, before PYTHONPATH.
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          cwd=BENCH)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    expected = Path(pythonpath) if pythonpath else ROOT
    if not Path(result["code"]).resolve().is_relative_to(expected.resolve()):
        raise RuntimeError(f"measured {result['code']}, not the code under {expected}")
    return result


def _wrk_creates(folder: Path, label: str, env: dict | None, seconds: float) -> dict:
    body_file = folder / "body.json"
    body_file.write_text(json.dumps(fixture_message()))
    mock = start_mock(str(folder / f"{label}.sqlite3"), env=env)
    try:
        bearer = token(mock.base_url)
        return {c: wrk_with_cpu(mock, mock.base_url, method="POST", path="/Communication", token_value=bearer,
                                body_file=str(body_file), connections=c, seconds=seconds) for c in CONNECTIONS}
    finally:
        mock.stop()


def run(*, ref: str = BEFORE_REF, seconds: float = 3, creates: int = 2_000, rounds: int = 5) -> dict:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], check=True,
                            capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="canvas-baseline-") as folder:
        old = Path(folder) / "old"
        old.mkdir()
        _export(ref, old)
        old_env = {**os.environ, "PYTHONPATH": str(old)}
        result = {"ref": commit}
        # Alternate old and new so a change in the box's load hits both alike.
        result["before_cpu"] = _cpu_create(str(old), creates, rounds)
        result["after_cpu"] = _cpu_create(None, creates, rounds)
        result["before_wrk"] = _wrk_creates(Path(folder), "before", old_env, seconds)
        result["after_wrk"] = _wrk_creates(Path(folder), "after", None, seconds)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default=BEFORE_REF)
    parser.add_argument("--seconds", type=float, default=3)
    args = parser.parse_args()
    r = run(ref=args.ref, seconds=args.seconds)
    print(f"CPU per create in-process: {r['ref']} {r['before_cpu']['best_us']:.0f} µs -> now {r['after_cpu']['best_us']:.0f} µs")
    for c in CONNECTIONS:
        b, a = r["before_wrk"][c], r["after_wrk"][c]
        print(f"c={c:2d}: {b['rps']:.0f} -> {a['rps']:.0f} req/s, p99 {b['p99_ms']:.1f} -> {a['p99_ms']:.1f} ms, "
              f"server CPU {b['server_cpu_us']:.0f} -> {a['server_cpu_us']:.0f} µs/request")
