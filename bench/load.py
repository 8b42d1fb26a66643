"""Create, read and search at 1, 8, 32 and 128 connections on every compared server, side by side.

Servers, all started at once and measured in turns (server by server inside each endpoint and
connection count, so that drift in the box's load touches them alike):

- ``granian``: the mock as ``canvas-conformance serve`` runs it (granian, one worker per core);
- ``gunicorn``: the mock's own app under gunicorn with 3 sync workers;
- ``waitress``: the mock as ``serve`` ran it before (``--server waitress``, 8 threads, one process);
- ``bare Flask``: bench/bare_flask.py on serve's granian settings, a Flask app that does nothing:
  the most any Flask app reaches on that server.

Every mock serves its own database file (WAL); search is ``patient=<fixture patient>&_count=10``,
run after the create runs, so it pages over the thousands of messages they stored. wrk runs on the
same machine, so on a 2-core box it competes with the servers for CPU.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import requests

from common import (fixture_message, start_bare_flask, start_gunicorn_mock, start_mock, token,
                    wrk_with_cpu)

CONNECTIONS = (1, 8, 32, 128)
ENDPOINTS = ("create", "read", "search (patient, 10 a page)")
SERVERS = ("granian", "gunicorn", "waitress", "bare Flask")


def run(*, seconds: float = 2, max_requests: int = 200_000, connections=CONNECTIONS, servers=SERVERS) -> dict:
    """``{endpoint: {server: {connections: wrk result}}}`` plus ``_stored`` per mock server.

    ``servers`` narrows the comparison (e.g. granian and bare Flask only, for a short look).
    """
    names = tuple(servers)
    results: dict = {name: {server: {} for server in names} for name in ENDPOINTS}
    with tempfile.TemporaryDirectory(prefix="canvas-bench-") as folder:
        body_file = Path(folder) / "body.json"
        body_file.write_text(json.dumps(fixture_message()))
        starters = {
            "granian": lambda: start_mock(str(Path(folder) / "granian.sqlite3")),
            "gunicorn": lambda: start_gunicorn_mock(str(Path(folder) / "gunicorn.sqlite3")),
            "waitress": lambda: start_mock(str(Path(folder) / "waitress.sqlite3"), "--server", "waitress",
                                           "--threads", "8"),
            "bare Flask": start_bare_flask,
        }
        servers = {}
        try:
            for name in names:
                servers[name] = starters[name]()
            targets = {}
            for name, server in servers.items():
                bearer = token(server.base_url) if name != "bare Flask" else "x"
                made = requests.post(f"{server.base_url}/Communication", json=fixture_message(), timeout=10,
                                     headers={"Authorization": f"Bearer {bearer}"})
                message_id = made.headers["Location"].rsplit("/", 1)[1]
                patient = fixture_message()["recipient"][0]["reference"]
                targets[name] = (bearer, {
                    "create": dict(method="POST", path="/Communication", body_file=str(body_file)),
                    "read": dict(path=f"/Communication/{message_id}"),
                    "search (patient, 10 a page)": dict(path=f"/Communication?patient={patient}&_count=10"),
                })
            for endpoint in ENDPOINTS:
                for conns in connections:
                    for name, server in servers.items():
                        bearer, options = targets[name]
                        results[endpoint][name][conns] = wrk_with_cpu(
                            server, server.base_url, token_value=bearer, connections=conns, seconds=seconds,
                            max_requests=max_requests, **options[endpoint])
                    print(f"  {endpoint} at {conns}: " + ", ".join(
                        f"{n} {results[endpoint][n][conns]['rps']:.0f}/s" for n in servers), flush=True)
            results["_stored"] = {}
            for name in [n for n in names if n != "bare Flask"]:
                bearer = targets[name][0]
                results["_stored"][name] = requests.get(
                    f"{servers[name].base_url}/Communication?_count=0", timeout=30,
                    headers={"Authorization": f"Bearer {bearer}"}).json()["total"]
        finally:
            for server in servers.values():
                server.stop()
    return results


def main() -> None:
    import argparse

    from common import load_average

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--connections", type=int, nargs="*", default=list(CONNECTIONS))
    parser.add_argument("--servers", nargs="*", default=list(SERVERS), choices=SERVERS)
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    results = run(seconds=args.seconds, connections=args.connections, servers=args.servers)
    print(f"load average after: {load_average()}")
    for endpoint in ENDPOINTS:
        for conns in args.connections:
            for name in args.servers:
                r = results[endpoint][name][conns]
                print(f"{endpoint[:6]:6} c={conns:<3} {name:10} {r['rps']:7.0f} req/s  p99 {r['p99_ms']:7.2f} ms  "
                      f"err {r['errors_status'] + r['errors_socket']}  CPU {r['server_cpu_us']:5.0f} µs")


if __name__ == "__main__":
    main()
