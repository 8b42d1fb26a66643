"""Wall time of the whole API suite against the embedded mock, and the share spent in HTTP exchanges.

Usage: .venv/bin/python bench/suite_walltime.py [--runs N] [--depths quick,standard,thorough]
                                              [--tags EXPR] [--out bench/RESULTS-suite.md]

Each run is the real command, ``canvas-conformance run --tags api -q --depth D`` in a fresh
process (embedded mock, child pytest, all five report files), timed from outside.
From each run's results.json it adds up the time spent inside scenarios and
inside HTTP exchanges (the client's ``duration_ms``), and from pytest.log the
pytest session's own time. The rest is start-up (interpreters, imports, the mock)
and the report. The aim: the whole API suite, explored scenarios at the default depth
(standard) included, in 5 s or less on 2 cores. Every depth is measured (thorough once
unless --runs-thorough says otherwise); the detailed table is the default depth's.

Numbers are written to bench/RESULTS-suite.md; nothing here asserts a timing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIM_S = 5.0
DEFAULT_DEPTH = "standard"


def one_run(tags: str, depth: str = DEFAULT_DEPTH) -> dict:
    with tempfile.TemporaryDirectory(prefix="canvas-bench-") as tmp:
        report = Path(tmp) / "report"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
        command = [sys.executable, "-m", "canvas_conformance", "run", "--tags", tags, "-q",
                   "--depth", depth, "--report-dir", str(report)]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode not in (0, 1):
            raise SystemExit(f"the run could not start (exit {done.returncode}): {done.stderr.strip()}")
        results = json.loads((report / "results.json").read_text())
        log = (report / "pytest.log").read_text()
    scenarios = results["scenarios"]
    exchanges = [x for s in scenarios for x in s.get("exchanges") or ()]
    session = re.search(r" in ([0-9.]+)s", log.strip().splitlines()[-1] if log.strip() else "")
    return {
        "exit": done.returncode,
        "wall_s": wall,
        # CPU of the runner and the suite process together: less sensitive than wall time to a busy machine
        "cpu_s": (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime),
        "pytest_s": float(session.group(1)) if session else float("nan"),
        "scenarios_s": sum(float(s.get("duration_s") or 0) for s in scenarios),
        "exchanges_s": sum(float(x.get("duration_ms") or 0) for x in exchanges) / 1000,
        "scenarios": len(scenarios),
        "exchanges": len(exchanges),
        "failed": sum(1 for s in scenarios if s["status"] in ("failed", "error")),
    }


def pytest_startup() -> float:
    """What a bare ``python -m pytest --version`` costs here: the floor of the child process."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "--version"], cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def collection(*, autoload: bool) -> float:
    """Collecting the suite (no request sent), with every installed plugin or only pytest-bdd (the runner's way)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    command = [sys.executable, "-m", "pytest", "steps", "--collect-only", "-q", "-p", "no:cacheprovider"]
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        command += ["-p", "pytest_bdd.plugin"]
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def depth_table(by_depth: dict[str, list[dict]]) -> list[str]:
    """One line per depth: cases per explored scenario, runs, and the medians."""
    from canvas_conformance.explore import DEPTHS

    lines = ["| depth | cases per explored scenario (+ shrinking) | runs | exit | scenarios | exchanges "
             "| median wall s | median CPU s |", "|---|---|---|---|---|---|---|---|"]
    for depth, runs in by_depth.items():
        examples, shrink = DEPTHS[depth]
        lines.append(f"| {depth}{' (default)' if depth == DEFAULT_DEPTH else ''} | {examples} (+{shrink}) | "
                     f"{len(runs)} | {'/'.join(sorted({str(r['exit']) for r in runs}))} | {runs[0]['scenarios']} | "
                     f"{statistics.median(r['exchanges'] for r in runs):.0f} | "
                     f"{statistics.median(r['wall_s'] for r in runs):.2f} | "
                     f"{statistics.median(r['cpu_s'] for r in runs):.2f} |")
    return lines


def render(runs: list[dict], *, tags: str, startup: float, load: tuple[float, float, float],
           collect: tuple[float, float], by_depth: dict[str, list[dict]] | None = None) -> str:
    med = {k: statistics.median(r[k] for r in runs)
           for k in ("wall_s", "cpu_s", "pytest_s", "scenarios_s", "exchanges_s")}
    verdict = "within" if med["wall_s"] <= AIM_S else "OVER"
    lines = [
        "# Suite wall time against the embedded mock",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `bench/suite_walltime.py` on "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}.",
        f"Command: `canvas-conformance run --tags {tags!r} -q --depth D` (embedded mock, child pytest, all report "
        "files), "
        f"{len(runs)} runs after one warm-up. Load average when starting: "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)"
        + ("; above the core count: other work competed for the CPUs and wall times are inflated."
           if load[0] > (os.cpu_count() or 1) else "."),
        "",
        *(depth_table(by_depth) + [""] if by_depth else []),
        f"Depth {DEFAULT_DEPTH} in detail, {len(runs)} runs:",
        "",
        f"**Median wall time {med['wall_s']:.2f} s: {verdict} the {AIM_S:.0f} s aim.** "
        f"Time inside HTTP exchanges: {med['exchanges_s']:.2f} s, "
        f"{100 * med['exchanges_s'] / med['wall_s']:.0f} % of the wall time and "
        f"{100 * med['exchanges_s'] / med['pytest_s']:.0f} % of the pytest session.",
        "",
        "| run | exit | scenarios | exchanges | wall s | CPU s | pytest session s | in scenarios s "
        "| in exchanges s | exchanges / wall |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, r in enumerate(runs, 1):
        lines.append(f"| {n} | {r['exit']} | {r['scenarios']} | {r['exchanges']} | {r['wall_s']:.2f} | "
                     f"{r['cpu_s']:.2f} | "
                     f"{r['pytest_s']:.2f} | {r['scenarios_s']:.2f} | {r['exchanges_s']:.2f} | "
                     f"{100 * r['exchanges_s'] / r['wall_s']:.0f} % |")
    lines += [
        f"| median | | | | {med['wall_s']:.2f} | {med['cpu_s']:.2f} | {med['pytest_s']:.2f} | {med['scenarios_s']:.2f} | "
        f"{med['exchanges_s']:.2f} | {100 * med['exchanges_s'] / med['wall_s']:.0f} % |",
        "",
        "Where the rest goes (medians):",
        "",
        f"- outside the pytest session (runner start-up, mock start, child interpreter and imports, report "
        f"files): {med['wall_s'] - med['pytest_s']:.2f} s; a bare `python -m pytest --version` alone costs "
        f"{startup:.2f} s here",
        f"- collecting the suite (no request) takes {collect[1]:.2f} s in a process whose only third-party "
        f"plugin is pytest-bdd, as in the runner's child, against {collect[0]:.2f} s with every installed "
        "pytest plugin auto-loaded (hypothesis, schemathesis, anyio...)",
        f"- inside the session but outside scenarios (collection, plugins, fixtures at session scope): "
        f"{med['pytest_s'] - med['scenarios_s']:.2f} s",
        f"- inside scenarios but outside HTTP exchanges (steps, checks, evidence recording): "
        f"{med['scenarios_s'] - med['exchanges_s']:.2f} s",
        "",
        "An exchange's time is the client's own measure (request sent to answer read), so it includes the "
        "mock's work on the other side of the loopback socket.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tags", default="api", help="scenario selection (default: the whole API suite)")
    parser.add_argument("--depths", default="quick,standard,thorough", help="the --depth values to measure")
    parser.add_argument("--runs-thorough", type=int, default=1, help="runs at depth thorough (slow)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-suite.md")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    one_run(args.tags)  # warm-up: file system caches
    depths = [d.strip() for d in args.depths.split(",") if d.strip()]
    by_depth = {d: [one_run(args.tags, d) for _ in range(args.runs_thorough if d == "thorough" else args.runs)]
                for d in depths}
    runs = by_depth.get(DEFAULT_DEPTH) or [one_run(args.tags) for _ in range(args.runs)]
    text = render(runs, tags=args.tags, startup=pytest_startup(), load=load,
                  collect=(collection(autoload=True), collection(autoload=False)), by_depth=by_depth)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
