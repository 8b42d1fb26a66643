"""Two runs' verdicts side by side: which rules broke, which were fixed, which changed otherwise.

Why from conformance.json and nothing else: it is the report file meant for machines, it
holds every catalogue rule (checked or not) with its status, and it is all a person has
of an older run. Results files or report pages are not read, so an OLD folder from an
older tool version compares as long as its conformance.json has rule rows.

Categories, per rule ID present in both runs:
- ``regression``: it was not failing (passed, manual, skipped) and now is (failed, error);
- ``fixed``: it was failing and now passed;
- ``changed``: any other change of status (failed -> error, passed -> skipped, failed -> manual...);
- ``unchanged``: the same status.
A rule in only one run is ``added`` or ``removed`` (the catalogue changed between the runs);
an added rule that fails is shown with its status but is not a regression, since no earlier
verdict on it existed to regress from.

Two runs of different profiles (canvas-2022 and canvas-current) judged different editions of
Canvas's behaviour: the rules only one profile has are added or removed, and a rule of both may
be stated differently in each. The output says so first, so a change of profile is never read
as a change of the target.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from .errors import UsageError

FORMAT = "canvas-conformance/diff@1"
REPORT_FORMAT_PREFIX = "canvas-conformance/conformance.json@"
FAILING = frozenset({"failed", "error"})
CATEGORIES = ("regression", "fixed", "changed", "added", "removed", "unchanged")


class RuleVerdict(NamedTuple):
    """One rule row of a conformance.json, as much of it as a comparison needs."""

    id: str
    title: str
    status: str
    reason: str | None


class Report(NamedTuple):
    """A run's conformance.json, read: where it came from, what it checked, and its rule rows."""

    path: Path  # the conformance.json file itself
    target: dict
    started: str | None
    finished: str | None
    tool_version: str | None
    rules: tuple[RuleVerdict, ...]  # in the file's (catalogue) order
    profile: str = "canvas-2022"  # the profile it was judged by (a report older than profiles: canvas-2022)


class RuleChange(NamedTuple):
    """One rule across the two runs; ``old``/``new`` is None where the rule is absent from that run."""

    id: str
    title: str
    category: str  # one of CATEGORIES
    old: str | None
    new: str | None
    reason: str | None  # the NEW run's reason for a status other than passed (the OLD one's for removed)


class Diff(NamedTuple):
    old: Report
    new: Report
    changes: tuple[RuleChange, ...]  # NEW's rule order, then the removed rules in OLD's order

    def of(self, category: str) -> tuple[RuleChange, ...]:
        return tuple(c for c in self.changes if c.category == category)

    @property
    def has_regressions(self) -> bool:
        return any(c.category == "regression" for c in self.changes)


def category(old: str | None, new: str | None) -> str:
    """The category of a rule whose status went from ``old`` to ``new`` (None: absent from that run)."""
    if old is None and new is None:
        raise ValueError("a rule absent from both runs has no category")
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if old == new:
        return "unchanged"
    if new in FAILING and old not in FAILING:
        return "regression"
    if old in FAILING and new == "passed":
        return "fixed"
    return "changed"


