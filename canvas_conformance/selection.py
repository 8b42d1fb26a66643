"""What a run would check, without running it: the features parsed, the tag expression applied.

Why parse the feature files rather than ask pytest to collect: ``--list`` must send
nothing and need nothing (no target, no token, no importable steps), and the runner
must refuse a tag expression that is malformed, names an unknown tag, or selects no
scenario before it starts anything. The selection rule is pytest's own ``-m``: a
scenario carries its feature's, its rule block's, its own and its Examples' tags,
exactly the markers pytest-bdd gives it, evaluated with pytest's expression parser.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, NamedTuple

from _pytest.mark.expression import Expression  # pytest's -m grammar itself (pytest is pinned)
from pytest_bdd.parser import FeatureParser

from . import catalogue
from .results import FAILING, scenario_name


class SelectionError(ValueError):
    """A tag expression that cannot select anything, said in one line."""


class Planned(NamedTuple):
    """One scenario as pytest would collect it (an outline gives one per Examples row)."""

    feature_file: str  # relative to the suite folder, e.g. features/sent_received.feature
    feature: str
    name: str
    line: int
    tags: frozenset[str]


def planned_scenarios(features_dir: Path) -> list[Planned]:
    """Every scenario of every ``*.feature`` under ``features_dir``, in file and line order."""
    features_dir = Path(features_dir)
    out: list[Planned] = []
    for path in sorted(features_dir.rglob("*.feature")):
        feature = FeatureParser(str(path.parent), path.name).parse()
        rel = path.relative_to(features_dir.parent).as_posix()
        for template in feature.scenarios.values():
            rule_tags = template.rule.tags if template.rule is not None else set()
            base = frozenset(feature.tags | rule_tags | template.tags)
            rows = [(ex, ctx) for ex in template.examples for ctx in ex.as_contexts()]
            if not rows:
                out.append(Planned(rel, feature.name, template.name, template.line_number, base))
            for examples, context in rows:
                out.append(Planned(rel, feature.name, scenario_name(template, context), template.line_number,
                                   base | examples.tags))
    return out


def compile_tags(expression: str | None, known_tags: Iterable[str],
                 profile: str | None = None) -> Expression | None:
    """The compiled ``--tags`` expression (None: everything), or SelectionError. With ``profile``, a rule
    ID of another profile only is named as such, not as an unknown tag: it is a real rule, just not
    judged in this run."""
    if not expression or not expression.strip():
        return None
    try:
        compiled = Expression.compile(expression)
    except SyntaxError as err:
        raise SelectionError(f"--tags {expression!r} is not a valid expression: {err.msg} "
                             f"(column {err.offset})") from None
    unknown = sorted(compiled.idents() - set(known_tags))
    elsewhere = [t for t in unknown if profile is not None and t in catalogue.all_rule_ids()]
    if elsewhere:
        others = sorted({p for t in elsewhere for p in catalogue.PROFILES
                         if any(r.id == t for r in catalogue.rules(p))})
        raise SelectionError(f"--tags {expression!r}: {', '.join(elsewhere)} "
                             f"{'is not a rule' if len(elsewhere) == 1 else 'are not rules'} of profile {profile} "
                             f"(only of {', '.join(others)}; choose it with --profile)")
    if unknown:
        raise SelectionError(f"--tags {expression!r} names unknown tag(s): {', '.join(unknown)} "
                             "(see --list for the tags in use)")
    return compiled


def in_profile(planned: Iterable[Planned], profile: str) -> list[Planned]:
    """The scenarios ``profile`` judges (every rule they check is one of its rules), each tagged with
    the kind its rule has there, as the suite's process marks them (steps/conftest.py)."""
    return [p._replace(tags=catalogue.kind_tags(p.tags, profile)) for p in planned
            if catalogue.in_profile(p.tags, profile)]


def select(planned: Iterable[Planned], compiled: Expression | None) -> list[Planned]:
    if compiled is None:
        return list(planned)
    return [p for p in planned if compiled.evaluate(lambda name, /, **kw: name in p.tags)]


def known_tags(planned: Iterable[Planned], profile: str = catalogue.DEFAULT_PROFILE) -> set[str]:
    """Tags a ``--tags`` expression may name: those in the features, plus every rule ID, kind and surface."""
    tags = {t for p in planned for t in p.tags}
    for rule in catalogue.rules(profile):
        tags.update((rule.id, rule.kind, rule.surface))
    return tags


