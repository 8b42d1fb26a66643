"""FHIR literal references (``Patient/<id>``), read the one way the whole harness reads them.

Why one parser: a reference is read by the checks (is the stored recipient the one sent?),
by the steps that count what is stored (which parties does a rejected body name?) and by
the search steps (does every message found have that sender?); read differently in each,
the same reference could count as a party in one place and not match in another.

What reads as a reference (FHIR R4 3.2.0.1, "literal reference"): ``Type/id``, relative to
the service base, or an ``http``/``https`` URL whose path ends in ``/Type/id``. ``Type``
is a resource type's name (an upper-case letter, then letters); ``id`` is a FHIR id (1-64
letters, digits, ``-`` and ``.``). Anything else (no id, more segments, a version, a
query or fragment, a contained ``#ref``, a ``urn:``, a value that is not text) is no
reference the harness can name, and reads as None: ``parse_reference`` never raises.
"""
from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit

FHIR_ID = r"[A-Za-z0-9\-\.]{1,64}"
_RELATIVE = re.compile(rf"(?P<type>[A-Z][A-Za-z]+)/(?P<id>{FHIR_ID})")
_ABSOLUTE_SCHEMES = ("http", "https")


class Reference(NamedTuple):
    """The resource a reference names: its type and id. ``str()`` gives the relative form."""

    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}/{self.id}"


def parse_reference(value: object) -> Reference | None:
    """The ``Reference`` that ``value`` names, relative or absolute; None for anything else."""
    if not isinstance(value, str) or "?" in value or "#" in value:
        return None
    path = value
    if "://" in value:
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            return None
        if parts.scheme.lower() not in _ABSOLUTE_SCHEMES or not parts.netloc:
            return None
        path = "/".join(parts.path.split("/")[-2:])  # the base's own path may be anything
    match = _RELATIVE.fullmatch(path)
    return Reference(match["type"], match["id"]) if match else None
