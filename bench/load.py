"""Throughput and latency of create, read and search at 1, 8 and 32 connections, beside the ceiling.

The mock runs as users run it (``canvas-conformance serve``, a database file in WAL mode, the
default 8 threads); the ceiling is bench/ceiling.py on the same waitress settings. wrk runs on
the same machine, so on a 2-core box it competes with the server for CPU: every figure here
includes that, for the mock and the ceiling alike.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import requests

from common import fixture_message, start_ceiling, start_mock, token, wrk_with_cpu

CONNECTIONS = (1, 8, 32)


def run(*, seconds: float = 3, max_requests: int = 200_000) -> dict:
    results: dict[str, dict[int, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="canvas-bench-") as folder:
        body_file = Path(folder) / "body.json"
        body_file.write_text(json.dumps(fixture_message()))

        ceiling = start_ceiling()
        try:
            results["ceiling (trivial 201)"] = {
                c: wrk_with_cpu(ceiling, ceiling.base_url, method="POST", path="/Communication", token_value="x",
                                body_file=str(body_file), connections=c, seconds=seconds, max_requests=max_requests)
                for c in CONNECTIONS}
        finally:
            ceiling.stop()

        mock = start_mock(str(Path(folder) / "load.sqlite3"))
        try:
            bearer = token(mock.base_url)
            headers = {"Authorization": f"Bearer {bearer}"}
            made = requests.post(f"{mock.base_url}/Communication", json=fixture_message(), headers=headers, timeout=10)
            message_id = made.headers["Location"].rsplit("/", 1)[1]
            patient = fixture_message()["recipient"][0]["reference"]
            targets = {
                "create": dict(method="POST", path="/Communication", body_file=str(body_file)),
                "read": dict(path=f"/Communication/{message_id}"),
                "search (patient, 10 a page)": dict(path=f"/Communication?patient={patient}&_count=10"),
            }
            for name, options in targets.items():
                results[name] = {c: wrk_with_cpu(mock, mock.base_url, token_value=bearer, connections=c,
                                                 seconds=seconds, max_requests=max_requests, **options)
                                 for c in CONNECTIONS}
            results["_stored_after"] = requests.get(f"{mock.base_url}/Communication?_count=0", headers=headers,
                                                    timeout=30).json()["total"]
        finally:
            mock.stop()
    return results


if __name__ == "__main__":
    print(json.dumps(run(seconds=2), indent=1))
