"""The project's own rule catalogue (catalogue.json): its profiles, and per profile the rules with
their kind, surface, section and title.

A profile is one edition of Canvas's documented behaviour: ``canvas-2022`` (the mid-2022 page of
the v1 API, the default) and ``canvas-current`` (today's v2 API). A rule belongs to the profiles
that name it, with a kind per profile (documented in one, inferred in the other); a rule a profile
does not name is not judged in a run of that profile, nor counted.

Why a copy of the rules pages: the harness must run where ``../shared`` is absent.
``tests/test_catalogue.py`` keeps the catalogue in step with ``../shared/spec/rules.md`` and
``../shared/spec/canvas-current.md``.
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
    kind: str  # documented | inferred, in the profile asked for
    surface: str  # api | ui
    section: str  # the source's section (or the convention) it comes from, in that profile
    title: str  # the rule in this project's words


class Profile(NamedTuple):
    name: str
    source: str  # the document the profile's documented rules come from
    source_title: str
    edition: str
    api: str  # which Canvas API and hosts it describes
    sources: tuple[str, ...] = ()  # every public page the profile's rules cite, beside ``source``


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))


DEFAULT_PROFILE: str = _data()["default_profile"]
PROFILES: tuple[str, ...] = tuple(_data()["profiles"])


def profile_info(name: str = DEFAULT_PROFILE) -> Profile:
    entry = dict(_data()["profiles"][name])
    entry["sources"] = tuple(entry.get("sources", ()))
    return Profile(name, **entry)


@lru_cache(maxsize=None)
def rules(profile: str = DEFAULT_PROFILE) -> tuple[Rule, ...]:
    """The rules of ``profile``, in catalogue order, each with that profile's kind and section."""
    if profile not in PROFILES:
        raise KeyError(f"unknown profile {profile!r}")
    out = []
    for row in _data()["rules"]:
        entry = row["profiles"].get(profile)
        if entry is not None:
            out.append(Rule(row["id"], entry["kind"], row["surface"], entry.get("section", row["section"]),
                            entry.get("title", row["title"])))
    return tuple(out)


@lru_cache(maxsize=1)
def all_rule_ids() -> tuple[str, ...]:
    """Every rule ID of every profile: the tags a feature file may carry."""
    return tuple(row["id"] for row in _data()["rules"])


def rule(rule_id: str, profile: str = DEFAULT_PROFILE) -> Rule:
    for r in rules(profile):
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


def in_profile(rule_ids, profile: str = DEFAULT_PROFILE) -> bool:
    """Whether a scenario tagged with ``rule_ids`` (catalogue IDs among its tags) is judged in ``profile``:
    every rule it checks belongs to the profile. A scenario tagged with no rule belongs to all."""
    known = set(all_rule_ids())
    mine = {r.id for r in rules(profile)}
    return {t for t in rule_ids if t in known} <= mine


def source(profile: str = DEFAULT_PROFILE) -> str:
    return profile_info(profile).source


def edition(profile: str = DEFAULT_PROFILE) -> dict:
    """What a report names as the catalogue it judged by: the profile's source and edition, and the file's digest."""
    raw = CATALOGUE_FILE.read_bytes()
    info = profile_info(profile)
    return {"source": info.source, "edition": info.edition, "rules": len(rules(profile)),
            "sha256": hashlib.sha256(raw).hexdigest()}


def kind_tags(tags, profile: str = DEFAULT_PROFILE) -> frozenset[str]:
    """``tags`` with the kind (documented, inferred) each of its rules has in ``profile``: a rule's kind
    lives here, not in the feature files, since it differs between profiles."""
    kinds = {r.id: r.kind for r in rules(profile)}
    return frozenset(tags) | {kinds[t] for t in tags if t in kinds}


def surface(rule_id: str) -> str | None:
    """Where a rule is seen (api, ui), in any profile; None for an ID the catalogue lacks."""
    return next((row["surface"] for row in _data()["rules"] if row["id"] == rule_id), None)
