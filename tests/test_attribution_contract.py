"""The results contract's attribution: a check failure is ``failed`` only for the scenario whose
rule it names; naming another rule it is ``error``, with an observation for that rule."""
from __future__ import annotations

import pytest

from canvas_conformance import checks, results


def _failure(rule: str) -> AssertionError:
    with pytest.raises(AssertionError) as info:
        checks.fail(rule, "the Location header", "Communication/<id>", "'/x/1'")
    return info.value


@pytest.mark.parametrize("named, rules, status, seen", [
    ("ID-1", ["ID-1"], "failed", []),
    ("ID-1", ["SENT-1"], "error", ["ID-1"]),
    ("ID-1", ["SENT-1", "ID-1"], "failed", []),
    ("RCPT-1/FHIR-2", ["FHIR-2"], "failed", []),
    ("RCPT-1/SNDR-1", ["FHIR-8"], "error", ["RCPT-1", "SNDR-1"]),
    ("unknown rule", ["SENT-1"], "failed", []),  # a failure naming no catalogue rule is the scenario's own
    ("ID-1", [], "failed", []),  # a scenario with no rule owns whatever it finds
])
def test_a_check_failure_is_failed_for_its_own_rule_and_error_elsewhere(named, rules, status, seen):
    failure = _failure(named)
    assert results.failure_status(failure, rules=rules) == status
    assert [o["rule"] for o in results.observation(failure, rules)] == seen
    if seen:
        assert results.not_checked(failure) == "could not be checked: " + str(failure)
    assert results.failure_status(failure) == "failed"  # without the scenario's rules: the old classification
    assert results.failure_status(failure, during_call=False, rules=rules) == "error"


def test_the_rule_is_read_from_the_message_when_the_failure_carries_none():
    assert results.broken_rules(AssertionError("[ID-2] reading back: expected 200, got 404")) == ("ID-2",)
    with pytest.raises(pytest.fail.Exception) as info:
        pytest.fail("[RCPT-1] the create: expected a 4xx refusal, got status 201")
    assert results.failure_status(info.value, rules=["FHIR-2"]) == "error"
    assert results.broken_rules(AssertionError("plain assert")) == ()
    assert results.broken_rules(KeyError(0)) == ()
    assert results.failure_status(KeyError(0), rules=["FHIR-7"]) == "error"
