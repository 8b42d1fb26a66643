"""``make bench``: every mock benchmark, then bench/RESULTS.md rewritten with the machine's description.

Parts: load (create/read/search at 1, 8, 32, 128 connections on granian, gunicorn, waitress and a
bare Flask app, side by side), threads per granian worker, start-up time to the first answer,
scale (10^4..10^6 stored messages), and a profile of create. Nothing here is
asserted: the numbers are reported, with the project's aims beside them.
Options: ``--quick`` (shorter runs, scale up to 10^5) for trying the scripts out.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpu_create  # noqa: E402
import load  # noqa: E402
import profile_create  # noqa: E402
import scale  # noqa: E402
import threads  # noqa: E402
from common import BENCH, ensure_wrk, load_average, machine  # noqa: E402

RESULTS = BENCH / "RESULTS.md"
AIM_RATIO, AIM_P99_MS, AIM_SCALE = 0.5, 25.0, 2.0


def startup(runs: int = 5) -> list[float]:
    """Seconds from spawning ``serve`` on a fresh database to its first answered request."""
    times = []
    with tempfile.TemporaryDirectory(prefix="canvas-startup-") as folder:
        for n in range(runs):
            seconds, server = scale.first_answer_seconds(str(Path(folder) / f"start-{n}.sqlite3"))
            server.stop()
            times.append(seconds)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, scale up to 10^5 (not for RESULTS.md)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    ensure_wrk()
    began = time.monotonic()
    seconds = 1 if args.quick else 2
    print("machine ...", flush=True)
    box = machine()
    print("load: create, read, search at 1/8/32/128 connections, four servers side by side ...", flush=True)
    loads = load.run(seconds=seconds)
    print("start-up ...", flush=True)
    starts = startup()
    print("scale: bulk loads and queries ...", flush=True)
    scales = scale.run(sizes=scale.SIZES[:2] if args.quick else scale.SIZES, seconds=1 if args.quick else 2)
    print("profile of create ...", flush=True)
    profile = profile_create.run(creates=500 if args.quick else profile_create.CREATES)
    print("CPU per create, read and search in-process ...", flush=True)
    cpu = cpu_create.run(creates=500 if args.quick else 2_000)
    print("threads per granian worker at 32 connections ...", flush=True)
    by_threads = threads.run(seconds=seconds)
    text = render(box, loads, starts, scales, profile, time.monotonic() - began, quick=args.quick,
                  cpu=cpu, by_threads=by_threads)
    args.out.write_text(text)
    print(f"wrote {args.out} in {time.monotonic() - began:.0f} s")
    return 0


def _ms(value: float) -> str:
    return f"{value:.2f}"


def render(box, loads, starts, scales, profile, elapsed, *, quick, cpu, by_threads) -> str:
    lines = [
        "# Mock server benchmarks",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand. Numbers are measurements on the machine",
        "below, never asserted in tests. wrk runs on the same machine as the servers (loopback), so on a small",
        "box the load generator and the server share the cores: that holds for every server alike."
        + (" **Quick run: shorter and smaller than `make bench`.**" if quick else ""),
        "",
        "## Machine",
        "",
        f"- date: {box['date']}; whole run: {elapsed:.0f} s",
        f"- cores: {box['cores']} ({box['cpu']}); memory: {box['memory_gib']} GiB",
        f"- Python {box['python']}, SQLite {box['sqlite']}, {box['os']}; {box['wrk']}",
        f"- load average (1/5/15 min) before the run: {box['load']}; after: {load_average()} "
        "(anything above 0 is other work competing with the benchmark; above the 2 cores, every figure",
        "  is mostly a measure of that competition: compare servers within this run, not across runs)",
        "",
        "## Servers side by side (wrk, keep-alive, one wrk thread)",
        "",
        "All four servers were up at once and measured in turns within each endpoint and connection count,",
        "so drift in the box's load touches them alike. requests/s, p99 latency in ms, errors (non-2xx",
        "answers + socket errors), and server CPU: user + system CPU of the server and all its worker",
        "processes per answered request (it moves far less with other work on the box than requests/s).",
        "",
        "- **granian**: the mock as `canvas-conformance serve` runs it: granian, "
        "one worker process per core, 4 threads each, one SQLite WAL file, access log on (to /dev/null);",
        "- **gunicorn**: the mock's own app under gunicorn, 3 sync workers, same database set-up;",
        "- **waitress**: the mock as `serve` ran it before (`--server waitress`, one process, 8 threads);",
        "- **bare Flask**: bench/bare_flask.py, a Flask app whose views do nothing, on serve's very granian",
        "  settings and workers: the most any Flask app reaches on that server here.",
        "",
    ]
    servers = [s for s in load.SERVERS]
    for endpoint in load.ENDPOINTS:
        by_server = loads[endpoint]
        lines += [f"### {endpoint}", "",
                  "| connections | " + " | ".join(f"{s} req/s | p99 ms | err | CPU µs" for s in servers) + " |",
                  "|---:|" + "---:|---:|---:|---:|" * len(servers)]
        for conn in load.CONNECTIONS:
            cells = []
            for server in servers:
                r = by_server[server].get(conn)
                if r is None:
                    cells.append("- | - | - | -")
                    continue
                cells.append(f"{r['rps']:.0f} | {_ms(r['p99_ms'])} | {r['errors_status'] + r['errors_socket']} | "
                             f"{r['server_cpu_us']:.0f}")
            lines.append(f"| {conn} | " + " | ".join(cells) + " |")
        lines.append("")
    stored = loads.get("_stored", {})
    lines += [f"Messages stored by the create runs: " + ", ".join(f"{k} {v:,}" for k, v in stored.items()) + ".", "",
              "### Ratios to the ceiling (the mock's requests/s over bare Flask's on the same server)", "",
              "| endpoint | " + " | ".join(f"{c} conn. granian | {c} conn. waitress" for c in load.CONNECTIONS) + " |",
              "|---|" + "---:|---:|" * len(load.CONNECTIONS)]
    for endpoint in load.ENDPOINTS:
        cells = []
        for conn in load.CONNECTIONS:
            bare = loads[endpoint]["bare Flask"].get(conn)
            for server in ("granian", "waitress"):
                mock = loads[endpoint][server].get(conn)
                cells.append(f"{mock['rps'] / bare['rps']:.2f}" if mock and bare and bare["rps"] else "-")
        lines.append(f"| {endpoint} | " + " | ".join(cells) + " |")
    lines += ["", "bare Flask runs on granian with serve's settings (its waitress column compares the mock on",
              "waitress with that same granian ceiling).", "",
              "### The aims at 32 connections (granian, the chosen server)", "",
              f"| measure | granian | aim |", "|---|---:|---|"]
    for endpoint in load.ENDPOINTS:
        mock, bare = loads[endpoint]["granian"].get(32), loads[endpoint]["bare Flask"].get(32)
        if mock and bare:
            lines.append(f"| {endpoint}: mock / bare Flask on granian | {mock['rps'] / bare['rps']:.2f} | >= {AIM_RATIO} |")
    create32 = loads["create"]["granian"].get(32)
    if create32:
        lines.append(f"| create p99 ms | {_ms(create32['p99_ms'])} | < {AIM_P99_MS:.0f} |")
        for endpoint in load.ENDPOINTS[1:]:
            mock, bare = loads[endpoint]["granian"].get(32), loads[endpoint]["bare Flask"].get(32)
            if mock and bare:
                lines.append(f"| {endpoint} p99 ms (bare Flask: {_ms(bare['p99_ms'])}) | {_ms(mock['p99_ms'])} | "
                             f"< {AIM_P99_MS:.0f}, as create |")
        errors = sum(loads[e]["granian"][c]["errors_status"] + loads[e]["granian"][c]["errors_socket"]
                     for e in load.ENDPOINTS for c in loads[e]["granian"])
        lines.append(f"| errors, every granian run | {errors} | 0 |")
    lines += [
        "",
        "## Threads per granian worker (create, 32 connections)",
        "",
        "| threads | requests/s | p50 ms | p99 ms | server CPU µs/request |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {count} | {r['rps']:.0f} | {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | {r['server_cpu_us']:.0f} |"
              for count, r in by_threads.items()]
    lines += [
        "",
        "Under the GIL one thread per worker runs Python at a time; threads let a request that waits (the",
        "write lock, an injected latency fault) not hold up the others. `serve --threads` defaults to 4.",
        "",
        "## Where a create's time goes",
        "",
        f"The app alone (called in-process, no sockets, no server): **{cpu['best_us']:.0f} µs CPU per create** "
        "(bench/cpu_create.py; the same app code every server above runs). Under wrk the granian workers spend "
        f"{loads['create']['granian'][1]['server_cpu_us']:.0f} µs CPU per create at one connection against "
        f"{loads['create']['bare Flask'][1]['server_cpu_us']:.0f} µs for the bare Flask app.",
        "",
        "CPU µs per request, best of the rounds (in-process: the app called with prepared environs; "
        "granian: the server's workers under wrk, from the tables above):",
        "",
        "| request | mock in-process | bare Flask in-process | mock on granian, 1 / 32 conn. | "
        "bare Flask on granian, 1 / 32 conn. |",
        "|---|---:|---:|---:|---:|",
        *[f"| {kind} | {cpu['mock'][kind]['best_us']:.0f} | {cpu['bare'][kind]['best_us']:.0f} | "
          f"{loads[endpoint]['granian'][1]['server_cpu_us']:.0f} / {loads[endpoint]['granian'][32]['server_cpu_us']:.0f} | "
          f"{loads[endpoint]['bare Flask'][1]['server_cpu_us']:.0f} / "
          f"{loads[endpoint]['bare Flask'][32]['server_cpu_us']:.0f} |"
          for kind, endpoint in zip(cpu_create.KINDS, load.ENDPOINTS)],
        "",
        f"pyinstrument samples of {profile['creates']} creates ({profile['per_create_us']:.0f} µs",
        "wall per create with the profiler's own overhead), grouped by the part of the mock they fall in:",
        "",
        "| share | part |",
        "|---:|---|",
    ]
    lines += [f"| {share:.0%} | {label} |" for label, share in profile["shares"]]
    lines += [
        "",
        "Reading it: create, read and search skip Flask's dispatch (mock_server/fastpath.py answers them as",
        "Flask does, byte for byte), so what remains of a create is mostly the SQLite commit (WAL page writes",
        "for the table, four indexes and the search counters: about 17 pwrite calls a create under strace) and the mock's own",
        "checks; the shared state (clock, fault switch) costs no query",
        "unless some worker changed it (a version counter every worker maps, db._StateVersion). Creates of all workers take turns on one",
        "write lock (a lock file, then SQLite's), so creates scale across workers only as far as the commit",
        "is a small part of a create; reads and searches never wait for it (WAL).",
        "",
        "## Start-up to first answer",
        "",
        f"`canvas-conformance serve` on a fresh database, from spawning the process to the first answered request, "
        f"{len(starts)} runs: median {statistics.median(starts) * 1000:.0f} ms, slowest {max(starts) * 1000:.0f} ms.",
        "",
        "## Scale: stored messages (bulk-loaded into SQLite, not through HTTP)",
        "",
        "1,000 patients, so a patient has 10 messages at 10^4 and 1,000 at 10^6; a third of all messages",
        "come from one practitioner. One connection; p50 / p99 in ms. RSS of the `serve` process and its workers, summed.",
        "",
    ]
    queries = list(scales[0]["queries"])
    header = "| query | " + " | ".join(f"{s['size']:,} p50 / p99" for s in scales) + f" | largest / smallest p50 (aim <= {AIM_SCALE:.0f}) |"
    lines += [header, "|---|" + "---:|" * (len(scales) + 1)]
    for q in queries:
        cells = [f"{_ms(s['queries'][q]['p50_ms'])} / {_ms(s['queries'][q]['p99_ms'])}" for s in scales]
        growth = scales[-1]["queries"][q]["p50_ms"] / max(scales[0]["queries"][q]["p50_ms"], 1e-9)
        lines.append(f"| {q} | " + " | ".join(cells) + f" | {growth:.2f} |")
    lines += ["", "| stored | bulk load s | database MiB | start-up ms | RSS idle MiB | RSS after queries MiB |",
              "|---:|---:|---:|---:|---:|---:|"]
    for s in scales:
        lines.append(f"| {s['size']:,} | {s['load_seconds']} | {s['db_mib']} | {s['startup_seconds'] * 1000:.0f} | "
                     f"{s['rss_idle_mib']} | {s['rss_after_mib']} |")
    lines += [
        "",
        "Indexes and counters that keep this flat (mock_server/db.py): the unique index on `id` (read, `_id`),",
        "`(patient_id, seq)`, `(sender_id, seq)`, `(recipient_id, seq)` for filtered pages in creation order,",
        "and trigger-kept counters for the `total` of a search on one filter (or none), which otherwise",
        "counted every matching row. Paging deep with `_offset` still walks the skipped rows.",
        "",
        "## Profile of create (pyinstrument, top of the tree)",
        "",
        "```",
        *_top_of_tree(profile["tree"]),
        "```",
        "",
    ]
    return "\n".join(lines)


def _top_of_tree(text: str, limit: int = 40) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "_call_all" in line), 0)
    return lines[start:start + limit]


if __name__ == "__main__":
    sys.exit(main())
