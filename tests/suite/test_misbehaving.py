"""Every API rule's scenarios fail against a target that breaks just that rule.

Each misbehaving target is the real mock with one behaviour changed (twists.py). The
rule's scenarios are run with ``-m RULE`` and each must end ``failed`` with a message
naming the rule, except the scenarios the misbehaviour does not touch, which still pass.
The rule's explored scenario must fail against every one of them, unless the entry says
its input space leaves the misbehaviour out.
"""
from __future__ import annotations

import pytest

from canvas_conformance import catalogue

from .twists import ALL, EXPLORED, MISBEHAVIOURS

CASES = [pytest.param(rule, twist, fails, others, id=f"{rule}: {twist.name}")
         for rule, entries in MISBEHAVIOURS.items() for twist, fails, others in entries]


def expected_status(name: str, fails, others: dict) -> str:
    for part, status in others.items():
        if part in name:
            return status
    if fails is ALL or name.endswith(EXPLORED):  # the rule's explored scenario finds every misbehaviour of it
        return "failed"
    parts = {fails} if isinstance(fails, str) else fails
    return "failed" if any(part in name for part in parts) else "passed"


def test_every_api_rule_has_a_misbehaving_target():
    api_rules = [r.id for r in catalogue.rules() if r.surface == "api"]
    assert sorted(MISBEHAVIOURS) == sorted(api_rules)


@pytest.mark.parametrize("rule, twist, fails, others", CASES)
def test_rule_fails_against_a_target_that_breaks_it(run_suite, serve, rule, twist, fails, others):
    target = serve(twist.install, **twist.config)
    run = run_suite(target.env(), marks=rule)
    assert run.rows, f"no scenario selected by -m {rule}"
    got = {row["name"]: (row["status"], row["message"]) for row in run.rows}
    expected = {name: expected_status(name, fails, others) for name in got}
    assert {n: s for n, (s, _) in got.items()} == expected
    assert "failed" in expected.values(), "the misbehaviour must make at least one scenario fail"
    for name, (status, message) in got.items():
        if status == "failed":
            assert message.startswith(f"[{rule}]"), message
            assert "expected" in message and "got" in message, message
    assert run.exit_code == 1
    for row in run.rows:
        assert all(rule_id == rule for rule_id in row["rules"])
        if row["status"] == "failed":
            steps = [s["status"] for s in row["steps"]]
            assert steps.count("failed") == 1 and set(steps[steps.index("failed") + 1:]) <= {"not run"}
