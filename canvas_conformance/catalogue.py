"""The project's own rule catalogue (catalogue.json): IDs, kind, surface, section and title.

Why a copy of the rules page: the harness must run where ``../shared`` is absent.
``tests/test_catalogue.py`` keeps the IDs in step with ``../shared/spec/rules.md``.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")


class Rule(NamedTuple):
    id: str
    kind: str  # documented | inferred
    surface: str  # api | ui
    section: str  # the source document's section (or the convention) it comes from
    title: str  # the rule in this project's words


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return tuple(Rule(**row) for row in data["rules"])


def rule(rule_id: str) -> Rule:
    for r in rules():
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


def source() -> str:
    return json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))["source"]


def profile() -> str:
    """The rule profile the catalogue checks (``canvas-2022``, the only one for now)."""
    return json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))["profile"]


def edition() -> dict:
    """What a report names as the catalogue it judged by: the source's edition and the file's digest."""
    raw = CATALOGUE_FILE.read_bytes()
    data = json.loads(raw)
    return {"source": data["source"], "edition": data["edition"], "rules": len(data["rules"]),
            "sha256": hashlib.sha256(raw).hexdigest()}