def load_report(location: str | Path, *, label: str) -> Report:
    """Read a report folder or its conformance.json; anything else is a UsageError naming ``label``."""
    path = Path(location)
    if path.is_dir():
        path = path / "conformance.json"
    if not path.exists():
        where = f"{location} has no conformance.json" if Path(location).is_dir() else f"{location} does not exist"
        raise UsageError(f"{label}: {where}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"{label}: cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{label}: {path} is not a conformance.json report (not UTF-8 text)") from None
    except ValueError as err:
        raise UsageError(f"{label}: {path} is not a conformance.json report (not JSON: {err})") from None
    if not isinstance(doc, dict) or not str(doc.get("format") or "").startswith(REPORT_FORMAT_PREFIX):
        raise UsageError(f"{label}: {path} is not a conformance.json report (no format "
                         f"{REPORT_FORMAT_PREFIX}N)")
    rows = doc.get("rules")
    if not isinstance(rows, list) or not all(
            isinstance(r, dict) and isinstance(r.get("id"), str) and isinstance(r.get("status"), str) for r in rows):
        raise UsageError(f"{label}: {path} is not a conformance.json report (its rules lack an id or status)")
    return Report(
        path=path,
        target=doc.get("target") if isinstance(doc.get("target"), dict) else {},
        started=doc.get("started"),
        finished=doc.get("finished"),
        tool_version=doc.get("tool_version"),
        rules=tuple(RuleVerdict(r["id"], str(r.get("title") or ""), r["status"], r.get("reason")) for r in rows),
        profile=_profile(doc),
    )


def _profile(doc: dict) -> str:
    """The profile a conformance.json names (top level, else its provenance); canvas-2022 for a report
    written before there were profiles, which is what such a run judged."""
    provenance = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else {}
    name = doc.get("profile") or provenance.get("profile")
    return name if isinstance(name, str) and name else "canvas-2022"


def profiles_line(diff: "Diff") -> str | None:
    """One line when the two runs were judged by different profiles; None when by the same."""
    if diff.old.profile == diff.new.profile:
        return None
    return (f"profiles differ: OLD was judged by {diff.old.profile}, NEW by {diff.new.profile}; rules only one "
            "profile has are listed as added or removed, and a rule of both may be stated differently in each")


def compare(old: Report, new: Report) -> Diff:
    """Every rule of either run, categorised (see the module's docstring)."""
    before = {r.id: r for r in old.rules}
    after = {r.id: r for r in new.rules}
    changes = []
    for rule in new.rules:
        was = before.get(rule.id)
        old_status = was.status if was else None
        reason = rule.reason if rule.status != "passed" else None
        changes.append(RuleChange(rule.id, rule.title, category(old_status, rule.status), old_status, rule.status,
                                  reason))
    for rule in old.rules:
        if rule.id not in after:
            changes.append(RuleChange(rule.id, rule.title, "removed", rule.status, None, rule.reason))
    return Diff(old, new, tuple(changes))


def summary_line(diff: Diff) -> str:
    n = {c: len(diff.of(c)) for c in CATEGORIES}
    return (f"{n['regression']} newly failing, {n['fixed']} fixed, {n['changed']} changed, "
            f"{n['added']} added, {n['removed']} removed, {n['unchanged']} unchanged")


HEADINGS = {
    "regression": "Newly failing",
    "fixed": "Fixed",
    "changed": "Changed",
    "added": "Added (not in OLD's catalogue)",
    "removed": "Removed (not in NEW's catalogue)",
}


def render_text(diff: Diff) -> str:
    """A section per non-empty category (unchanged rules are only counted), then the summary line."""
    lines = [f"OLD {diff.old.path} ({diff.old.started or 'start unknown'}, profile {diff.old.profile})",
             f"NEW {diff.new.path} ({diff.new.started or 'start unknown'}, profile {diff.new.profile})"]
    differ = profiles_line(diff)
    if differ:
        lines.append(differ)
    width = max((len(c.id) for c in diff.changes), default=0)
    for name, heading in HEADINGS.items():
        rows = diff.of(name)
        if not rows:
            continue
        lines += ["", f"{heading} ({len(rows)}):"]
        for c in rows:
            move = f"{c.old or '-'} -> {c.new or '-'}"
            why = f" ({c.reason})" if c.reason and name in ("regression", "changed", "added") else ""
            lines.append(f"  {c.id:<{width}}  {move:<20}  {c.title}{why}")
    lines += ["", summary_line(diff)]
    return "\n".join(lines) + "\n"


def _side(report: Report) -> dict:
    return {"path": str(report.path), "target": report.target, "started": report.started,
            "finished": report.finished, "tool_version": report.tool_version, "profile": report.profile}


def build_json(diff: Diff) -> dict:
    """The ``--format json`` document; its fields are listed in the README's "Triage" section."""
    def entry(c: RuleChange) -> dict:
        return {"id": c.id, "title": c.title, "old": c.old, "new": c.new, "reason": c.reason}
    return {
        "format": FORMAT,
        "old": _side(diff.old),
        "new": _side(diff.new),
        "same_profile": diff.old.profile == diff.new.profile,
        "has_regressions": diff.has_regressions,
        "summary": {name: len(diff.of(name)) for name in CATEGORIES},
        "rules": {name: [entry(c) for c in diff.of(name)] for name in CATEGORIES},
    }


def render_json(diff: Diff) -> str:
    return json.dumps(build_json(diff), indent=2, ensure_ascii=False) + "\n"
