"""The explored scenarios' input spaces: every API rule has dimensions, every dimension a strategy,
the strategies draw what the dimensions say, the same seed draws the same cases, and the search
shrinks a failure to a small case within its budget."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from canvas_conformance import catalogue, checks, config, explore
from canvas_conformance.references import parse_reference

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "features"
quick = settings(max_examples=150, database=None, deadline=None, suppress_health_check=list(HealthCheck))


def draws(strategy, n: int = 400, at: int = 1) -> list:
    """``n`` values of ``strategy`` under a fixed seed (a plain list, to count what came up)."""
    out = []

    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @seed(at)
    @given(strategy)
    def collect(value):
        out.append(value)

    collect()
    return out


# -- the written-down spaces ------------------------------------------------------------------------
def test_every_api_rule_has_dimensions_and_every_dimension_a_strategy():
    api = {r.id for p in catalogue.PROFILES for r in catalogue.rules(p) if r.surface == "api"}
    spaces = explore.dimensions()
    assert sorted(spaces) == sorted(api), "dimensions.json names exactly the API rules (of every profile)"
    for rule, dims in spaces.items():
        assert dims, f"{rule} has no dimensions"
        assert len({d.name for d in dims}) == len(dims), rule
        for d in dims:
            assert d.strategy in explore.STRATEGIES, f"{rule}'s dimension {d.name!r} names no strategy"
            assert d.covers.strip(), f"{rule}'s dimension {d.name!r} says nothing of what it covers"
        explore.case_strategy(rule).example  # noqa: B018 -- each builds


def test_every_api_rule_has_one_explored_scenario_and_a_case_check():
    from steps.explore_steps import CHECKS  # the suite's step module: every rule has its case's requests

    text = "\n".join(p.read_text(encoding="utf-8") for p in FEATURES.glob("*.feature"))
    explored = re.findall(r"@([A-Z]+-\d+) @api @explored\n\s+Scenario: (.+)\(explored\)",
                          text)
    api = sorted({r.id for p in catalogue.PROFILES for r in catalogue.rules(p) if r.surface == "api"})
    assert sorted(rule for rule, _ in explored) == api
    assert sorted(CHECKS) == api


def test_depths_and_default_seed_agree_with_the_configuration():
    assert tuple(explore.DEPTHS) == config.DEPTH_NAMES
    assert explore.DEFAULT_SEED == config.DEFAULT_SEED
    assert [o.default for o in config.OPTIONS if o.field in ("depth", "seed")] == ["standard", explore.DEFAULT_SEED]
    examples = [explore.DEPTHS[d][0] for d in config.DEPTH_NAMES]
    assert examples == sorted(examples) and len(set(examples)) == 3


# -- instants ---------------------------------------------------------------------------------------
def test_offsets_have_either_sign_with_and_without_minutes_and_reach_both_ends():
    seen = set(draws(explore.offsets(), 600))
    assert {"+05:45", "-09:30", "+14:00", "-12:00", "Z"} <= seen
    signed = [o for o in seen if o != "Z"]
    assert any(o.startswith("-") and not o.endswith(":00") for o in signed)
    assert any(o.startswith("+") and not o.endswith(":00") for o in signed)
    for o in signed:
        assert re.fullmatch(r"[+-]\d{2}:\d{2}", o) and -12 * 60 <= explore.offset_minutes(o) <= 14 * 60, o


def test_fractions_are_absent_or_one_to_six_digits():
    seen = draws(explore.fractions(), 600)
    assert None in seen
    assert {len(f) for f in seen if f} == {1, 2, 3, 4, 5, 6}
    assert all(f is None or f.isdigit() for f in seen)


@quick
@given(explore.instants())
def test_an_instant_is_written_in_its_offset_and_means_its_utc_instant(case):
    written, utc = explore.instant_of(case)
    assert checks.parse_instant(written) == utc  # the harness's own reading agrees with the intended instant
    assert utc.tzinfo is not None and utc.astimezone(timezone.utc) == utc
    if case["offset"] not in ("Z", "+00:00", "-00:00"):
        assert not written.endswith("Z")
    fraction = case["fraction"]
    assert (("." + fraction) in written) if fraction else ("." not in written)


def test_instants_cross_days_months_years_and_leap_days():
    cases = draws(explore.instants(), 800)
    crossing = [c for c in cases if explore.crosses_date(c)]
    written = [explore.instant_of(c).written for c in crossing]
    utc_dates = {c["at"][:10] for c in crossing}
    assert any(w[5:7] != c["at"][5:7] for w, c in zip(written, crossing)), "a conversion crosses a month"
    assert any(w[:4] != c["at"][:4] for w, c in zip(written, crossing)), "a conversion crosses a year"
    assert any("-02-29" in d for d in utc_dates | {w[:10] for w in written}), "a leap day"


def test_past_instants_end_before_any_run():
    assert max(c["at"] for c in draws(explore.STRATEGIES["past instants"](), 300)) < "2022"


def test_malformed_instants_are_never_fhir_instants():
    fhir = re.compile(r"\A" + explore_instant_pattern() + r"\Z")
    for value in draws(explore.malformed_instants(), 500):
        if isinstance(value, str) and fhir.match(value):
            try:
                datetime.fromisoformat(value)
            except ValueError:
                continue  # the right shape, but no real date (2021-02-30)
            pytest.fail(f"{value!r} is a valid instant")


def explore_instant_pattern() -> str:
    """FHIR R4's instant, as fhir.schema.json has it (years, months, days by shape alone)."""
    return (r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
            r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))")


