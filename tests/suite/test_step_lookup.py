"""steps/step_lookup.py: pytest-bdd's step-definition lookup, asked once per (module, step type, text)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from steps import step_lookup


class Node:
    def __init__(self, nodeid: str, module: "Node | None" = None):
        self.nodeid, self.module = nodeid, module

    def getparent(self, cls):
        assert cls is pytest.Module
        return self.module


@pytest.fixture
def asked(monkeypatch):
    calls = []

    def find(step, fixturemanager, node):
        calls.append((step.type, step.name, node.nodeid))
        yield f"definition of {step.type} {step.name!r}"
        yield "an overriding definition"

    monkeypatch.setattr(step_lookup, "PYTEST_BDD_FIND", find)
    return calls


def step(kind: str, text: str):
    return SimpleNamespace(type=kind, name=text)


def test_the_same_step_in_another_scenario_of_the_module_is_not_looked_up_again(asked):
    manager = SimpleNamespace()
    module = Node("steps/test_conformance.py")
    first, second = Node("steps/test_conformance.py::test_a", module), Node("steps/test_conformance.py::test_b", module)
    found = [list(step_lookup.find_fixturedefs_for_step(step("when", "it is submitted"), manager, n))
             for n in (first, second)]
    assert found[0] == found[1] == ["definition of when 'it is submitted'", "an overriding definition"]
    assert asked == [("when", "it is submitted", "steps/test_conformance.py::test_a")]


@pytest.mark.parametrize("other", [
    pytest.param(("then", "it is submitted", "steps/test_conformance.py"), id="another step type"),
    pytest.param(("when", "it is submitted twice", "steps/test_conformance.py"), id="another text"),
    pytest.param(("when", "it is submitted", "steps/test_other.py"), id="another module"),
])
def test_what_can_change_the_definitions_is_looked_up_anew(asked, other):
    manager = SimpleNamespace()
    kind, text, module = other
    step_lookup.find_fixturedefs_for_step(step("when", "it is submitted"), manager,
                                          Node("steps/test_conformance.py::test_a", Node("steps/test_conformance.py")))
    list(step_lookup.find_fixturedefs_for_step(step(kind, text), manager, Node(f"{module}::test_b", Node(module))))
    assert len(asked) == 2


def test_a_new_session_looks_up_again(asked):
    """The answers are kept on the session's fixture manager: another session (another manager) has its own."""
    module = Node("steps/test_conformance.py")
    for manager in (SimpleNamespace(), SimpleNamespace()):
        step_lookup.find_fixturedefs_for_step(step("given", "a patient"), manager, Node("m::t", module))
    assert len(asked) == 2


def test_the_suite_looks_steps_up_through_it():
    import importlib

    import steps.conftest  # noqa: F401  -- installs it

    assert importlib.import_module("pytest_bdd.scenario").find_fixturedefs_for_step is step_lookup.find_fixturedefs_for_step
