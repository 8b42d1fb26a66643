"""Every catalogue rule can be found by grepping its ID: a scenario tagged with it, the place the
mock enforces it, a misbehaving target for an API rule. A new rule missing one of them fails here
(tests/suite/test_coverage.py prints the rule -> scenarios table; this names what else is missing)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from canvas_conformance import catalogue

ROOT = Path(__file__).resolve().parents[1]


def _words(folder: str, *patterns: str) -> set[str]:
    """Every rule-ID-shaped word in the folder's files matching ``patterns``."""
    found: set[str] = set()
    for pattern in patterns:
        for path in (ROOT / folder).rglob(pattern):
            found.update(re.findall(r"\b[A-Z]+-[0-9]+\b", path.read_text(encoding="utf-8")))
    return found


RULES = [rule.id for rule in catalogue.rules()]
TAGGED = {tag.lstrip("@") for tag in re.findall(r"@[A-Z]+-[0-9]+\b",
                                                  "\n".join(p.read_text(encoding="utf-8")
                                                            for p in (ROOT / "features").glob("*.feature")))}
ENFORCED = _words("mock_server", "*.py", "*.html")


@pytest.mark.parametrize("rule_id", RULES)
def test_a_scenario_is_tagged_with_the_rule(rule_id):
    assert rule_id in TAGGED, f"no scenario in features/ is tagged @{rule_id}"


@pytest.mark.parametrize("rule_id", RULES)
def test_the_mock_names_the_rule_where_it_enforces_it(rule_id):
    assert rule_id in ENFORCED, f"mock_server/ never names {rule_id} (a comment or an error's rule ID where it holds)"


def test_no_tag_or_enforcement_names_a_rule_outside_the_catalogue():
    known = set(catalogue.all_rule_ids())  # the rules of every profile
    assert TAGGED <= known, f"features/ tag rules the catalogue lacks: {sorted(TAGGED - known)}"