# -- references, missing elements, people -----------------------------------------------------------
def test_foreign_references_name_no_patient_or_practitioner_in_any_form():
    seen = draws(explore.foreign_references(), 800)
    for kind in ("Patient", "Practitioner"):
        for element in seen:
            value = element.get("reference") if isinstance(element, dict) else None
            if isinstance(value, str):
                value = value.replace("<Kind>", kind).replace("<kind>", kind.lower()).replace(
                    "<KIND>", kind.upper()).replace("<self>", "5350cd20de8a470aa570a852859ac87e")
                if "://" in value:  # a Patient/Practitioner, but on another server
                    assert not value.startswith("http://127.0.0.1"), value
                    continue
                parsed = parse_reference(value)
                assert parsed is None or parsed.type not in ("Patient", "Practitioner"), value
    references = [e["reference"] for e in seen if isinstance(e.get("reference"), str)]
    assert any(r.startswith(("http://", "https://")) for r in references), "absolute URLs to other hosts"
    assert any(r.startswith("#") for r in references), "contained references"
    assert any(r.startswith("<kind>/") for r in references), "lower-case types"
    assert any(r != r.strip() or " " in r for r in references), "white space"
    assert any(r.endswith("/") for r in references), "trailing slash or empty id"
    assert any(len(r.split("/", 1)[-1]) > 64 for r in references), "ids over 64 characters"
    assert any(r.split("/")[0] in explore.OTHER_TYPES for r in references), "other resource types"
    assert {"display": "Front desk"} in seen and {"reference": None} in seen and {"reference": ""} in seen


def test_missing_shapes_are_absent_null_and_empty():
    assert set(draws(explore.missing_lists(), 60)) == {"absent", "null", "empty list"}
    assert set(draws(explore.missing_objects(), 60)) == {"absent", "null", "empty object"}


def test_further_people_come_in_every_length_and_order_of_kinds():
    seen = draws(explore.further_people(), 600)
    assert {len(s) for s in seen} == {0, 1, 2, 3, 4}
    kinds = {tuple("Patient" if "patient" in p else "Practitioner" for p in s) for s in seen if len(s) == 2}
    assert len(kinds) == 4, "both kinds in both orders"


def test_unknown_ids_are_valid_fhir_ids_that_name_no_one():
    for ident in draws(explore.unknown_ids(), 300):
        assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", ident) and ident.startswith("no-such-"), ident


# -- texts and payloads -----------------------------------------------------------------------------
def test_texts_go_beyond_ascii_and_are_never_blank():
    seen = draws(explore.texts(), 800)
    assert all(t.strip() for t in seen)
    joined = "".join(seen)
    for group, pieces in explore.TEXT_PIECES.items():
        assert any(p in joined for p in pieces), group
    assert any(t != t.strip() for t in seen), "leading or trailing white space"
    assert any(len(t) > 1000 for t in seen), "long texts"
    assert any("\n" in t for t in seen) and any("\t" in t for t in seen)
    assert all(ord(c) >= 32 or c in "\t\n\r" for c in joined), "FHIR strings carry no other control characters"


def test_further_payloads_come_in_every_length_and_kind():
    seen = draws(explore.further_payloads(), 600)
    assert {len(s) for s in seen} == {0, 1, 2, 3, 4}
    kinds = {next(iter(e), "none") + ("(empty)" if e and not next(iter(e.values())) else "") for s in seen for e in s}
    assert kinds >= {"content", "contentString", "content(empty)", "contentString(empty)", "none"}


def test_media_types_are_both_json_types_with_parameters_and_any_case():
    seen = set(draws(explore.media_types(), 400))
    bases = {m.split(";")[0].lower() for m in seen}
    assert bases == {"application/fhir+json", "application/json"}
    assert any(";" in m for m in seen) and any(m != m.lower() for m in seen)


