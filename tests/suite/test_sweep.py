"""The "nothing stored" sweep of an explored scenario (steps/sweep.py).

Held refusals are judged by one search of each party they name, each against its own parties'
answers; a stored copy is pinned on the case that sent it, never on the case being checked when the
sweep went out; the sweep goes out before too many cases, creates or seconds pile up; and when the
search run again case by case finds nothing (a target that stores at random), the sweep's finding
stands. The target is a stand-in (``responses``) that records every request.
"""
from __future__ import annotations

import pytest
import responses

from canvas_conformance import explore
from canvas_conformance.client import Client, Evidence
from steps import sweep as sweep_module
from steps.bodies import between, changed, refused
from steps.explore_steps import Context, _swept
from steps.message_steps import Submission, submit
from steps.sweep import StoredEarlier, Sweep
from steps.target import Target

REMOTE = "https://fumage-example.canvasmedical.com"


def _target() -> Target:
    return Target(Client(REMOTE, token="tok"), embedded=False, patients=("p1", "p2"), practitioners=("d1", "d2"))


def _bundle(*resources):
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"resource": r} for r in resources]}


def _refusal(target: Target, rule: str = "RCPT-2", **changes) -> Submission:
    draft = refused(between("practitioner_to_patient", sender="Practitioner/d1", recipient="Patient/p1"), rule)
    return submit(target, changed(draft, **changes) if changes else draft, name="create")


def _stored(submission: Submission, ident: str) -> dict:
    return {**submission.draft.body, "id": ident}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@responses.activate
def test_held_refusals_are_judged_by_one_search_of_each_party():
    responses.post(f"{REMOTE}/Communication", status=400, json={"resourceType": "OperationOutcome", "issue": []})
    search = responses.get(f"{REMOTE}/Communication", json=_bundle())
    target = _target()
    sweep = Sweep(target, clock=Clock())
    for n in range(5):
        sweep.sent()
        sweep.hold(_refusal(target), rule="RCPT-2", case={"n": n})
    assert search.call_count == 0, "nothing is searched while the cases wait"
    sweep.flush()
    # patient=p1 and sender=Practitioner/d1: two searches for five cases, not ten
    assert search.call_count == 2
    assert (sweep.judged, sweep.held) == (5, [])


@responses.activate
def test_a_stored_copy_is_pinned_on_the_case_that_sent_it():
    responses.post(f"{REMOTE}/Communication", status=400, json={"resourceType": "OperationOutcome", "issue": []})
    target = _target()
    sweep = Sweep(target, clock=Clock())
    held = []
    for n, rule in enumerate(["RCPT-2", "SNDR-2", "PAY-3"]):
        sweep.sent()
        held.append(_refusal(target, rule))
        sweep.hold(held[-1], rule=rule, case={"n": n})
    responses.get(f"{REMOTE}/Communication", json=_bundle(_stored(held[1], "copy-1")))
    with pytest.raises(StoredEarlier) as raised:
        sweep.flush()
    assert raised.value.held.case == {"n": 1}
    assert isinstance(raised.value.failure, AssertionError)
    assert str(raised.value.failure).startswith("[SNDR-2]")


@responses.activate
def test_another_case_of_the_same_parties_is_not_taken_for_a_copy():
    responses.post(f"{REMOTE}/Communication", status=400, json={"resourceType": "OperationOutcome", "issue": []})
    target = _target()
    sweep = Sweep(target, clock=Clock())
    mine = _refusal(target)
    sweep.sent()
    sweep.hold(mine, rule="RCPT-2", case={})
    other = between("practitioner_to_patient", sender="Practitioner/d1", recipient="Patient/p1")
    responses.get(f"{REMOTE}/Communication", json=_bundle({**other.body, "id": "someone-else"}))
    sweep.flush()  # no StoredEarlier: the stored message carries another marker


@pytest.mark.parametrize("pile, expected", [
    ("held", sweep_module.MAX_HELD),
    ("creates", sweep_module.MAX_CREATES),
    ("seconds", None),
], ids=["too many cases held", "too many creates since the oldest", "the oldest too old"])
@responses.activate
def test_the_sweep_goes_out_before_too_much_piles_up(pile, expected):
    responses.post(f"{REMOTE}/Communication", status=400, json={"resourceType": "OperationOutcome", "issue": []})
    search = responses.get(f"{REMOTE}/Communication", json=_bundle())
    target, clock = _target(), Clock()
    sweep = Sweep(target, clock=clock)
    sweep.sent()
    sweep.hold(_refusal(target), rule="RCPT-2", case={})
    if pile == "held":
        for _ in range(expected - 2):
            sweep.sent()
            sweep.hold(_refusal(target), rule="RCPT-2", case={})
        assert search.call_count == 0
        sweep.sent()
        sweep.hold(_refusal(target), rule="RCPT-2", case={})
    elif pile == "creates":
        for _ in range(expected - 1):
            sweep.sent()
        sweep.flush_if_due()
        assert search.call_count == 0
        sweep.sent()
        sweep.flush_if_due()
    else:
        clock.now += sweep_module.MAX_AGE * 0.9
        sweep.flush_if_due()
        assert search.call_count == 0
        clock.now += sweep_module.MAX_AGE * 0.2
        sweep.flush_if_due()
    assert search.call_count > 0 and sweep.held == []


