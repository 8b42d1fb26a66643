"""The mutation corpus's catch table: every breakage run against the whole API suite.

``python -m tests.suite.catch_table`` serves each breakage of corpus.py (and each allowed
variation) on a loopback port, runs every API scenario against it in this process, and prints
a Markdown table: breakage, rule, caught (by which scenario), other rules touched. ``--only
TEXT`` keeps the entries whose rule or name contains TEXT; ``--awaiting`` includes the
breakages that wait for explored scenarios.

``--from FILE`` prints the table from the verdicts a run of test_misbehaving.py recorded (with
``CATCH_TABLE_RECORD=FILE`` set), without running anything again.

``judge`` is the one reading of a run, shared with test_misbehaving.py and test_variations.py.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
STEPS = ROOT / "steps"


class Verdict(NamedTuple):
    """What one whole-suite run says about one rule."""

    caught: list[str]  # the rule's scenarios that failed with a message naming the rule
    own: dict[str, str]  # the rule's scenario -> status
    others: dict[str, dict[str, str]]  # other rule -> {scenario: status} for every status but passed/skipped
    messages: dict[str, str]  # scenario -> message, for every row not passed


def judge(rows: list[dict], rule: str | None) -> Verdict:
    """Read one run's rows for ``rule`` (None: no rule is broken, every row is "other")."""
    caught, own, others, messages = [], {}, {}, {}
    for row in rows:
        if row["status"] != "passed":
            messages[row["name"]] = row.get("message") or ""
        if rule is not None and rule in row["rules"]:
            own[row["name"]] = row["status"]
            if row["status"] == "failed" and (row.get("message") or "").startswith(f"[{rule}]"):
                caught.append(row["name"])
        elif row["status"] not in ("passed", "skipped"):
            for other in row["rules"]:
                others.setdefault(other, {})[row["name"]] = row["status"]
    return Verdict(caught, own, others, messages)


def touched(verdict: Verdict) -> dict[str, set[str]]:
    """Other rule -> the statuses its scenarios ended with (failed/error)."""
    return {rule: set(found.values()) for rule, found in sorted(verdict.others.items())}


RECORD = "CATCH_TABLE_RECORD"  # a file the corpus test appends each breakage's verdict to (JSON lines)


def record(breakage, verdict: Verdict) -> None:
    """Append the verdict to the file $CATCH_TABLE_RECORD names, so ``--from`` prints the table of a test run."""
    path = os.environ.get(RECORD)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"rule": breakage.rule, "name": breakage.name, **verdict._asdict()}) + "\n")


# -- running outside pytest's fixtures (the script) -----------------------------------------------
def run_api_suite(twist) -> tuple[list[dict], float]:
    """Serve the mock with ``twist`` installed, run every API scenario against it, return the rows."""
    from mock_server import create_app
    from mock_server.serve import start_in_thread
    import pytest

    app = create_app({"DATABASE": ":memory:", "CLIENT_SECRET": secrets.token_urlsafe(24), **twist.config})
    twist.install(app)
    server = start_in_thread(app)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as folder:
            results = Path(folder) / "results.json"
            saved = {k: v for k, v in os.environ.items() if k.startswith("CANVAS_")}
            for name in saved:
                del os.environ[name]
            os.environ.update({"CANVAS_BASE_URL": server.base_url, "CANVAS_CLIENT_ID": app.config["CLIENT_ID"],
                               "CANVAS_CLIENT_SECRET": app.config["CLIENT_SECRET"], "CANVAS_TIMEOUT": "10",
                               "CANVAS_RESULTS_FILE": str(results)})
            before = set(sys.modules)
            try:
                pytest.main([str(STEPS), "-p", "canvas_conformance.results_plugin", "-p", "no:cacheprovider",
                             "-q", "--no-header", "-rN", "--tb=no", "-m", "api", "--capture=sys"])
            finally:
                for name in set(sys.modules) - before:
                    if name == "steps" or name.startswith("steps."):
                        del sys.modules[name]
                for name in [k for k in os.environ if k.startswith("CANVAS_")]:
                    del os.environ[name]
                os.environ.update(saved)
            rows = json.loads(results.read_text(encoding="utf-8"))["scenarios"] if results.exists() else []
    finally:
        server.stop()
    return rows, time.monotonic() - started


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.suite.catch_table", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="entries whose rule or name contains this text")
    parser.add_argument("--awaiting", action="store_true", help="include breakages awaiting explored scenarios")
    parser.add_argument("--no-variations", action="store_true")
    parser.add_argument("--from", dest="recorded", metavar="FILE",
                        help=f"print the table from the verdicts a test run recorded (${RECORD}) instead of running")
    parser.add_argument("--legacy", action="store_true", help="include twists.MISBEHAVIOURS")
    args = parser.parse_args(argv)
    from .corpus import CORPUS, CREATING, NEW, VARIANTS

    recorded = {}
    if args.recorded:
        for line in Path(args.recorded).read_text(encoding="utf-8").splitlines():
            found = json.loads(line)
            key = (found.pop("rule"), found.pop("name"))
            recorded[key] = Verdict(**found)
    lines = ["| breakage | rule | caught | other rules touched |", "|---|---|---|---|"]
    missed = 0
    total_time = 0.0
    for entry in CORPUS if args.legacy else NEW:
        if args.only and args.only not in entry.rule and args.only not in entry.name:
            continue
        if entry.awaits and not args.awaiting:
            lines.append(f"| {_cell(entry.name)}: {_cell(entry.description)} | {entry.rule} | "
                         f"not yet: awaits the {entry.awaits} scenarios | |")
            continue
        if args.recorded:
            verdict = recorded.get((entry.rule, entry.name))
            if verdict is None:
                lines.append(f"| {_cell(entry.name)}: {_cell(entry.description)} | {entry.rule} | not recorded | |")
                continue
        else:
            rows, took = run_api_suite(entry.twist)
            total_time += took
            verdict = judge(rows, entry.rule)
            print(f"{entry.rule} {entry.name}: {took:.1f} s", file=sys.stderr)
        caught = f"yes: {'; '.join(verdict.caught)}" if verdict.caught else \
            "NO (" + ", ".join(f"{n}: {s}" for n, s in verdict.own.items()) + ")"
        missed += not verdict.caught
        others = ", ".join(f"{r} ({'/'.join(sorted(s))})" for r, s in touched(verdict).items()) or "none"
        if set(verdict.others) == CREATING:
            statuses = "/".join(sorted(set().union(*touched(verdict).values())))
            others = f"the {len(CREATING)} rules whose scenarios create a message ({statuses}: stopped at the create)"
        lines.append(f"| {_cell(entry.name)}: {_cell(entry.description)} | {entry.rule} | {_cell(caught)} | "
                     f"{_cell(others)} |")
    if not args.no_variations and not args.recorded:
        lines += ["", "| allowed variation | rules not passed |", "|---|---|"]
        for variant in VARIANTS:
            if args.only and args.only not in variant.name:
                continue
            rows, took = run_api_suite(variant)
            total_time += took
            bad = sorted({f"{r['name']}: {r['status']}" for r in rows if r["status"] not in ("passed", "skipped")})
            lines.append(f"| {_cell(variant.name)} | {_cell('; '.join(bad)) or 'none (every rule passed)'} |")
    print("\n".join(lines))
    print(f"\n{total_time:.1f} s of suite runs", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
