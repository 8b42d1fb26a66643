"""Verdicts on a shared target: two runs at once against one mock, beside a third client writing
about 20 messages a second to the same people, compared scenario by scenario with a run alone.

Usage: .venv/bin/python bench/shared_target.py [--tree DIR] [--workers N]

``--tree`` names a checkout (a folder holding steps/, features/ and canvas_conformance/) whose
suite and package are run instead of this one's, e.g. an older commit unpacked with ``git archive``,
to show what the same load does to it. The mock is this checkout's, served in this process on a
free loopback port and stopped at the end; the writer is bounded in count and time. Prints the
verdicts that differ from the run alone; nothing is asserted (tests/suite/test_isolation.py does).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_server import create_app  # noqa: E402
from mock_server.serve import start_in_thread  # noqa: E402
from tests.suite.test_isolation import Writer  # noqa: E402


class Served:
    def __init__(self, app, server) -> None:
        self.base_url, self.client_id = server.base_url, app.config["CLIENT_ID"]
        self.client_secret = app.config["CLIENT_SECRET"]


def start(tree: Path, served: Served, results: Path, workers: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
    env.update(CANVAS_BASE_URL=served.base_url, CANVAS_CLIENT_ID=served.client_id,
               CANVAS_CLIENT_SECRET=served.client_secret, CANVAS_RESULTS_FILE=str(results),
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPATH=str(tree))
    command = [sys.executable, "-m", "pytest", "steps", "-p", "pytest_bdd.plugin", "-p", "canvas_conformance.workers",
               "-p", "canvas_conformance.results_plugin", "-p", "no:cacheprovider", "-q", "-m", "api"]
    if workers > 1:
        command += ["--canvas-workers", str(workers)]
    return subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def verdicts(path: Path) -> dict[str, str]:
    return {r["nodeid"]: r["status"] for r in json.loads(path.read_text(encoding="utf-8"))["scenarios"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    fixtures = json.loads((ROOT / "fixtures" / "communications.json").read_text(encoding="utf-8"))
    app = create_app({"DATABASE": ":memory:"})
    server = start_in_thread(app)
    served = Served(app, server)
    try:
        with tempfile.TemporaryDirectory(prefix="canvas-shared-") as tmp:
            alone, first, second = (Path(tmp) / f"{n}.json" for n in ("alone", "first", "second"))
            start(args.tree, served, alone, args.workers).wait()
            writer = Writer(served, lambda name: json.loads(json.dumps(fixtures[name])))
            writer.start()
            try:
                runs = [start(args.tree, served, first, args.workers), start(args.tree, served, second, args.workers)]
                for run in runs:
                    run.wait()
            finally:
                writer.stop.set()
                writer.join(timeout=30)
            reference = verdicts(alone)
            print(f"tree {args.tree}, {args.workers} worker(s); the writer created {writer.created} messages")
            print(f"alone: {sum(v == 'passed' for v in reference.values())} of {len(reference)} passed")
            for name, path in (("first", first), ("second", second)):
                got = verdicts(path)
                wrong = {k: (reference[k], got.get(k)) for k in reference if got.get(k) != reference[k]}
                print(f"{name} of two at once: {len(wrong)} of {len(reference)} verdicts differ from the run alone")
                for nodeid, (was, now) in sorted(wrong.items()):
                    print(f"  {nodeid.split('::')[-1][:90]}: {was} -> {now}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
