"""Wall time of the whole API suite: against the embedded mock at each --depth, and at 0/100 ms x 1-16 workers.

Usage: .venv/bin/python bench/suite_walltime.py [--runs N] [--thorough-runs N] [--matrix-runs N] [--tags EXPR]
       [--out bench/RESULTS-suite.md]

Each run is the real command, ``canvas-conformance run --tags api -q --depth D`` in a fresh
process (embedded mock, child pytest, every report file), timed from outside, with the CPU
seconds of the runner and the suite process. The depths are measured in turns (quick,
standard, thorough, quick, ...), so drift in the machine's load touches them alike. From each
run's results.json it adds up the time spent inside scenarios and inside HTTP exchanges (the
client's ``duration_ms``), and from pytest.log the pytest session's own time. The rest is
start-up (interpreters, imports, the mock) and the report. The aim (issue 10): the whole API
suite at the default depth within 5 s on 2 cores.

Then the matrix of issue 12: the same command at 1 to 16 workers (``--workers``), against the
embedded mock (0 ms) and against ``canvas-conformance serve --fault latency:ms=100`` on loopback
(every FHIR request answered 100 ms late, as from a distant sandbox), with the verdicts of each
cell compared to those of the 1-worker run at 0 ms. A scenario's exchanges are sent one after
another whatever the workers, so at 100 ms no run can take less than its longest scenario's
exchanges times 100 ms; the table says that floor.

Numbers are written to bench/RESULTS-suite.md; nothing here asserts a timing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIM_S = 5.0  # issue 10: the API suite at the default depth against the embedded mock
DEPTHS = ("quick", "standard", "thorough")
DEFAULT_DEPTH = "standard"
LATENT_AIM_S = 8.0  # issue 12: the API suite against a target 100 ms away
# (latency ms, workers, explored cases sent at once); the last is the default for a target off this machine
MATRIX = [(0, 1, 1), (0, 2, 1), (0, 8, 1), (100, 1, 1), (100, 8, 1), (100, 1, 4), (100, 8, 4), (100, 16, 4)]


def one_run(tags: str, *, depth: str = DEFAULT_DEPTH, workers: int | None = None, target: dict | None = None,
            at_once: int | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="canvas-bench-") as tmp:
        report = Path(tmp) / "report"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
        command = [sys.executable, "-m", "canvas_conformance", "run", "--tags", tags, "-q", "--depth", depth,
                   "--report-dir", str(report)]
        if workers is not None:
            command += ["--workers", str(workers)]
        if at_once is not None:
            command += ["--cases-at-once", str(at_once)]
        if target is not None:
            command += ["--base-url", target["base_url"], "--client-id", target["client_id"]]
            env["CANVAS_CLIENT_SECRET"] = target["client_secret"]
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
        "longest": max((len(s.get("exchanges") or ()) for s in scenarios), default=0),
        "failed": sum(1 for s in scenarios if s["status"] in ("failed", "error")),
        "verdicts": {s["nodeid"]: s["status"] for s in scenarios},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LatentMock:
    """``canvas-conformance serve`` on a free loopback port, every request answered ``ms`` late."""

    def __init__(self, ms: int) -> None:
        self.port = free_port()
        self.secret = secrets.token_urlsafe(16)
        command = [sys.executable, "-m", "canvas_conformance", "serve", "--port", str(self.port), "--db", ":memory:",
                   "--client-secret", self.secret, "--threads", "32", "--fault", f"latency:ms={ms}"]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60  # a busy box starts it slowly
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metadata", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("canvas-conformance serve did not answer within 60 s")

    def target(self) -> dict:
        return {"base_url": f"http://127.0.0.1:{self.port}", "client_id": "conformance-client",
                "client_secret": self.secret}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def matrix(tags: str, runs: int) -> list[dict]:
    """Every (latency, workers) cell ``runs`` times; each cell's median and its verdicts."""
    cells = []
    for latency, workers, at_once in MATRIX:
        mock = LatentMock(latency) if latency else None
        try:
            target = mock.target() if mock else None
            measured = [one_run(tags, workers=workers, target=target, at_once=at_once) for _ in range(runs)]
        finally:
            if mock:
                mock.stop()
        cells.append({"latency_ms": latency, "workers": workers, "at_once": at_once, "runs": measured,
                      "wall_s": statistics.median(r["wall_s"] for r in measured),
                      "cpu_s": statistics.median(r["cpu_s"] for r in measured)})
    return cells


