"""Every catalogue rule has scenarios, tagged consistently; the suite keeps to its boundaries.

``rule_table`` is the generated table rule -> scenarios; it is printed when a rule has none.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pytest_bdd.feature import get_features

from canvas_conformance import catalogue

ROOT = Path(__file__).resolve().parents[2]
FEATURE_FILES = {"identifying.feature", "sent_received.feature", "recipient.feature", "sender.feature",
                 "payload.feature", "ui.feature", "fhir.feature", "status.feature", "subject.feature"}
# canvas-current's rules come from other pages (Canvas's v2 Communication page, its migration guide and
# errors page), whose sections do not map onto the 2022 page's; there a rule keeps to the file of its ID's
# family, so grepping an ID finds one file in both profiles, and the new families (STAT, SUBJ) have
# files of their own.
FAMILY_FILES = {"ID": "identifying.feature", "SENT": "sent_received.feature", "RECV": "sent_received.feature",
                "RCPT": "recipient.feature", "SNDR": "sender.feature", "PAY": "payload.feature",
                "STAT": "status.feature", "SUBJ": "subject.feature", "FHIR": "fhir.feature", "UI": "ui.feature"}
SUITE_MODULES = [*sorted((ROOT / "steps").glob("*.py")),
                 *(ROOT / "canvas_conformance" / name for name in ("client.py", "checks.py", "results_plugin.py"))]


def scenarios() -> list[tuple[str, object]]:
    return [(Path(f.filename).name, s) for f in get_features([str(ROOT / "features")]) for s in f.scenarios.values()]


def rule_table(profile: str) -> dict[str, list[str]]:
    """rule ID -> "file: scenario (n examples)" for every scenario of the profile tagged with it."""
    table: dict[str, list[str]] = {r.id: [] for r in catalogue.rules(profile)}
    for file, scenario in scenarios():
        rows = sum(len(e.examples) for e in scenario.examples)
        for tag in scenario.tags:
            if tag in table:
                table[tag].append(f"{file}: {scenario.name}" + (f" ({rows} examples)" if rows else ""))
    return table


@pytest.mark.parametrize("profile", catalogue.PROFILES)
def test_every_rule_has_a_scenario(profile):
    table = rule_table(profile)
    shown = "\n".join(f"{rule:7} {len(found):2}  {'; '.join(found) or 'NONE'}" for rule, found in table.items())
    assert all(table.values()), f"rules without a scenario:\n{shown}"


def test_one_feature_file_per_section():
    assert {Path(p).name for p in (ROOT / "features").glob("*.feature")} == FEATURE_FILES
    sections: dict[str, set[str]] = {}
    for file, scenario in scenarios():
        for tag in scenario.tags:
            if tag in {r.id for r in catalogue.rules()}:
                sections.setdefault(file, set()).add(catalogue.rule(tag).section)
    assert sections["fhir.feature"] == {r.section for r in catalogue.rules() if r.kind == "inferred"}
    for file, found in sections.items():
        if file not in ("fhir.feature", "sent_received.feature"):
            assert len(found) == 1, (file, found)
    assert sections["sent_received.feature"] == {"Sent", "Received"}


def test_rules_only_canvas_current_has_live_in_their_family_file():
    """A rule of canvas-current alone sits in its ID family's file; a UI rule (RECV-3 included) in ui.feature."""
    only_current = {r.id for r in catalogue.rules("canvas-current")} - {r.id for r in catalogue.rules()}
    for file, scenario in scenarios():
        for tag in scenario.tags & only_current:
            expected = "ui.feature" if catalogue.surface(tag) == "ui" else FAMILY_FILES[tag.split("-")[0]]
            assert file == expected, (tag, file, scenario.name)


@pytest.mark.parametrize("file, scenario", scenarios(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_scenario_tags_agree_with_the_catalogue(file, scenario):
    """One rule tag, its surface, and ``explored`` on explored scenarios; never a kind (documented,
    inferred): a rule's kind differs between profiles and comes from the catalogue."""
    ids = set(catalogue.all_rule_ids())
    rules = [t for t in scenario.tags if t in ids]
    assert len(rules) == 1, f"{scenario.name}: one rule tag, got {sorted(scenario.tags)}"
    explored = {"explored"} if scenario.name.endswith("(explored)") else set()  # the rule's explored scenario
    assert scenario.tags == {rules[0], catalogue.surface(rules[0]), *explored}


@pytest.mark.parametrize("path", SUITE_MODULES, ids=lambda p: p.name)
def test_suite_modules_never_import_the_mock(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if m.split(".")[0] == "mock_server"]


@pytest.mark.parametrize("path", sorted((ROOT / "steps").glob("*.py")), ids=lambda p: p.name)
def test_step_modules_keep_no_state_in_globals(path):
    """Module-level names are constants (UPPER_CASE); state travels through fixtures."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            assert isinstance(target, ast.Name) and target.id.isupper(), f"{path.name}:{node.lineno}"
        assert not isinstance(node, ast.Global)


def test_the_test_module_is_one_scenarios_call():
    tree = ast.parse((ROOT / "steps" / "test_conformance.py").read_text(encoding="utf-8"))
    calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    assert len(calls) == 1 and calls[0].value.func.id == "scenarios"
    assert not [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
