"""CPU cost of one create, read and search, in-process: N requests driven straight through the WSGI
app, timed with ``time.process_time`` (CPU seconds of this process, so other work on a shared box
barely moves it).

Why beside the wrk runs: on a small machine shared with other jobs, wall-clock throughput swings
with the load average; CPU time per request is the figure a change to the mock's code moves.
The environs are prepared before the clock starts (building them is the client's cost, not the
mock's). The best of several rounds is reported: interference only ever adds time. The same is
measured for bench/bare_flask.py's app, the floor any Flask app stands on.

Search is the one wrk runs (``patient=<fixture patient>&_count=10``), over the messages the create
rounds stored; read is one of those messages.

Run: ``python bench/cpu_create.py [--creates 2000] [--rounds 5]``.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import fixture_message  # noqa: E402
from profile_create import _bearer, _call_all, _environs, _get_environs  # noqa: E402

KINDS = ("create", "read", "search")


def _best(app, make, count: int, rounds: int, expect: str) -> list[float]:
    per_request = []
    for _ in range(rounds):
        environs = make(count)
        gc.collect()
        started = time.process_time()
        _call_all(app, environs, expect=expect)
        per_request.append((time.process_time() - started) / count * 1e6)
    return per_request


def _measure(app, bearer: str, *, creates: int, rounds: int) -> dict:
    _call_all(app, _environs(app, 200, bearer=bearer))  # warm up
    timings = {"create": _best(app, lambda n: _environs(app, n, bearer=bearer), creates, rounds, "201")}
    patient = fixture_message()["recipient"][0]["reference"]
    first = app.test_client().get(f"/Communication?patient={patient}&_count=1",
                                  headers={"Authorization": f"Bearer {bearer}"}).get_json()
    message_id = first["entry"][0]["resource"]["id"] if first and first.get("entry") else "0"
    paths = {"read": f"/Communication/{message_id}", "search": f"/Communication?patient={patient}&_count=10"}
    for kind, path in paths.items():
        _call_all(app, _get_environs(path, 200, bearer=bearer), expect="200")  # warm up
        timings[kind] = _best(app, lambda n, path=path: _get_environs(path, n, bearer=bearer), creates, rounds, "200")
    return {kind: {"best_us": min(values), "median_us": statistics.median(values), "all_us": values}
            for kind, values in timings.items()}


def run(*, creates: int = 2_000, rounds: int = 5) -> dict:
    """``{"creates", "rounds", "best_us" (create), "mock": {kind: ...}, "bare": {kind: ...}}``."""
    import bare_flask

    from mock_server import create_app

    with tempfile.TemporaryDirectory(prefix="canvas-cpu-") as folder:
        app = create_app({"DATABASE": str(Path(folder) / "cpu.sqlite3")})
        mock = _measure(app, _bearer(app), creates=creates, rounds=rounds)
        app.extensions["mock_store"].close()
    bare = _measure(bare_flask.create(), "x", creates=creates, rounds=rounds)
    return {"creates": creates, "rounds": rounds, "best_us": mock["create"]["best_us"],
            "median_us": mock["create"]["median_us"], "mock": mock, "bare": bare}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = run(creates=args.creates, rounds=args.rounds)
    print(f"CPU µs per request, best (median) of {result['rounds']} rounds of {result['creates']}:")
    for kind in KINDS:
        m, b = result["mock"][kind], result["bare"][kind]
        print(f"  {kind:7} mock {m['best_us']:5.0f} ({m['median_us']:5.0f})   bare Flask {b['best_us']:4.0f} "
              f"({b['median_us']:4.0f})")