def render(selected: list[Planned], *, expression: str | None = None, total: int | None = None,
           profile: str = catalogue.DEFAULT_PROFILE) -> str:
    """The listing: every rule of the profile with the scenarios that would check it, then the rest."""
    lines = [f"profile {profile}: {catalogue.profile_info(profile).source_title}"]
    claimed: set[int] = set()
    for rule in catalogue.rules(profile):
        mine = [(i, p) for i, p in enumerate(selected) if rule.id in p.tags]
        claimed.update(i for i, _ in mine)
        note = f"{len(mine)} scenario(s)" if mine else "not selected"
        lines.append(f"{rule.id:<8} {rule.kind:<10} {rule.surface:<3}  {rule.title}  [{note}]")
        for _, p in mine:
            lines.append(f"           {p.feature_file}:{p.line}  {p.name}")
    rest = [p for i, p in enumerate(selected) if i not in claimed]
    if rest:
        lines.append("Scenarios tagged with no catalogue rule:")
        lines.extend(f"           {p.feature_file}:{p.line}  {p.name}" for p in rest)
    picked = f"{len(selected)} of {total} scenarios" if total is not None else f"{len(selected)} scenarios"
    rules = sum(1 for r in catalogue.rules(profile) if any(r.id in p.tags for p in selected))
    lines.append(f"{len(catalogue.rules(profile))} rules, {rules} with a selected scenario; {picked}"
                 + (f" selected by --tags {expression!r}" if expression else "") + ". Nothing was sent.")
    return "\n".join(lines) + "\n"


LIST_FORMAT = "canvas-conformance/list@1"


def render_json(selected: list[Planned], *, expression: str | None = None, total: int | None = None,
                profile: str = catalogue.DEFAULT_PROFILE) -> str:
    """The listing for scripts: every catalogue rule with the scenarios that would check it, then the rest."""
    def row(p: Planned) -> dict:
        return {"feature_file": p.feature_file, "line": p.line, "name": p.name, "tags": sorted(p.tags)}

    claimed: set[int] = set()
    rules = []
    for rule in catalogue.rules(profile):
        mine = [(i, p) for i, p in enumerate(selected) if rule.id in p.tags]
        claimed.update(i for i, _ in mine)
        rules.append({"id": rule.id, "kind": rule.kind, "surface": rule.surface, "title": rule.title,
                      "selected": bool(mine), "scenarios": [row(p) for _, p in mine]})
    doc = {"format": LIST_FORMAT, "profile": profile, "tags": expression or None, "total": total, "selected": len(selected),
           "rules": rules, "unmatched_scenarios": [row(p) for i, p in enumerate(selected) if i not in claimed]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- --rerun-failed: the failed and error scenarios of an earlier report ------------------------

class Failed(NamedTuple):
    """A scenario that failed or errored in a report, as its conformance.json names it."""

    nodeid: str  # relative to the suite folder, e.g. steps/test_conformance.py::test_x[row]
    feature_file: str
    name: str


def failed_in_report(report: Path, profile: str | None = None) -> list[Failed]:
    """The failed and error scenarios of ``report`` (a report folder or its conformance.json), each once.
    With ``profile``, a report judged by another profile is refused: its verdicts are of other rules."""
    report = Path(report)
    path = report / "conformance.json" if report.is_dir() else report
    if not path.is_file():
        raise SelectionError(f"--rerun-failed: no report at {report} (run once first, or name a report folder)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows = [s for r in doc["rules"] for s in r["scenarios"]] + list(doc.get("unmatched_scenarios") or ())
        found = {s["nodeid"]: Failed(s["nodeid"], s["feature_file"], s["name"])
                 for s in rows if s.get("status") in FAILING and s.get("nodeid")}
        provenance = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else {}
        judged_by = doc.get("profile") or provenance.get("profile") or catalogue.DEFAULT_PROFILE
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise SelectionError(f"--rerun-failed: {path} is not a canvas-conformance report "
                             f"({type(err).__name__})") from None
    if profile is not None and judged_by != profile:
        raise SelectionError(f"--rerun-failed: {path} was judged by profile {judged_by}, this run by {profile}: "
                             f"run again with --profile {judged_by}")
    return list(found.values())


def rerun(planned: Iterable[Planned], failed: Iterable[Failed]) -> tuple[list[Planned], list[Failed]]:
    """The planned scenarios that ``failed`` names (by feature file and name), and the failed ones
    this suite no longer has."""
    wanted = {(f.feature_file, f.name) for f in failed}
    chosen = [p for p in planned if (p.feature_file, p.name) in wanted]
    have = {(p.feature_file, p.name) for p in chosen}
    return chosen, [f for f in failed if (f.feature_file, f.name) not in have]
