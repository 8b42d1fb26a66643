"""Which step definitions match a step, worked out once per module, step type and step text.

pytest-bdd finds a step's definitions (``pytest_bdd.scenario.find_fixturedefs_for_step``) by asking
pytest for every fixture name visible to the item and trying the parser of each step definition on
the step's text: hundreds of lookups for every step of every scenario, a tenth of the scenarios'
time in a default API run. What it finds depends only on the step's type and
text and on which step definitions the item sees, and those are the same for every item of one test
module: step definitions are module- or conftest-level fixtures, never an item's own (what an item
adds at run time, a ``target_fixture`` value, is no step definition). So the answer is kept per
(module, step type, step text), and pytest-bdd still injects and resolves the definitions itself.
"""
from __future__ import annotations

import importlib

import pytest

BDD_SCENARIO = importlib.import_module("pytest_bdd.scenario")  # the module, not the function of that name
PYTEST_BDD_FIND = BDD_SCENARIO.find_fixturedefs_for_step
CACHE = "_canvas_step_definitions"  # kept on the session's fixture manager, so it ends with the session


def find_fixturedefs_for_step(step, fixturemanager, node):
    """``pytest_bdd.scenario.find_fixturedefs_for_step``: the same definitions in the same order."""
    found_by = fixturemanager.__dict__.setdefault(CACHE, {})
    module = node.getparent(pytest.Module)
    key = (module.nodeid if module is not None else node.nodeid, step.type, step.name)
    found = found_by.get(key)
    if found is None:
        found = found_by[key] = tuple(PYTEST_BDD_FIND(step, fixturemanager, node))
    return iter(found)


def install() -> None:
    """Have pytest-bdd look step definitions up through the cache (inject_fixturedefs_for_step calls the
    module's function by name)."""
    BDD_SCENARIO.find_fixturedefs_for_step = find_fixturedefs_for_step