def render_matrix(cells: list[dict], *, tags: str, loads: tuple[tuple, tuple]) -> str:
    reference = cells[0]["runs"][0]["verdicts"]
    lines = [
        "## 0 and 100 ms latency, 1 to 16 workers, 1 and 4 explored cases at once",
        "",
        f"Command: `canvas-conformance run --tags {tags!r} -q --workers N --cases-at-once C` (default depth), "
        "against the embedded "
        "mock (0 ms) or against `canvas-conformance serve --db :memory: --threads 32 --fault latency:ms=100` on "
        f"loopback (100 ms: every FHIR request answered late, as from a distant sandbox), {len(cells[0]['runs'])} "
        f"run(s) a cell, right after the depth runs. Load average at the start {_load_text(loads[0])}, at the end "
        f"{_load_text(loads[1])}. Aim at 100 ms: {LATENT_AIM_S:.0f} s (16 workers, 4 cases at once is the default "
        "for a target that is not on this machine; 2 workers, 1 case at a time on loopback).",
        "",
        "| latency | workers | cases at once | wall s (median) | CPU s | runs' wall s | exchanges "
        "| longest scenario's exchanges | failed or error | verdicts as at 0 ms, 1 worker |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cell in cells:
        last = cell["runs"][-1]
        same = all(r["verdicts"] == reference for r in cell["runs"])
        lines.append(f"| {cell['latency_ms']} ms | {cell['workers']} | {cell['at_once']} | {cell['wall_s']:.2f} | "
                     f"{cell['cpu_s']:.2f} | " + ", ".join(f"{r['wall_s']:.2f}" for r in cell["runs"])
                     + f" | {last['exchanges']} | {last['longest']} | {last['failed']} | "
                     f"{'yes' if same else 'NO'} |")
    cpu = {(c["latency_ms"], c["workers"], c["at_once"]): c["cpu_s"] for c in cells}
    extra = (cpu[(100, 8, 1)] - cpu[(100, 1, 1)]) / 7
    lines += [
        "",
        "With one case at a time a scenario's exchanges go one after another whatever the number of workers, so a "
        "run cannot end before its longest scenario has waited out the latency once per exchange; with cases sent "
        "at once (``--cases-at-once``) an explored scenario's cases overlap too. The number of exchanges grows "
        "from run to run at 100 ms: the served mock keeps the messages of the runs before, so more searches read "
        "a last page. CPU seconds (the runner and the suite processes; at 0 ms the embedded mock in "
        "the runner too, at 100 ms not the served mock) depend less on the load than wall time: each worker "
        f"beyond the first costs about {extra:.1f} s of CPU at 100 ms (a fork of the suite's process after "
        "collection: its own client and token, and its reports serialized to the controller and read there)."
        + (" The load average was above the core count: the wall times here are inflated by other work and only "
           "the CPU seconds and the verdicts compare." if _busy(*loads) else ""),
        "",
    ]
    return "\n".join(lines)


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


def _load_text(load: tuple[float, float, float]) -> str:
    return f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"


def _busy(*loads: tuple[float, float, float]) -> bool:
    return any(load[0] > (os.cpu_count() or 1) for load in loads)


def render(by_depth: dict[str, list[dict]], *, tags: str, startup: float, loads: tuple[tuple, tuple],
           collect: tuple[float, float]) -> str:
    """The per-depth table, then where the default depth's time goes."""
    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    runs = by_depth[DEFAULT_DEPTH]
    m = {k: med(runs, k) for k in ("wall_s", "cpu_s", "pytest_s", "scenarios_s", "exchanges_s")}
    verdict = "within" if m["wall_s"] <= AIM_S else "OVER"
    lines = [
        "# Suite wall time",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `bench/suite_walltime.py` on "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}. "
        f"Load average (1/5/15 min) at the start of the depth runs {_load_text(loads[0])}, at their end "
        f"{_load_text(loads[1])}"
        + ("; above the core count: other work competed for the CPUs, so wall times are inflated and the CPU "
           "seconds compare better." if _busy(*loads) else "."),
        "",
        "## The API suite against the embedded mock, at each depth",
        "",
        f"Command: `canvas-conformance run --tags {tags!r} -q --depth D` (embedded mock, child pytest, every "
        "report file), after one warm-up run; the depths measured in turns. CPU: the runner (with the mock in "
        "its thread) and the suite process together.",
        "",
        "| depth | runs | wall s (median) | CPU s | runs' wall s | pytest session s | in exchanges s | scenarios "
        "| exchanges | longest scenario's exchanges | failed or error | verdicts as at the default |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    reference = runs[0]["verdicts"]
    for depth in DEPTHS:
        done = by_depth.get(depth) or []
        if not done:
            continue
        last = done[-1]
        same = all(r["verdicts"] == reference for r in done)
        lines.append(f"| {depth}{' (default)' if depth == DEFAULT_DEPTH else ''} | {len(done)} | "
                     f"{med(done, 'wall_s'):.2f} | {med(done, 'cpu_s'):.2f} | "
                     + ", ".join(f"{r['wall_s']:.2f}" for r in done)
                     + f" | {med(done, 'pytest_s'):.2f} | {med(done, 'exchanges_s'):.2f} | {last['scenarios']} | "
                     f"{last['exchanges']} | {last['longest']} | {last['failed']} | {'yes' if same else 'NO'} |")
    lines += [
        "",
        f"**Default depth ({DEFAULT_DEPTH}): median wall time {m['wall_s']:.2f} s, {verdict} the {AIM_S:.0f} s aim.** "
        f"Time inside HTTP exchanges, added up over the default's workers (which run at once): "
        f"{m['exchanges_s']:.2f} s, in a pytest session of {m['pytest_s']:.2f} s.",
        "",
        "Where the default depth's time goes (medians):",
        "",
        f"- outside the pytest session (runner start-up, mock start, child interpreter and imports, report "
        f"files): {m['wall_s'] - m['pytest_s']:.2f} s; a bare `python -m pytest --version` alone costs "
        f"{startup:.2f} s here",
        f"- collecting the suite (no request) takes {collect[1]:.2f} s in a process whose only third-party "
        f"plugin is pytest-bdd, as in the runner's child, against {collect[0]:.2f} s with every installed "
        "pytest plugin auto-loaded (hypothesis, schemathesis, anyio...)",
        f"- the pytest session: {m['pytest_s']:.2f} s; its scenarios, added up over the workers: "
        f"{m['scenarios_s']:.2f} s",
        f"- inside scenarios but outside HTTP exchanges (steps, checks, Hypothesis, evidence recording), added "
        f"up: {m['scenarios_s'] - m['exchanges_s']:.2f} s",
        f"- inside HTTP exchanges: {m['exchanges_s']:.2f} s for {runs[-1]['exchanges']} exchanges, "
        f"{1000 * m['exchanges_s'] / max(runs[-1]['exchanges'], 1):.1f} ms each (the client's own measure, "
        "request sent to answer read, so it includes the mock's work on the other side of the loopback socket)",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs at depth quick and standard")
    parser.add_argument("--thorough-runs", type=int, default=1, help="runs at depth thorough (minutes each); 0: none")
    parser.add_argument("--matrix-runs", type=int, default=1, help="runs per (latency, workers) cell; 0: none")
    parser.add_argument("--tags", default="api", help="scenario selection (default: the whole API suite)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-suite.md")
    args = parser.parse_args(argv)
    start_load = os.getloadavg()
    one_run(args.tags)  # warm-up: file system caches
    if not (args.runs or args.thorough_runs):  # the matrix alone: the depth part of the file is kept
        old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        kept = old.split("\n## 0 and 100 ms latency")[0]
        load = os.getloadavg()
        text = kept + "\n" + render_matrix(matrix(args.tags, args.matrix_runs or 1), tags=args.tags,
                                          loads=(load, os.getloadavg()))
        args.out.write_text(text, encoding="utf-8")
        print(text)
        return 0
    by_depth: dict[str, list[dict]] = {depth: [] for depth in DEPTHS}
    for turn in range(max(args.runs, args.thorough_runs)):
        for depth in DEPTHS:
            wanted = args.thorough_runs if depth == "thorough" else args.runs
            if turn < wanted:
                by_depth[depth].append(one_run(args.tags, depth=depth))
    text = render(by_depth, tags=args.tags, startup=pytest_startup(), loads=(start_load, os.getloadavg()),
                  collect=(collection(autoload=True), collection(autoload=False)))
    if args.matrix_runs:
        load = os.getloadavg()
        cells = matrix(args.tags, args.matrix_runs)
        text += "\n" + render_matrix(cells, tags=args.tags, loads=(load, os.getloadavg()))
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
