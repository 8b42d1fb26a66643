"""A reference with a trailing newline (or other white space) names no one: refused like any other
malformed reference (RCPT-2, SNDR-2), never read as the person it almost names."""
from __future__ import annotations

import copy

import pytest


@pytest.mark.parametrize("party, rule", [("recipient", "RCPT-2"), ("sender", "SNDR-2")])
@pytest.mark.parametrize("tail", ["\n", " ", "\t", "\r\n"])
def test_a_reference_with_trailing_white_space_is_refused(api, outcome, fixture_data, party, rule, tail):
    body = copy.deepcopy(fixture_data["communications"]["practitioner_to_patient"])
    before = api.total()
    element = body["recipient"][0] if party == "recipient" else body["sender"]
    element["reference"] += tail
    outcome(api.create(body), 422, rule)
    assert api.total() == before