def test_page_sizes_and_offsets_reach_every_boundary():
    sizes, offsets = set(draws(explore.page_sizes(), 400)), set(draws(explore.page_offsets(), 400))
    assert {"0", "1", "total-1", "total", "total+1", "101"} <= sizes
    assert {"absent", "0", "total", "total+1"} <= offsets


def test_every_case_is_plain_json():
    for rule in explore.dimensions():
        for case in draws(explore.case_strategy(rule), 30):
            assert json.loads(json.dumps(case)) == json.loads(explore.describe(case))


# -- the search -------------------------------------------------------------------------------------
def test_the_same_seed_draws_the_same_cases_and_another_seed_others():
    def cases(at: int) -> list:
        seen = []
        explore.falsify(explore.case_strategy("SENT-1"), seen.append, examples=20, seed=at, shrink_budget=10)
        return seen

    assert cases(5) == cases(5)
    assert cases(5) != cases(6)


def test_a_failure_is_shrunk_to_a_small_case_within_the_budget():
    tried = []

    def check(case):
        tried.append(case)
        if case["n"] >= 10 and "x" in case["text"]:
            raise AssertionError("[T-1] too big")

    strategy = st.fixed_dictionaries({"n": st.integers(0, 10 ** 6), "text": st.text(alphabet="abx", max_size=30)})
    outcome = explore.falsify(strategy, check, examples=200, seed=1, shrink_budget=500)
    assert outcome.falsified == {"n": 10, "text": "x"}
    assert outcome.message == "[T-1] too big" and outcome.error is None
    assert outcome.cases == len(tried)


def test_shrinking_stops_at_the_budget_with_a_failing_case():
    calls = []

    def check(case):
        calls.append(case)
        if case >= 1000:
            raise AssertionError("[T-1] big")

    outcome = explore.falsify(st.integers(0, 10 ** 9), check, examples=500, seed=3, shrink_budget=3)
    assert outcome.falsified is not None and outcome.falsified >= 1000
    after_first = len(calls) - next(i for i, c in enumerate(calls) if c >= 1000) - 1
    assert after_first <= 3


def test_an_error_stops_the_search_at_once_and_is_not_a_falsification():
    calls = []

    def check(case):
        calls.append(case)
        if len(calls) == 3:
            raise ConnectionError("no answer")

    outcome = explore.falsify(st.integers(), check, examples=50, seed=1, shrink_budget=10)
    assert outcome.falsified is None and isinstance(outcome.error, ConnectionError)
    assert outcome.error_case == calls[2] and len(calls) == 3


def test_a_check_of_another_rule_is_an_error_not_a_falsification():
    def check(case):
        raise AssertionError("[ID-1] the Location header: expected ..., got ...")

    outcome = explore.falsify(st.integers(), check, examples=10, seed=1, shrink_budget=10,
                              counts_as_failure=lambda err: str(err).startswith("[SENT-1]"))
    assert outcome.falsified is None and isinstance(outcome.error, AssertionError) and outcome.cases == 1


