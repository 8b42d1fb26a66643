"""The compiled fast path of schema validation never changes an answer (FHIR-1, RCPT-1, SNDR-1, PAY-1).

validation.py lets a body the compiled schema (fastjsonschema) accepts skip jsonschema's
``iter_errors``. That is only sound if the compiled check never accepts what jsonschema refuses.
These tests compare the two on every fixture message and on bodies broken one element at a time,
and compare whole answers with the fast path switched off, so a more lenient fast check fails here.
"""
from __future__ import annotations

import copy

from mock_server import validation

# What a broken element is replaced with: every JSON type, patterns' edge cases, a trailing newline
# (Python's ``$`` accepts it before the end; the compiled check refuses it, so jsonschema decides).
VALUES = [None, True, 0, 1.5, "", " ", "x", "Patient/", "not a date", "2021-04-29", "2021-04-29T13:30:00Z",
          "2021-04-29T13:30:00Z\n", "2021-13-29T25:30:00+15:00", "a b", "has\nnewline\n", [], [None], [{}],
          ["x"], {}, {"reference": 1}]


def _paths(node, path=()):
    """Every element's path in a JSON document (dict keys and list indexes)."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _replaced(document, path, value):
    changed = copy.deepcopy(document)
    node = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


def _removed(document, path):
    changed = copy.deepcopy(document)
    node = changed
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return changed


def _variants(fixture_data):
    """Every fixture message, and each of them broken one element at a time."""
    for name, body in fixture_data["communications"].items():
        if name.startswith("_"):
            continue
        yield body
        extras = {"id": "client id!", "status": "nope", "priority": 1, "subject": {"type": "a b"},
                  "note": [1], "meta": [], "identifier": [{}, 2], "category": "x"}
        for key, value in extras.items():
            yield {**body, key: value}
        for path in _paths(body):
            if not path:
                continue
            yield _removed(body, path)
            for value in VALUES:
                yield _replaced(body, path, value)


def _jsonschema_accepts(document) -> bool:
    return not any(True for _ in validation._validator().iter_errors(document))


def test_the_fast_check_accepts_only_what_jsonschema_accepts(fixture_data):
    checked = accepted = 0
    for document in _variants(fixture_data):
        checked += 1
        if validation._fast_valid(document):
            accepted += 1
            assert _jsonschema_accepts(document), document
    assert accepted >= 5 and checked > 500  # the fixtures themselves pass; many broken ones were tried


def test_the_fast_check_accepts_every_valid_fixture(fixture_data):
    for name, body in fixture_data["communications"].items():
        if not name.startswith("_"):
            assert validation._fast_valid(body), name


def test_answers_are_the_same_with_and_without_the_fast_path(fixture_data, client, auth, monkeypatch):
    """Status and OperationOutcome of every variant, first with the fast path, then with jsonschema only."""
    def answers() -> list:
        out = []
        for document in _variants(fixture_data):
            answer = client.post("/Communication", json=document, headers=auth)
            out.append((answer.status_code, None if answer.status_code == 201 else answer.json))
        return out

    with_fast = answers()
    monkeypatch.setattr(validation, "_fast_valid", lambda document: False)
    assert answers() == with_fast
    assert {status for status, _ in with_fast} >= {201, 400, 422}
