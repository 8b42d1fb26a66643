"""The features' vocabulary: typed parse types that turn phrases into values.

Why: steps read as facts ("a message from a patient to another patient", "its recipient
is an empty reference") and each phrase is parsed once, here, into the value the step
needs, so a misspelt phrase fails to match instead of silently meaning something else.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import parse


class Person(NamedTuple):
    """"a patient" is the first known patient, "another patient" the second."""

    kind: str  # Patient | Practitioner
    index: int


@parse.with_pattern(r"(?:a|another) (?:patient|practitioner)")
def person(text: str) -> Person:
    article, role = text.split(" ", 1)
    return Person(role.capitalize(), 0 if article == "a" else 1)


@parse.with_pattern(r"absent|an empty list")
def shape(text: str) -> str:
    """How a required element is missing: left out, or given as []."""
    return "absent" if text == "absent" else "empty"


@parse.with_pattern(r'"[^"]*"|an empty reference|a display name only')
def reference(text: str) -> dict:
    """A Reference element: a quoted reference string, an empty one, or one with no reference at all."""
    if text == "an empty reference":
        return {"reference": ""}
    if text == "a display name only":
        return {"display": "Front desk"}
    return {"reference": text[1:-1]}


def _verbatim(pattern: str):
    """A parser type for a phrase taken as written, one of the alternatives in ``pattern``."""
    @parse.with_pattern(pattern)
    def phrase(text: str) -> str:
        return text
    return phrase


@parse.with_pattern(r"no bearer token|an unknown bearer token|an expired bearer token")
def credential(text: str) -> str:
    return {"no bearer token": "missing", "an unknown bearer token": "unknown",
            "an expired bearer token": "expired"}[text]


@parse.with_pattern(r'text that is not JSON|a JSON array holding the message|a resource of type "[A-Za-z]+"'
                    r"|a message without a resourceType")
def bad_body(text: str) -> tuple[str, str | None]:
    """What a body that is not a Communication is: (kind, resource type for the wrong-type case)."""
    if text.startswith("a resource of type"):
        return "wrong type", text.split('"')[1]
    return {"text that is not JSON": "not json", "a JSON array holding the message": "array",
            "a message without a resourceType": "no type"}[text], None


@parse.with_pattern(r"replace|delete")
def change(text: str) -> str:
    return {"replace": "PUT", "delete": "DELETE"}[text]


@parse.with_pattern(r"id|sender|recipient|patient")
def search_key(text: str) -> str:
    return {"id": "_id"}.get(text, text)


STATUS_ABSENT = "absent"  # its status left out (steps compare with this, a string no status code equals)


@parse.with_pattern(r'absent|null|an empty text|"[^"]*"')
def status(text: str):
    """A create's status: left out, null, "" or a quoted code (any letter case, as written)."""
    return {"absent": STATUS_ABSENT, "null": None, "an empty text": ""}.get(text, text[1:-1])


def _provocation_pattern() -> str:
    from .provoke import PROVOCATIONS

    return "|".join(re.escape(name) for name in PROVOCATIONS)


TYPES = {
    "Person": person, "Shape": shape, "Reference": reference, "Credential": credential, "BadBody": bad_body,
    "Change": change, "SearchKey": search_key, "Status": status,
    "Provocation": _verbatim(_provocation_pattern()),  # a request named in provoke.PROVOCATIONS
    # phrases taken as written
    "Quoted": _verbatim(r'[^"]*'),  # the text between quotes, which may be empty
    "TextField": _verbatim(r"contentString|content"),
    "MediaType": _verbatim(r"application/fhir\+json|application/json"),
    "TimeElement": _verbatim(r"sent|received"),
    "Required": _verbatim(r"recipient|sender|payload"),  # an element every create must have
    "PartyElement": _verbatim(r"recipient|sender"),
    "PersonKind": _verbatim(r"Patient|Practitioner"),
}


def phrase(template: str):
    """A pytest-bdd ``parsers.parse`` for ``template`` that knows this vocabulary's types."""
    from pytest_bdd import parsers

    return parsers.parse(template, extra_types=TYPES)