def test_a_seed_draws_the_same_cases_in_another_process_with_other_modules_loaded(tmp_path):
    """Here the mock, the steps and the tests are loaded; in a fresh process, in another folder, only
    explore.py is: the same seed draws the same cases in both."""
    import subprocess
    import sys

    import mock_server.validation  # noqa: F401 -- more local modules, with many literals
    import steps.explore_steps  # noqa: F401

    def here() -> list:
        seen = []
        for rule in ("FHIR-7", "SENT-1", "RCPT-2"):
            explore.falsify(explore.case_strategy(rule), seen.append, examples=40, seed=9, shrink_budget=0)
        return seen

    code = ("import json; from canvas_conformance import explore; seen = []\n"
            "for rule in ('FHIR-7', 'SENT-1', 'RCPT-2'):\n"
            "    explore.falsify(explore.case_strategy(rule), seen.append, examples=40, seed=9, shrink_budget=0)\n"
            "print(json.dumps(seen))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(json.dumps(here()))


def test_the_suite_writes_no_hypothesis_folder_where_it_runs(tmp_path):
    import subprocess
    import sys

    code = ("from canvas_conformance import explore; seen = []; "
            "explore.falsify(explore.case_strategy('PAY-4'), seen.append, examples=30, seed=1, shrink_budget=0); "
            "explore.falsify(explore.case_strategy('RCPT-2'), seen.append, examples=30, seed=1, shrink_budget=0); "
            "print(len(seen))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == 60 and not (tmp_path / ".hypothesis").exists()


def test_a_case_left_out_is_not_sent_and_another_is_drawn():
    checked = []

    def check(case):
        if case % 2:
            explore.leave_out()
        checked.append(case)

    outcome = explore.falsify(st.integers(0, 10 ** 6), check, examples=20, seed=2, shrink_budget=0)
    assert outcome.falsified is None and outcome.error is None
    assert outcome.cases == len(checked) > 0 and all(c % 2 == 0 for c in checked)
    assert outcome.left_out > 0


def test_a_case_that_held_is_not_sent_again_and_a_small_space_is_tried_once_through():
    checked = []
    strategy = st.fixed_dictionaries({"shape": st.sampled_from(("absent", "null", "empty")),
                                      "direction": st.sampled_from(("a->b", "b->a"))})
    outcome = explore.falsify(strategy, checked.append, examples=12, seed=explore.DEFAULT_SEED, shrink_budget=0)
    keys = [json.dumps(c, sort_keys=True) for c in checked]
    assert len(keys) == len(set(keys)) == 6 == outcome.cases
    assert outcome.left_out == 0 and outcome.falsified is None


# -- cases sent ahead -------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", ["SENT-1", "RCPT-1", "PAY-3", "FHIR-8", "RECV-2"])
def test_the_planned_cases_are_those_the_search_sends_while_every_case_holds(rule):
    first = explore.boundary_cases(rule)
    sent = []
    explore.falsify(explore.case_strategy(rule), sent.append, examples=12, seed=7, shrink_budget=0, first=first)
    assert explore.planned(explore.case_strategy(rule), examples=12, seed=7, first=first) == sent


def _sending_ahead_context():
    import types

    from canvas_conformance.client import Client

    return types.SimpleNamespace(target=types.SimpleNamespace(client=Client("http://127.0.0.1:9")), rule="T-1", case=0,
                                 sweep=None)


def _slow_check(ctx, case):
    """Notes its number and case, after a wait that makes later cases finish first; fails on 7s."""
    import time

    time.sleep((case["n"] % 5) / 500)
    ctx.target.client.note(f"case {ctx.case}: {case['n']}")
    if case["n"] % 10 == 7:
        raise AssertionError(f"[T-1] {case['n']} ends in 7")


def test_cases_sent_ahead_are_judged_as_if_sent_one_by_one():
    """Same outcome, same cases, same evidence in the same order as a search sending each case in its
    turn, although the cases sent ahead finished in another order, four at a time."""
    from canvas_conformance.client import Evidence
    from steps import explore_steps

    strategy = st.fixed_dictionaries({"n": st.integers(0, 10 ** 4)})
    runs = {}
    for at_once in (1, 4):
        ctx, evidence = _sending_ahead_context(), Evidence()
        ahead = {}
        if at_once > 1:
            ahead = explore_steps.send_ahead(ctx, _slow_check, explore.planned(strategy, examples=30, seed=4),
                                             at_once=at_once)
            assert len(ahead) == 30
        ctx.target.client.evidence = evidence
        outcome = explore.falsify(strategy, explore_steps.judge(ctx, _slow_check, ahead, evidence),
                                  examples=30, seed=4, shrink_budget=20)
        runs[at_once] = (outcome, evidence.notes)
    (one, one_notes), (four, four_notes) = runs[1], runs[4]
    assert one.falsified is not None and one.falsified["n"] % 10 == 7
    assert four == one and four_notes == one_notes
    numbers = [int(n.split(":")[0].split()[1]) for n in four_notes]
    assert numbers == list(range(1, len(numbers) + 1))


def test_a_case_left_out_ahead_is_left_out_again_in_its_turn():
    from canvas_conformance.client import Evidence
    from steps import explore_steps

    def check(ctx, case):
        if case % 3 == 0:
            explore.leave_out()
        ctx.target.client.note(f"case {ctx.case}: {case}")

    strategy = st.integers(0, 10 ** 6)
    ctx, evidence = _sending_ahead_context(), Evidence()
    ahead = explore_steps.send_ahead(ctx, check, explore.planned(strategy, examples=20, seed=5), at_once=3)
    ctx.target.client.evidence = evidence
    outcome = explore.falsify(strategy, explore_steps.judge(ctx, check, ahead, evidence), examples=20, seed=5,
                              shrink_budget=0)
    sequential_ctx, sequential = _sending_ahead_context(), Evidence()
    sequential_ctx.target.client.evidence = sequential
    alone = explore.falsify(strategy, explore_steps.judge(sequential_ctx, check, {}, sequential), examples=20,
                            seed=5, shrink_budget=0)
    assert outcome == alone and evidence.notes == sequential.notes and outcome.left_out > 0
