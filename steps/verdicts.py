"""Which rule a step's check judges, when a scenario meets more than its own rule on the way.

A verdict belongs to its rule (the results contract classifies a check failure naming another
rule as ``error`` for the scenario and keeps it as an observation for that rule). These helpers
say which rule a step holds the target to:

- a create the scenario expects accepted: the scenario's own rule when the create is its own
  question (an API rule whose scenario changed the setup body, or whose create is its point),
  else ID-1 ("a valid create answers 201 with a Location"); UI rules are about pages, so
  their creates are always setup;
- the read-back of a created message: ID-2 ("the Location id reads back the stored message");
- a bad body the target accepted: the rule that says it must be refused (``Draft.refused_by``).
"""
from __future__ import annotations

from canvas_conformance import catalogue

from .bodies import Draft

ACCEPTED = "ID-1"  # a valid create answers 201 Created with a Location
READ_BACK = "ID-2"  # the Location id reads back the stored message
# API rules whose scenarios create a plain message only to read, search or change it: a refusal
# of that create is no breach of theirs.
SETUP_CREATES = frozenset({"ID-2", "ID-3", "STAT-2", "SUBJ-1", "FHIR-3", "FHIR-6", "FHIR-7"})


def own(rule: str) -> tuple[str, ...]:
    """The scenario's rule IDs (the ``rule`` fixture joins them with "/")."""
    return tuple(r for r in rule.split("/") if r)


def _api(rule_id: str) -> bool:
    return catalogue.surface(rule_id) == "api"


def creation_rule(draft: Draft | None, rule: str) -> str:
    """The rule a refused create of ``draft`` breaks, in a scenario of ``rule``."""
    ids = own(rule)
    if ACCEPTED in ids:
        return ACCEPTED
    if ids and all(_api(r) for r in ids) and (
            (draft is not None and draft.varied) or not SETUP_CREATES.intersection(ids)):
        return rule
    return ACCEPTED


def refusal_rule(draft: Draft | None, rule: str) -> str:
    """The rule that requires this draft's refusal: its own mark, else the scenario's rule."""
    return draft.refused_by if draft is not None and draft.refused_by else rule
