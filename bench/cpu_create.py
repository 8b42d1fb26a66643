"""CPU cost of one create, in-process: N creates driven straight through the WSGI app, timed with
``time.process_time`` (CPU seconds of this process, so other work on a shared box barely moves it).

Why beside the wrk runs: on a small machine shared with other jobs, wall-clock throughput swings
with the load average; CPU time per create is the figure a change to the mock's code moves.
The environs are prepared before the clock starts (building them is the client's cost, not the
mock's). The best of several rounds is reported: interference only ever adds time.

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

from profile_create import _call_all, _environs  # noqa: E402


def run(*, creates: int = 2_000, rounds: int = 5) -> dict:
    from mock_server import create_app

    with tempfile.TemporaryDirectory(prefix="canvas-cpu-") as folder:
        app = create_app({"DATABASE": str(Path(folder) / "cpu.sqlite3")})
        _call_all(app, _environs(app, 200))  # warm up
        per_create = []
        for _ in range(rounds):
            environs = _environs(app, creates)
            gc.collect()
            started = time.process_time()
            _call_all(app, environs)
            per_create.append((time.process_time() - started) / creates * 1e6)
        app.extensions["mock_store"].close()
    return {"creates": creates, "rounds": rounds, "best_us": min(per_create),
            "median_us": statistics.median(per_create), "all_us": per_create}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = run(creates=args.creates, rounds=args.rounds)
    print(f"CPU per create: best {result['best_us']:.0f} µs, median {result['median_us']:.0f} µs "
          f"({result['rounds']} rounds of {result['creates']})")
