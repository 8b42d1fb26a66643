"""The mutation corpus's catch table: every breakage run against the whole API suite.

``python -m tests.suite.catch_table`` serves each breakage of corpus.py (and each allowed
variation) on a loopback port, runs every API scenario against it in this process, and prints
a Markdown table: breakage, rule, caught (by which scenario), other rules touched. ``--only
TEXT`` keeps the entries whose rule or name contains TEXT; ``--awaiting`` includes the
breakages that wait for explored scenarios.

``--from FILE`` prints the table from the verdicts a run of test_misbehaving.py and test_variations.py recorded (with
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


def profile_of(twist) -> str:
    from .corpus_current import profile_of as of

    return of(twist)


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
    _append({"rule": breakage.rule, "name": breakage.name, **verdict._asdict()})


def record_variant(variant, verdict: Verdict) -> None:
    """The same for an allowed variant (``rule`` None: every row counts as another rule's)."""
    _append({"variant": variant.name, **verdict._asdict()})


def _append(line: dict) -> None:
    path = os.environ.get(RECORD)
    if path:  # one short line per write, appended: several xdist workers may share the file
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


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
                               "CANVAS_RESULTS_FILE": str(results), "CANVAS_PROFILE": profile_of(twist)})
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
    return text.replace("|", "\\|").replace("\n", " ")


# -- cases per rule at each depth -------------------------------------------------------------------
def cases_per_depth(seed: int | None = None) -> dict[str, dict[str, int]]:
    """rule -> depth -> how many generated cases the rule's explored scenario runs against a target that
    keeps the rule (and has two people of each kind, so no case is left out): Hypothesis's draws for the
    rule's case strategy with the run's seed, counted with a check that holds for every case. A strategy
    with few distinct cases (RCPT-1: 3 shapes x 2 directions) stops before the depth's number."""
    from canvas_conformance import explore

    seed = explore.DEFAULT_SEED if seed is None else seed
    counts: dict[str, dict[str, int]] = {}
    for rule in explore.dimensions():
        for depth, (examples, shrink) in explore.DEPTHS.items():
            outcome = explore.falsify(explore.case_strategy(rule), lambda case: None, examples=examples, seed=seed,
                                      shrink_budget=shrink, first=explore.boundary_cases(rule))
            counts.setdefault(rule, {})[depth] = outcome.cases
    return counts


def cases_table(seed: int | None = None) -> list[str]:
    from canvas_conformance import explore

    counts = cases_per_depth(seed)
    depths = list(explore.DEPTHS)
    lines = ["| rule | dimensions | " + " | ".join(f"{d} (up to {explore.DEPTHS[d][0]})" for d in depths) + " |",
             "|---|---|" + "---:|" * len(depths)]
    for rule, by_depth in counts.items():
        names = ", ".join(d.name for d in explore.dimensions()[rule])
        lines.append(f"| {rule} | {names} | " + " | ".join(str(by_depth[d]) for d in depths) + " |")
    lines.append("| all | | " + " | ".join(str(sum(c[d] for c in counts.values())) for d in depths) + " |")
    return lines


