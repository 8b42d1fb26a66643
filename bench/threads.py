"""Create throughput and p99 against the threads per granian worker (``serve --threads N``).

Why: under the GIL only one thread runs Python at a time, so more threads add no throughput;
what they change is how long a request waits for its turn each time it gives the GIL up (socket
and SQLite calls), which is the tail latency. wrk at 32 connections, as in load.py.

Run: ``python bench/threads.py [--seconds 3] [--threads 2 4 8 16]``.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import fixture_message, start_mock, token, wrk_with_cpu

THREADS = (1, 2, 4, 8)


def run(*, threads=THREADS, connections: int = 32, seconds: float = 3) -> dict:
    results = {}
    with tempfile.TemporaryDirectory(prefix="canvas-threads-") as folder:
        body_file = Path(folder) / "body.json"
        body_file.write_text(json.dumps(fixture_message()))
        for count in threads:
            mock = start_mock(str(Path(folder) / f"threads-{count}.sqlite3"), "--threads", str(count))
            try:
                results[count] = wrk_with_cpu(mock, mock.base_url, method="POST", path="/Communication",
                                              token_value=token(mock.base_url), body_file=str(body_file),
                                              connections=connections, seconds=seconds)
            finally:
                mock.stop()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--threads", type=int, nargs="*", default=list(THREADS))
    args = parser.parse_args()
    for count, r in run(threads=args.threads, seconds=args.seconds).items():
        print(f"{count:3d} threads: {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
              f"server CPU {r['server_cpu_us']:.0f} µs/request  errors {r['errors_status'] + r['errors_socket']}")
