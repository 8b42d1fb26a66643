"""Every API rule's scenarios fail against a target that breaks just that rule.

The mutation corpus (corpus.py) holds at least three subtle breakages per API rule; each is run
against the whole API suite once, which shows both that its rule's check bites and that no other
rule's does.

Each misbehaving target is the real mock with one behaviour changed (twists.py). The
rule's scenarios are run with ``-m RULE`` and each must end ``failed`` with a message
naming the rule, except the scenarios the misbehaviour does not touch, which still pass.
The rule's explored scenario must fail against every one of them, unless the entry says
its input space leaves the misbehaviour out.
"""
from __future__ import annotations

import os
import random
from collections import Counter

import pytest

from canvas_conformance import catalogue

from .catch_table import judge, record
from .corpus import EXPLORED as AWAITS_EXPLORED, NEW
from .corpus_current import CURRENT_BREAKAGES, CURRENT_MISBEHAVIOURS, profile_of
from .twists import ALL, EXPLORED, MISBEHAVIOURS

# canvas-2022's misbehaving targets (twists.py) and canvas-current's (corpus_current.py), each judged with
# the profile its mock behaves as
ALL_MISBEHAVIOURS = {**MISBEHAVIOURS, **CURRENT_MISBEHAVIOURS}
CASES = [pytest.param(rule, twist, fails, others, id=f"{rule}: {twist.name}")
         for rule, entries in ALL_MISBEHAVIOURS.items() for twist, fails, others in entries]
BREAKAGES = NEW + CURRENT_BREAKAGES


def api_rules_of_every_profile() -> set[str]:
    return {r.id for p in catalogue.PROFILES for r in catalogue.rules(p) if r.surface == "api"}


def expected_status(name: str, fails, others: dict) -> str:
    for part, status in others.items():
        if part in name:
            return status
    if fails is ALL or name.endswith(EXPLORED):  # the rule's explored scenario finds every misbehaviour of it
        return "failed"
    parts = {fails} if isinstance(fails, str) else fails
    return "failed" if any(part in name for part in parts) else "passed"


def test_every_api_rule_has_a_misbehaving_target():
    assert sorted(ALL_MISBEHAVIOURS) == sorted(api_rules_of_every_profile())
    for rule, entries in ALL_MISBEHAVIOURS.items():
        assert all(rule in {r.id for r in catalogue.rules(profile_of(t))} for t, _, _ in entries), rule


@pytest.mark.parametrize("rule, twist, fails, others", CASES)
def test_rule_fails_against_a_target_that_breaks_it(run_suite, serve, rule, twist, fails, others):
    target = serve(twist.install, **twist.config)
    run = run_suite(target.env(), marks=rule, profile=profile_of(twist))
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


# -- the mutation corpus (corpus.py): one whole API run per breakage gives both facts ----------------
CORPUS_CASES = [pytest.param(b, id=f"{b.rule}: {b.name}") for b in BREAKAGES if not b.awaits]
CORPUS_SKIP = pytest.mark.skipif(not os.environ.get("CANVAS_CORPUS"), reason="the mutation corpus runs the whole API "
                                 "suite, explored scenarios included, once per breakage or variant (about 25 s each "
                                 "here): make corpus")

# make test keeps a bounded sample of the corpus, so CI proves the checks bite without the whole corpus's
# cost: one breakage per API rule, chosen with a fixed seed, against the rule's own scenarios, and the
# first WHOLE_SUITE_SAMPLE of them (in the seed's order) against the whole API suite.
SAMPLE_SEED = 20220210
WHOLE_SUITE_SAMPLE = 1


def sampled(seed: int = SAMPLE_SEED) -> list:
    """One enabled breakage per API rule of every profile (rules in catalogue order), picked by ``seed``,
    then shuffled by it."""
    chance = random.Random(seed)
    by_rule: dict[str, list] = {}
    for breakage in BREAKAGES:
        if not breakage.awaits:
            by_rule.setdefault(breakage.rule, []).append(breakage)
    chosen = [chance.choice(by_rule[rule]) for rule in catalogue.all_rule_ids() if rule in by_rule]
    chance.shuffle(chosen)
    return chosen