# -- the table ------------------------------------------------------------------------------------
def _read_records(path: str) -> tuple[dict, dict]:
    breakages, variants = {}, {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        found = json.loads(line)
        if "variant" in found:
            name = found.pop("variant")
            variants[name] = Verdict(**found)
        else:
            key = (found.pop("rule"), found.pop("name"))
            breakages[key] = Verdict(**found)
    return breakages, variants


def _others(verdict: Verdict, declared: frozenset, creating: frozenset) -> str:
    found = touched(verdict)
    statuses = "/".join(sorted(set().union(*found.values()))) if found else ""
    if set(verdict.others) == creating and creating:
        text = f"the {len(creating)} rules whose scenarios create a message ({statuses}: stopped at the create)"
    else:
        text = ", ".join(f"{r} ({'/'.join(sorted(s))})" for r, s in found.items()) or "none"
    if set(verdict.others) != set(declared):
        text += f" (declared: {', '.join(sorted(declared)) or 'none'})"
    return text


def table(entries, variants, *, recorded: tuple[dict, dict] | None, only: str = "",
          awaiting: bool = False) -> tuple[list[str], dict[str, int]]:
    """The Markdown lines of the catch table and the variants' table, and what they add up to."""
    from .corpus import CREATING

    breakages, variant_verdicts = recorded if recorded is not None else ({}, {})
    lines = ["| breakage | rule (profile) | caught | other rules touched |", "|---|---|---|---|"]
    sums = {"breakages": 0, "caught alone": 0, "caught, declared others": 0, "caught, undeclared others": 0,
            "not caught": 0, "not run": 0, "awaiting": 0, "variants": 0, "variants passed": 0}
    for entry in entries:
        if only and only not in entry.rule and only not in entry.name:
            continue
        sums["breakages"] += 1
        head = f"| {_cell(entry.name)}: {_cell(entry.description)} | {entry.rule} ({profile_of(entry.twist)}) |"
        if entry.awaits and not awaiting and recorded is None:
            sums["awaiting"] += 1
            lines.append(f"{head} not yet: awaits the {entry.awaits} scenarios | |")
            continue
        if recorded is not None:
            verdict = breakages.get((entry.rule, entry.name))
            if verdict is None:
                sums["not run"] += 1
                lines.append(f"{head} not run in this corpus run | |")
                continue
        else:
            rows, took = run_api_suite(entry.twist)
            verdict = judge(rows, entry.rule)
            print(f"{entry.rule} {entry.name}: {took:.1f} s", file=sys.stderr)
        if verdict.caught:
            caught = f"yes: {'; '.join(verdict.caught)}"
            key = "caught alone" if not verdict.others else (
                "caught, declared others" if set(verdict.others) == set(entry.touches) else "caught, undeclared others")
            sums[key] += 1
        else:
            caught = "NO (" + ", ".join(f"{n}: {s}" for n, s in verdict.own.items()) + ")"
            sums["not caught"] += 1
        if entry.awaits:
            caught += f" (awaits the {entry.awaits} scenarios)"
        lines.append(f"{head} {_cell(caught)} | {_cell(_others(verdict, entry.touches, CREATING))} |")
    if variants:
        lines += ["", "| allowed variation (profile) | rules not passed |", "|---|---|"]
        for variant in variants:
            if only and only not in variant.name:
                continue
            if recorded is not None:
                verdict = variant_verdicts.get(variant.name)
                if verdict is None:
                    lines.append(f"| {_cell(variant.name)} ({profile_of(variant)}) | not run in this corpus run |")
                    continue
                bad = sorted(f"{name}: {status}" for rule in verdict.others.values() for name, status in rule.items())
            else:
                rows, took = run_api_suite(variant)
                bad = sorted({f"{r['name']}: {r['status']}" for r in rows if r["status"] not in ("passed", "skipped")})
            sums["variants"] += 1
            sums["variants passed"] += not bad
            shown = "; ".join(sorted(set(bad))) or "none (every rule passed)"
            lines.append(f"| {_cell(variant.name)} ({profile_of(variant)}) | {_cell(shown)} |")
    return lines, sums


def document(lines: list[str], sums: dict[str, int], *, how: str, seed: int | None = None) -> str:
    """CATCH_TABLE.md: how it was made, the catch table, the variants, the cases per rule at each depth."""
    from canvas_conformance import explore

    generated = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    summary = (f"{sums['breakages']} breakages: {sums['caught alone']} caught by their rule and no other; "
               f"{sums['caught, declared others']} caught, with other rules stopped as declared in `touches`; "
               f"{sums['caught, undeclared others']} caught, with other rules touched beyond what is declared; "
               f"{sums['not caught']} not caught; {sums['not run']} not run. "
               f"{sums['variants passed']} of {sums['variants']} allowed variants passed every rule.")
    return "\n".join([
        "# The mutation corpus's catch table",
        "",
        f"Generated by `python -m tests.suite.catch_table` (tests/suite/catch_table.py) on {generated}. "
        + how,
        "",
        "Each breakage of `tests/suite/corpus.py` (canvas-2022) and `tests/suite/corpus_current.py` "
        "(canvas-current) is the real mock, behaving as its profile, with one realistic bug (a twist); the "
        "whole API suite of that profile ran against it, fixed rows and explored scenarios, at depth "
        f"`{explore.DEFAULT_DEPTH}` with seed {explore.DEFAULT_SEED if seed is None else seed}. *Caught*: a "
        "scenario of the breakage's rule failed with a message naming the rule. *Other rules touched*: rules "
        "with a scenario that did not pass (an `error` is a scenario that could not be checked because of the "
        "breakage, e.g. a create whose Location is unusable; a `failed` would be a check biting the wrong "
        "rule); when they differ from the breakage's `touches`, the declaration is shown. The variants are "
        "answers the rules allow: each must pass every API scenario.",
        "",
        summary,
        "",
        *lines,
        "",
        "## Generated cases per rule at each depth",
        "",
        "How many cases each rule's explored scenario sends at each `--depth` (seed "
        f"{explore.DEFAULT_SEED if seed is None else seed}, the default), against a target that keeps the rule "
        "and has two people of each kind; a failing case is then shrunk with at most "
        + ", ".join(f"{b} ({d})" for d, (_, b) in explore.DEPTHS.items()) + " further cases. Counted by "
        "`cases_per_depth` in the same module, from the rule's case strategy alone (no target needed: "
        "Hypothesis draws the same cases whatever the target answers while it keeps the rule).",
        "",
        *cases_table(seed),
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.suite.catch_table", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="entries whose rule or name contains this text")
    parser.add_argument("--awaiting", action="store_true", help="include breakages awaiting explored scenarios")
    parser.add_argument("--no-variations", action="store_true")
    parser.add_argument("--from", dest="recorded", metavar="FILE",
                        help=f"print the table from the verdicts a test run recorded (${RECORD}) instead of running")
    parser.add_argument("--legacy", action="store_true", help="include twists.MISBEHAVIOURS")
    parser.add_argument("--cases", action="store_true", help="print only the cases per rule at each depth")
    parser.add_argument("--write", metavar="FILE", help="write the whole document (e.g. tests/suite/CATCH_TABLE.md)")
    parser.add_argument("--how", default="", help="for --write: how the verdicts were made (command, machine, load)")
    args = parser.parse_args(argv)
    from .corpus import CORPUS, NEW, VARIANTS
    from .corpus_current import CURRENT_BREAKAGES, CURRENT_VARIANTS

    if args.cases:
        print("\n".join(cases_table()))
        return 0
    recorded = _read_records(args.recorded) if args.recorded else None
    started = time.monotonic()
    entries = (CORPUS if args.legacy else NEW) + CURRENT_BREAKAGES
    lines, sums = table(entries, [] if args.no_variations else VARIANTS + CURRENT_VARIANTS, recorded=recorded,
                        only=args.only, awaiting=args.awaiting)
    if args.write:
        how = args.how or ("The verdicts were recorded by " + (f"a test run ({args.recorded})" if args.recorded
                                                              else "this module's own runs, in one process") + ".")
        Path(args.write).write_text(document(lines, sums, how=how), encoding="utf-8")
        print(f"wrote {args.write}", file=sys.stderr)
    else:
        print("\n".join(lines))
    print(f"\n{sums}; {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 1 if sums["not caught"] else 0


if __name__ == "__main__":
    sys.exit(main())
