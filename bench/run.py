"""``make bench``: every mock benchmark, then bench/RESULTS.md rewritten with the machine's description.

Parts: load (create/read/search at 1, 8, 32 connections beside the ceiling), start-up time to the
first answer, scale (10^4..10^6 stored messages), and a profile of create. Nothing here is
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

import load  # noqa: E402
import profile_create  # noqa: E402
import scale  # noqa: E402
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
    seconds = 1 if args.quick else 3
    print("machine ...", flush=True)
    box = machine()
    print("load: ceiling, create, read, search at 1/8/32 connections ...", flush=True)
    loads = load.run(seconds=seconds)
    print("start-up ...", flush=True)
    starts = startup()
    print("scale: bulk loads and queries ...", flush=True)
    scales = scale.run(sizes=scale.SIZES[:2] if args.quick else scale.SIZES, seconds=1 if args.quick else 2)
    print("profile of create ...", flush=True)
    profile = profile_create.run(creates=500 if args.quick else profile_create.CREATES)
    text = render(box, loads, starts, scales, profile, time.monotonic() - began, quick=args.quick)
    args.out.write_text(text)
    print(f"wrote {args.out} in {time.monotonic() - began:.0f} s")
    return 0


def _ms(value: float) -> str:
    return f"{value:.2f}"


def render(box, loads, starts, scales, profile, elapsed, *, quick) -> str:
    ceiling = loads["ceiling (trivial 201)"]
    create = loads["create"]
    lines = [
        "# Mock server benchmarks",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand. Numbers are measurements on the machine",
        "below, never asserted in tests. wrk runs on the same machine as the server (loopback), so on a small",
        "box the load generator and the server share the cores: that holds for the ceiling and the mock alike."
        + (" **Quick run: shorter and smaller than `make bench`.**" if quick else ""),
        "",
        "## Machine",
        "",
        f"- date: {box['date']}; whole run: {elapsed:.0f} s",
        f"- cores: {box['cores']} ({box['cpu']}); memory: {box['memory_gib']} GiB",
        f"- Python {box['python']}, SQLite {box['sqlite']}, {box['os']}; {box['wrk']}",
        f"- load average (1/5/15 min) before the run: {box['load']}; after: {load_average()} "
        "(anything above 0 is other work competing with the benchmark)",
        "",
        "## Throughput and latency (wrk, keep-alive, one wrk thread; requests/s, p50/p99 in ms)",
        "",
        "The mock is `canvas-conformance serve` on a database file (WAL, `synchronous=NORMAL`), 8 waitress",
        "threads. The ceiling is bench/ceiling.py: a WSGI app that reads the body and answers 201, on the same",
        "`mock_server.serve.make_server` settings. Search is `patient=<the fixture patient>&_count=10`, run after",
        "the create runs, so it pages over the thousands of messages they stored.",
        "",
        "| endpoint | connections | requests/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, by_conn in loads.items():
        if name.startswith("_"):
            continue
        for conn, r in by_conn.items():
            lines.append(f"| {name} | {conn} | {r['rps']:.0f} | {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | "
                         f"{r['errors_status'] + r['errors_socket']} |")
    lines += ["", f"Messages stored by the create runs: {loads['_stored_after']}.", "",
              "### Create against the ceiling", "",
              f"| connections | create / ceiling (aim >= {AIM_RATIO}) | create p99 ms (aim < {AIM_P99_MS:.0f} at 32) |",
              "|---:|---:|---:|"]
    for conn in create:
        ratio = create[conn]["rps"] / ceiling[conn]["rps"]
        lines.append(f"| {conn} | {ratio:.2f} | {_ms(create[conn]['p99_ms'])} |")
    lines += [
        "",
        "## Where a create's time goes",
        "",
        f"The app alone (called in-process, no sockets): **{profile['per_create_us']:.0f} µs per create**, against "
        f"{1e6 / ceiling[1]['rps']:.0f} µs per request for the whole ceiling at one connection. pyinstrument samples of "
        f"{profile['creates']} creates, grouped by the part of the mock they fall in:",
        "",
        "| share | part |",
        "|---:|---|",
    ]
    lines += [f"| {share:.0%} | {label} |" for label, share in profile["shares"]]
    lines += [
        "",
        "Reading it: the ceiling does nothing per request, so the ratio compares the mock's whole request",
        "(Flask's request/response machinery, JSON Schema validation, the SQLite commit) with waitress alone.",
        "Everything runs under one GIL: the server's threads take turns on one core while wrk uses the other,",
        "so more threads or connections add queueing, not throughput. Several `serve` processes on one",
        "database file do scale across cores (tests/robust/test_concurrency.py shows they stay correct).",
        "",
        "## Start-up to first answer",
        "",
        f"`canvas-conformance serve` on a fresh database, from spawning the process to the first answered request, "
        f"{len(starts)} runs: median {statistics.median(starts) * 1000:.0f} ms, slowest {max(starts) * 1000:.0f} ms.",
        "",
        "## Scale: stored messages (bulk-loaded into SQLite, not through HTTP)",
        "",
        "1,000 patients, so a patient has 10 messages at 10^4 and 1,000 at 10^6; a third of all messages",
        "come from one practitioner. One connection; p50 / p99 in ms. RSS of the `serve` process.",
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
