"""Who the suite writes to: on a target that is not on loopback, only the people the user named.

``Target.people`` is asked by every scenario that creates a message. The remote target is the
tests' stand-in HTTP target (``responses``), which records every request, so the test can show
that no GET /Patient or /Practitioner was even sent without ``--discover-people``.
"""
from __future__ import annotations

import pytest
import responses

from canvas_conformance.client import Client
from steps.target import Target

REMOTE = "https://fumage-example.canvasmedical.com"
BUNDLE = {"resourceType": "Bundle", "type": "searchset",
          "entry": [{"resource": {"resourceType": "Patient", "id": "real-1"}},
                    {"resource": {"resourceType": "Patient", "id": "real-2"}}]}


@responses.activate
def test_a_remote_target_without_named_people_skips_and_never_searches():
    search = responses.get(f"{REMOTE}/Patient", json=BUNDLE)
    target = Target(Client(REMOTE, token="tok"), embedded=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        target.people("Patient", 2)
    assert search.call_count == 0
    reason = str(skipped.value)
    assert "needs 2 patients named for this target, 0 named" in reason
    assert "--patient or CANVAS_PATIENTS" in reason and "--discover-people" in reason


@responses.activate
def test_named_people_are_used_as_they_are():
    search = responses.get(f"{REMOTE}/Patient", json=BUNDLE)
    target = Target(Client(REMOTE, token="tok"), embedded=False, patients=("mine-1", "mine-2"))
    assert target.people("Patient", 2) == ("mine-1", "mine-2") and search.call_count == 0
    with pytest.raises(pytest.skip.Exception):
        Target(Client(REMOTE, token="tok"), embedded=False, patients=("mine-1",)).people("Patient", 2)


@responses.activate
def test_discover_people_allows_the_search_on_a_remote_target():
    search = responses.get(f"{REMOTE}/Patient", json=BUNDLE)
    target = Target(Client(REMOTE, token="tok"), embedded=False, discover=True)
    assert target.people("Patient", 2) == ("real-1", "real-2") and search.call_count == 1


@responses.activate
def test_a_loopback_target_is_searched_for_people():
    local = "http://127.0.0.1:5997"
    responses.get(f"{local}/Patient", json=BUNDLE)
    assert Target(Client(local, token="tok"), embedded=False).people("Patient", 1) == ("real-1",)
