"""The setup bodies in fixtures/communications.json are what any conforming FHIR R4 server accepts.

Why: a body a strict server refuses turns every scenario that creates it into a verdict about
the body, not the target (a ``minimal`` without ``status``, which FHIR R4 and Canvas v2 require,
once made a strict server "fail" UI-1). Each body is validated with ``fhir.resources``' R4B
Communication model; the one exception is the source document's own example, kept verbatim
(no status, text as the document's ``content``) because ID-1 checks that very example.
"""
from __future__ import annotations

import copy

import pytest
from fhir.resources.R4B.communication import Communication
from pydantic import ValidationError

VERBATIM = {"document_example"}  # the document's example as the document gives it, for ID-1


def _bodies(fixture_data) -> dict:
    return {k: v for k, v in fixture_data["communications"].items() if not k.startswith("_")}


def test_every_setup_body_is_a_valid_r4_communication_with_status_and_content_string(fixture_data):
    bodies = _bodies(fixture_data)
    assert set(bodies) - VERBATIM, "no setup bodies found"
    for name, body in bodies.items():
        if name in VERBATIM:
            continue
        Communication.model_validate(copy.deepcopy(body))  # raises on anything R4 refuses
        assert isinstance(body.get("status"), str) and body["status"], name
        assert all("contentString" in p and "content" not in p for p in body["payload"]), name


def test_the_validation_would_catch_a_body_without_status_or_with_content(fixture_data):
    """The check above can fail: R4B refuses exactly what a strict server refuses."""
    body = copy.deepcopy(fixture_data["communications"]["minimal"])
    del body["status"]
    with pytest.raises(ValidationError, match="status"):
        Communication.model_validate(body)
    with pytest.raises(ValidationError, match="content"):
        Communication.model_validate(copy.deepcopy(fixture_data["communications"]["document_example"]))
