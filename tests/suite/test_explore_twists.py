"""A target broken one step off the fixed rows passes every fixed scenario of the rule and fails its
explored scenario, with a small falsifying case in the message and the notes; the same seed finds
the same case again."""
from __future__ import annotations

import json
import re
import time

import pytest

from .explore_twists import ONE_STEP_OFF
from .twists import EXPLORED, Twist, _no_location

FALSIFIED = re.compile(r"falsified by: (?P<case>\{.*\}) \(seed (?P<seed>\d+), depth (?P<depth>\w+)\)")


def falsifying_case(message: str) -> dict:
    match = FALSIFIED.search(message)
    assert match, message
    return json.loads(match["case"])


@pytest.mark.parametrize("off", ONE_STEP_OFF, ids=[f"{o.rule}: {o.twist.name}" for o in ONE_STEP_OFF])
def test_only_the_explored_scenario_finds_a_bug_one_step_off_the_fixed_rows(run_suite, serve, off):
    target = serve(off.twist.install, **off.twist.config)
    run = run_suite(target.env(), marks=off.rule)
    statuses = run.statuses()
    explored = [name for name in statuses if name.endswith(EXPLORED)]
    assert len(explored) == 1, statuses
    assert {name: s for name, s in statuses.items() if name not in explored} == \
        {name: "passed" for name in statuses if name not in explored}, "every fixed row passes"
    row = next(r for r in run.rows if r["name"] == explored[0])
    assert row["status"] == "failed", (row["status"], row["message"])
    assert row["message"].startswith(f"[{off.rule}]") and "expected" in row["message"]
    case = falsifying_case(row["message"])
    assert off.minimal(case), f"not shrunk to the bug's smallest form: {case}"
    assert any(note == f"falsified by: {json.dumps(case, ensure_ascii=False, separators=(', ', ': '))}"
               for note in row["notes"]), row["notes"]
    assert run.exit_code == 1


def test_the_same_seed_finds_the_same_case_and_sends_the_same_requests(run_suite, serve):
    off = next(o for o in ONE_STEP_OFF if o.rule == "RCPT-3")
    found = []
    for _ in range(2):
        target = serve(off.twist.install)
        run = run_suite({**target.env(), "CANVAS_SEED": "4242", "CANVAS_DEPTH": "quick"}, marks="RCPT-3 and explored")
        row = run.rows[0]
        assert FALSIFIED.search(row["message"])["seed"] == "4242"
        assert FALSIFIED.search(row["message"])["depth"] == "quick"
        bodies = [x["request_body"] for x in row["exchanges"] if x["method"] == "POST"]
        # ids and the run's case markers (random by design: steps/bodies.new_marker) are not the cases
        unmarked = [re.sub(r"cc-[0-9a-f]{12}-[0-9a-f]{10}", "<marker>", b or "") for b in bodies]
        found.append((falsifying_case(row["message"]), [re.sub(r"[0-9a-f]{32}", "<id>", b) for b in unmarked]))
    assert found[0] == found[1]


def _slow_create(app, incoming, memory):
    if incoming.is_create:
        time.sleep(1.0)
    return None


def test_a_case_without_an_answer_ends_the_search_as_an_error_naming_the_case(run_suite, serve):
    target = serve(Twist("answers creates slowly", before=_slow_create).install)
    run = run_suite(target.env(CANVAS_TIMEOUT="0.3"), marks="SNDR-1 and explored")
    (row,) = run.rows
    assert row["status"] == "error", row["message"]
    assert row["message"].startswith("ExchangeError: case 1: create message with sender ") and "timeout" in row["message"]
    assert any(n.startswith("stopped by case {") for n in row["notes"]), row["notes"]
    assert sum(1 for x in row["exchanges"] if x["method"] == "POST") == 1, "no case is sent after the first timeout"


def test_another_rule_broken_on_the_way_is_an_error_here_not_a_failure(run_suite, serve):
    target = serve(Twist("answers 201 without a Location", after=_no_location).install)
    run = run_suite(target.env(), marks="SENT-1 and explored")
    (row,) = run.rows
    assert row["status"] == "error", row["message"]
    assert row["message"].startswith("could not be checked: [ID-1] the Location header of the created message")
    assert "while checking SENT-1 with case {" in row["message"]
    assert not any(n.startswith("falsified by") for n in row["notes"])