SAMPLE = sampled()


def test_every_api_rule_has_three_subtle_breakages():
    counted = Counter(b.rule for b in BREAKAGES if not b.awaits)
    assert set(counted) == api_rules_of_every_profile() and min(counted.values()) >= 3, counted
    assert len({(b.rule, b.name) for b in BREAKAGES}) == len(BREAKAGES), "breakage names are unique per rule"
    assert all(b.description and b.awaits in (None, AWAITS_EXPLORED) for b in BREAKAGES)
    for b in BREAKAGES:  # each breaks a rule of the profile its mock behaves as
        profile_rules = {r.id for r in catalogue.rules(profile_of(b.twist)) if r.surface == "api"}
        assert b.rule in profile_rules and not (b.touches & {b.rule}), (b.rule, b.name)


def assert_caught_by_its_rule(verdict, breakage) -> None:
    shown = {name: (status, verdict.messages.get(name, "")[:200]) for name, status in verdict.own.items()}
    assert verdict.caught, f"no scenario of {breakage.rule} failed naming it: {shown}"
    for name in verdict.caught:
        assert "expected" in verdict.messages[name] and "got" in verdict.messages[name], verdict.messages[name]
    if breakage.fails is not None:
        expected = {name: expected_status(name, breakage.fails, breakage.others) for name in verdict.own}
        assert verdict.own == expected, shown
    else:
        assert set(verdict.own.values()) <= {"passed", "failed"}, shown


def test_the_sample_has_one_breakage_per_api_rule_and_is_fixed_by_its_seed():
    assert sorted(b.rule for b in SAMPLE) == sorted(api_rules_of_every_profile())
    assert [b.name for b in sampled()] == [b.name for b in SAMPLE] != [b.name for b in sampled(SAMPLE_SEED + 1)]


@pytest.mark.parametrize("breakage", [pytest.param(b, id=f"{b.rule}: {b.name}") for b in SAMPLE])
def test_one_sampled_breakage_per_rule_fails_it(run_suite, serve, breakage):
    """The sample's breakage of each rule against that rule's scenarios: one fails naming the rule."""
    target = serve(breakage.twist.install, **breakage.twist.config)
    run = run_suite(target.env(), marks=breakage.rule, profile=profile_of(breakage.twist))
    assert_caught_by_its_rule(judge(run.rows, breakage.rule), breakage)
    assert run.exit_code == 1


@pytest.mark.parametrize("breakage", [pytest.param(b, id=f"{b.rule}: {b.name}") for b in SAMPLE[:WHOLE_SUITE_SAMPLE]])
def test_sampled_breakages_fail_their_rule_and_no_other(run_suite, serve, breakage):
    check_whole_suite(run_suite, serve, breakage)


@pytest.mark.parametrize("breakage", CORPUS_CASES)
@CORPUS_SKIP
def test_breakage_is_failed_by_its_rule_and_no_other(run_suite, serve, breakage):
    check_whole_suite(run_suite, serve, breakage)


def check_whole_suite(run_suite, serve, breakage) -> None:
    """The whole API suite against the breakage: a scenario of its rule fails with a message naming the rule;
    no scenario of another rule fails or errors, except the rules the breakage is listed as touching."""
    target = serve(breakage.twist.install, **breakage.twist.config)
    run = run_suite(target.env(), marks="api", profile=profile_of(breakage.twist))
    verdict = judge(run.rows, breakage.rule)
    record(breakage, verdict)
    assert_caught_by_its_rule(verdict, breakage)
    others = {rule: {name: (status, verdict.messages[name][:160]) for name, status in found.items()}
              for rule, found in verdict.others.items()}
    assert set(verdict.others) == set(breakage.touches), others
    assert run.exit_code == 1