@responses.activate
def test_a_draft_known_only_as_a_blank_message_is_not_held():
    responses.post(f"{REMOTE}/Communication", status=400, json={"resourceType": "OperationOutcome", "issue": []})
    responses.get(f"{REMOTE}/Communication", json=_bundle())
    target = _target()
    sweep = Sweep(target, clock=Clock())
    blank_own_sent = _refusal(target, "PAY-3", payload=[{"contentString": ""}], sent="2021-04-29T10:00:00Z")
    blank_marker_sent = _refusal(target, "PAY-3", payload=[{"contentString": ""}])
    assert not sweep.takes(blank_own_sent)
    assert sweep.takes(blank_marker_sent) and sweep.takes(_refusal(target))


OUTCOME = explore.Outcome(cases=7, falsified=None, message=None, error=None, error_case=None)


@pytest.mark.parametrize("rule, verdict", [("RCPT-2", "falsified"), ("SNDR-2", "error")],
                         ids=["the scenario's rule", "another rule"])
@responses.activate
def test_when_the_case_by_case_search_finds_nothing_the_sweeps_finding_stands(rule, verdict):
    responses.post(f"{REMOTE}/Communication", status=400, json={"resourceType": "OperationOutcome", "issue": []})
    target = _target()
    ctx = Context(target, "RCPT-2")
    ctx.sweep = Sweep(target, clock=Clock())
    held = _refusal(target, rule)
    ctx.sweep.hold(held, rule=rule, case={"recipient": "Location/x"})
    responses.get(f"{REMOTE}/Communication", json=_bundle(_stored(held, "copy")))
    reruns = []

    def again():
        reruns.append(1)
        return OUTCOME  # the second search: every case held (the target stored the copy only once)

    outcome = _swept(ctx, OUTCOME, Evidence(), again)
    assert reruns == [1]
    if verdict == "falsified":
        assert outcome.falsified == {"recipient": "Location/x"} and outcome.message.startswith("[RCPT-2]")
    else:
        assert outcome.error_case == {"recipient": "Location/x"} and str(outcome.error).startswith("[SNDR-2]")


@responses.activate
def test_a_failure_the_case_by_case_search_finds_is_the_verdict():
    responses.post(f"{REMOTE}/Communication", status=400, json={"resourceType": "OperationOutcome", "issue": []})
    target = _target()
    ctx = Context(target, "RCPT-2")
    ctx.sweep = Sweep(target, clock=Clock())
    held = _refusal(target)
    ctx.sweep.hold(held, rule="RCPT-2", case={"late": True})
    responses.get(f"{REMOTE}/Communication", json=_bundle(_stored(held, "copy")))
    found = OUTCOME._replace(falsified={"small": True}, message="[RCPT-2] the stored messages: ...")
    assert _swept(ctx, OUTCOME, Evidence(), lambda: found) == found


@responses.activate
def test_no_stored_copy_no_second_search():
    responses.post(f"{REMOTE}/Communication", status=400, json={"resourceType": "OperationOutcome", "issue": []})
    responses.get(f"{REMOTE}/Communication", json=_bundle())
    target = _target()
    ctx = Context(target, "RCPT-2")
    ctx.sweep = Sweep(target, clock=Clock())
    ctx.sweep.hold(_refusal(target), rule="RCPT-2", case={})
    evidence = Evidence()
    assert _swept(ctx, OUTCOME, evidence, lambda: pytest.fail("searched again")) == OUTCOME
    assert any("of 1 refusals judged in sweeps" in note for note in evidence.notes)


@responses.activate
def test_a_copy_met_by_a_case_the_search_never_judged_still_counts():
    """A case sent ahead may meet the sweep's finding in its own thread and never be judged (the search
    stopped earlier): the sweep keeps what it found, and the scenario is explored again."""
    responses.post(f"{REMOTE}/Communication", status=400, json={"resourceType": "OperationOutcome", "issue": []})
    target = _target()
    ctx = Context(target, "RCPT-2")
    ctx.sweep = Sweep(target, clock=Clock())
    held = _refusal(target)
    responses.get(f"{REMOTE}/Communication", json=_bundle(_stored(held, "copy")))
    ctx.sweep.hold(held, rule="RCPT-2", case={"ahead": True})
    with pytest.raises(StoredEarlier):
        ctx.sweep.flush()  # in the thread of a case whose gathered error the search never replays
    found = OUTCOME._replace(falsified={"ahead": True}, message="[RCPT-2] the stored messages: ...")
    assert _swept(ctx, OUTCOME, Evidence(), lambda: found) == found
