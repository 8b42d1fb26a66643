"""Which refused drafts need a search before they are sent ("nothing stored", message_steps.preexisting).

A draft whose text carries its marker, or whose ``sent`` is its marker's instant, is known by that
marker alone: no search is sent before it. A draft whose text cannot carry the marker and whose
``sent`` the scenario chose itself is known only as a blank message of its parties, so the blank
messages already there are searched first and set aside. The target is a stand-in (``responses``)
that records every request.
"""
from __future__ import annotations

import pytest
import responses

from canvas_conformance.client import Client
from steps.bodies import between, changed, marker_instant
from steps.message_steps import preexisting
from steps.target import Target

REMOTE = "https://fumage-example.canvasmedical.com"
PATIENT, PRACTITIONER = "Patient/p1", "Practitioner/d1"
BLANK = {"resourceType": "Communication", "id": "old-blank", "sent": "2021-04-29T10:00:00Z",
         "payload": [{"contentString": ""}]}
BUNDLE = {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [{"resource": BLANK}]}


def _draft(**changes):
    draft = between("practitioner_to_patient", sender=PRACTITIONER, recipient=PATIENT)
    return changed(draft, **changes) if changes else draft


def _blank_text(draft):
    return changed(draft, payload=[{"contentString": ""}])


@pytest.mark.parametrize("make, searched", [
    (lambda: _draft(), False),  # the marker is in the text
    (lambda: _blank_text(_draft()), False),  # no text: sent becomes the marker's instant
    (lambda: _draft(payload=[{"contentString": ""}], sent="2021-04-29T10:00:00Z"), True),  # no text, its own sent
], ids=["marker in the text", "marker in sent", "neither"])
@responses.activate
def test_a_search_before_the_create_only_when_the_marker_cannot_be_carried(make, searched):
    search = responses.get(f"{REMOTE}/Communication", json=BUNDLE)
    target = Target(Client(REMOTE, token="tok"), embedded=False, patients=("p1",), practitioners=("d1",))
    draft = make()
    before = preexisting(target, draft, draft.involved)
    assert (search.call_count > 0) is searched
    if searched:
        assert before == frozenset({"old-blank"})  # set aside: it was there before the draft
    else:
        assert before == frozenset()


def test_a_textless_draft_without_a_sent_of_its_own_is_sent_at_its_markers_instant():
    draft = _blank_text(_draft())
    assert draft.body["sent"] == marker_instant(draft.marker)
