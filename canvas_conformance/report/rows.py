"""Rule rows: the run's scenarios folded into one verdict per catalogue rule.

Why rows come from the catalogue and not from the results: a report that only
listed what ran would hide a rule nobody checked. Every rule gets a row, in
catalogue order; a rule with no scenario in the run is ``skipped`` ("not selected").
Its status is the worst of its scenarios' by the contract's precedence (``results``).

A passed rule some of whose scenarios were skipped (or left manual) is ``partial``: it keeps
the status ``passed`` and says how much of it was checked ("passed, 2 of 3 checks; 1 skipped:
..."); under ``--strict`` it is not a pass. A rule its scenarios' checks saw broken while they
checked another rule carries those ``observations`` ("also seen while checking X"); they are
evidence, not its verdict. Rules left out by a tag selection (``results["selection"]``) do
not count under ``--strict``; without a selection a rule no scenario checks does.

Rules outside the run's profile (PAY-4 in canvas-current, STAT-1 in canvas-2022) are not judged:
they get no row, and a scenario that checks one is left out of every report file and every count,
as the suite's process deselects it (``catalogue.in_profile``).
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, NamedTuple

from .. import __version__, catalogue
from ..results import NOT_RUN, STATUSES, Scenario, Step, exchange_row, fails_run, number, worst

NOT_SELECTED = "not selected"
NOT_RUN_INTERRUPTED = "not run: the run was interrupted ({signal}) before its scenarios"


class RuleRow(NamedTuple):
    """One catalogue rule with its aggregated status and the scenarios that decided it."""

    id: str
    kind: str  # documented | inferred
    surface: str  # api | ui
    section: str
    title: str
    status: str  # one of STATUSES
    reason: str | None  # why it is not passed: the deciding scenario's message, or NOT_SELECTED
    scenarios: tuple[Scenario, ...]
    partial: bool = False  # passed, but some of its scenarios were skipped or manual (reason says which)
    observations: tuple["Observation", ...] = ()  # its breaches seen by other rules' scenarios
    selected: bool = True  # False: no scenario of it was in the run


class Observation(NamedTuple):
    """A breach of one rule seen by a scenario of other rules."""

    rule: str  # the rule broken
    scenario: str  # the name of the scenario that saw it
    seen_while: tuple[str, ...]  # that scenario's own rules
    message: str


class Run(NamedTuple):
    """Everything a report file shows: the target, the times, and the rows."""

    tool_version: str
    target: dict
    started: str | None
    finished: str | None
    rules: tuple[RuleRow, ...]
    unmatched: tuple[Scenario, ...]  # scenarios tagged with no catalogue rule (a suite slip, still reported)
    scenarios: tuple[Scenario, ...]  # every scenario, in run order
    interrupted: dict | None = None  # the run was stopped by a signal: results.json's "interrupted" object
    selection: str | None = None  # the tag expression the run was narrowed to (None: every scenario)
    provenance: dict = {}  # what the verdicts rest on (results_plugin.provenance); {} from an older results file
    profile: str = catalogue.DEFAULT_PROFILE  # the catalogue profile the rows are of


def counts(statuses: Iterable[str]) -> dict[str, int]:
    """``{"total": n, "passed": n, ...}`` with every status present, zero or not."""
    tally = Counter(statuses)
    return {"total": sum(tally.values()), **{s: tally.get(s, 0) for s in STATUSES}}


def profile_of(results: dict) -> str:
    """The profile a results file was judged by (its provenance); the default for an older file."""
    p = results.get("provenance")
    name = p.get("profile") if isinstance(p, dict) else None
    return name if name in catalogue.PROFILES else catalogue.DEFAULT_PROFILE


def build_run(results: dict, rules: Iterable[catalogue.Rule] | None = None) -> Run:
    """Fold a results.json document into rule rows, one per catalogue rule, in catalogue order."""
    rules = tuple(catalogue.rules(profile_of(results)) if rules is None else rules)
    known = {r.id for r in rules}
    interrupted = results.get("interrupted") if isinstance(results.get("interrupted"), dict) else None
    cut_short = set((interrupted or {}).get("rules_not_run") or ())
    outside = set(catalogue.all_rule_ids()) - known
    scenarios = tuple(normalise_scenario(s, known) for s in results.get("scenarios") or ()
                      if not outside.intersection(_rule_tags(s)))
    rows = []
    for rule in rules:
        mine = tuple(s for s in scenarios if rule.id in s.rules)
        status = worst(s.status for s in mine)
        partial = False
        if not mine:
            reason = NOT_RUN_INTERRUPTED.format(signal=interrupted.get("signal") or "a signal") \
                if rule.id in cut_short else NOT_SELECTED
        elif status == "passed":
            reason = partly(mine)
            partial = reason is not None
        else:
            reason = next((s.message for s in mine if s.status == status and s.message), None)
        seen = tuple(Observation(rule.id, s.name, s.rules, str(o.get("message") or ""))
                     for s in scenarios for o in s.observations
                     if isinstance(o, dict) and o.get("rule") == rule.id and rule.id not in s.rules)
        rows.append(RuleRow(rule.id, rule.kind, rule.surface, rule.section, rule.title, status, reason, mine,
                            partial=partial, observations=seen, selected=bool(mine)))
    unmatched = tuple(s for s in scenarios if not known.intersection(s.rules))
    target = dict(results.get("target") or {})
    target.setdefault("base_url", None)
    return Run(
        tool_version=str(results.get("tool_version") or __version__),
        target=target,
        started=results.get("started"),
        finished=results.get("finished"),
        rules=tuple(rows),
        unmatched=unmatched,
        scenarios=scenarios,
        interrupted=interrupted,
        selection=results.get("selection") if isinstance(results.get("selection"), str) else None,
        provenance=dict(results.get("provenance") or {}),
        profile=profile_of(results),
    )


def _rule_tags(raw: dict) -> set[str]:
    """Every rule ID or tag a results.json scenario names (what decides the profile it belongs to)."""
    return {str(t) for t in (*(raw.get("rules") or ()), *(raw.get("tags") or ()))}


def partly(scenarios: tuple[Scenario, ...]) -> str | None:
    """For a passed rule: how much was checked, when some scenarios were skipped or manual; else None."""
    passed = sum(s.status == "passed" for s in scenarios)
    left = [s for s in scenarios if s.status in ("skipped", "manual")]
    if not left:
        return None
    by_status = Counter(s.status for s in left)
    why = "; ".join(f"{n} {status}" for status, n in by_status.items())
    first = next((s.message for s in left if s.message), None)
    return f"passed, {passed} of {len(scenarios)} checks; {why}" + (f": {first}" if first else "")


def normalise_scenario(raw: dict, known_rules: set[str] | frozenset[str] = frozenset()) -> Scenario:
    """A scenario of results.json as a ``Scenario`` with every field present, so builders never guess.

    An unknown status becomes ``error`` (with the oddity in the message): a report
    must never show as passed something it does not understand.
    """
    status = str(raw.get("status") or "").lower()
    message = raw.get("message")
    if status not in STATUSES:
        message = f"the suite reported an unknown status {status!r}" + (f": {message}" if message else "")
        status = "error"
    tags = tuple(str(t) for t in raw.get("tags") or ())
    rule_ids = tuple(str(r) for r in raw.get("rules") or ()) or tuple(t for t in tags if t in known_rules)
    return Scenario(
        nodeid=raw.get("nodeid") or "",
        feature_file=raw.get("feature_file") or "",
        feature=raw.get("feature") or raw.get("feature_file") or "",
        name=raw.get("name") or raw.get("nodeid") or "(unnamed scenario)",
        rules=rule_ids,
        tags=tags,
        status=status,
        message=message,
        duration_s=number(raw.get("duration_s")),
        steps=tuple(Step(keyword=st.get("keyword") or "", text=st.get("text") or "",
                         status=st.get("status") or NOT_RUN, duration_s=number(st.get("duration_s")))
                    for st in raw.get("steps") or ()),
        exchanges=tuple(exchange_row(ex) for ex in raw.get("exchanges") or ()),
        notes=tuple(str(n) for n in raw.get("notes") or ()),
        attachments=tuple(dict(a) for a in raw.get("attachments") or ()),
        observations=tuple({"rule": str(o.get("rule") or ""), "message": str(o.get("message") or "")}
                           for o in raw.get("observations") or () if isinstance(o, dict)),
    )


def summary(run: Run) -> dict:
    """Counts by status: all rules, documented and inferred apart, and scenarios."""
    return {
        "rules": counts(r.status for r in run.rules),
        "documented": counts(r.status for r in run.rules if r.kind == "documented"),
        "inferred": counts(r.status for r in run.rules if r.kind == "inferred"),
        "scenarios": counts(s.status for s in run.scenarios),
    }


def failing(run: Run, *, strict: bool = False) -> list[str]:
    """What makes the run fail: rule IDs (and names of scenarios outside the catalogue).

    Which statuses fail the run is the contract's (``results.fails_run``); under ``strict`` a partial
    rule fails too, and a rule the run's tag selection left out does not.
    """
    out = [r.id for r in run.rules if counts_under(r, run, strict=strict)]
    out += [s.name for s in run.unmatched if fails_run(s.status, strict=strict)]
    return out


def counts_under(row: RuleRow, run: Run, *, strict: bool) -> bool:
    """Whether ``row`` fails the run."""
    if strict and not row.selected and run.selection is not None:
        return False  # not selected by --tags: not a verdict, so not a failure either
    return fails_run(row.status, strict=strict) or (strict and row.partial)


def checked(run: Run) -> list[Scenario]:
    """The scenarios that reached a verdict (passed or failed). A run with none checked nothing: every
    scenario was error, manual or skipped (a run with some verdicts and an error is a run with an error)."""
    return [s for s in run.scenarios if s.status in ("passed", "failed")]
