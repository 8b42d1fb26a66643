"""Targets broken one step off the fixed ``Examples`` rows: every fixed scenario of the rule passes,
only the rule's explored scenario can find the bug.

Each is a twist of the real mock (twists.py's ``Twist``), the way a real server might slip:
a negative offset with minutes read as "-09" hours plus 30 minutes, a fraction of four or
more digits read as milliseconds, the second recipient kept when the first is a practitioner
(the fixed rows always send practitioner -> patient), text beyond Latin-1 replaced by "?".
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Callable, NamedTuple

from .twists import Twist, on_create

_OFFSET = re.compile(r"^(?P<local>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?"
                     r"(?P<offset>Z|[+-]\d{2}:\d{2})$")


def _minutes_added_to_negative_hours(value: str) -> str:
    """UTC as a server computes it that adds an offset's minutes to its signed hours: -09:30 as -8:30."""
    match = _OFFSET.match(value) if isinstance(value, str) else None
    if not match or match["offset"] == "Z":
        return value
    hours, minutes = int(match["offset"][:3]), int(match["offset"][4:])
    local = datetime.fromisoformat(match["local"])
    utc = local - timedelta(hours=hours) - timedelta(minutes=minutes)  # right only when hours >= 0
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (match["fraction"] or "") + "Z"


def _wrong_offset_minutes(app, message: dict) -> None:
    if "sent" in message:
        message["sent"] = _minutes_added_to_negative_hours(message["sent"])


def _fraction_as_milliseconds(value: str) -> str:
    """A fraction of four digits or more read as a count of milliseconds (".2500" as 2.5 s)."""
    match = _OFFSET.match(value) if isinstance(value, str) else None
    if not match or not match["fraction"] or len(match["fraction"]) <= 4:  # "." and up to 3 digits are right
        return value
    offset = "+00:00" if match["offset"] == "Z" else match["offset"]
    moment = datetime.fromisoformat(match["local"] + offset) + timedelta(milliseconds=int(match["fraction"][1:]))
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _wrong_long_fractions(app, message: dict) -> None:
    if "received" in message:
        message["received"] = _fraction_as_milliseconds(message["received"])


def _second_recipient_after_a_practitioner(app, message: dict) -> None:
    recipients = message.get("recipient")
    if isinstance(recipients, list) and len(recipients) > 1 and isinstance(recipients[0], dict) \
            and str(recipients[0].get("reference", "")).startswith("Practitioner/"):
        message["recipient"] = recipients[1:]


def _latin_1_only(app, message: dict) -> None:
    for element in message.get("payload") or []:
        for field in ("content", "contentString"):
            if isinstance(element, dict) and isinstance(element.get(field), str):
                element[field] = element[field].encode("latin-1", "replace").decode("latin-1")


class OneStepOff(NamedTuple):
    rule: str
    twist: Twist
    minimal: Callable[[dict], bool]  # does the falsifying case look like the smallest one the bug allows?


ONE_STEP_OFF = [
    OneStepOff("SENT-1", Twist("adds an offset's minutes to negative hours", before=on_create(_wrong_offset_minutes)),
               lambda case: case["sent"]["offset"].startswith("-") and not case["sent"]["offset"].endswith(":00")),
    OneStepOff("RECV-1", Twist("reads fractions of 4+ digits as milliseconds", before=on_create(_wrong_long_fractions)),
               lambda case: 4 <= len(case["received"]["fraction"] or "") <= 6),
    OneStepOff("RCPT-3", Twist("keeps the second recipient when the first is a practitioner",
                               before=on_create(_second_recipient_after_a_practitioner)),
               lambda case: case["direction"] == "patient->practitioner" and len(case["further"]) == 1),
    OneStepOff("PAY-4", Twist("replaces text beyond Latin-1 by '?'", before=on_create(_latin_1_only)),
               lambda case: any(ord(c) > 255 for c in case["text"]) and len(case["text"]) <= 12),
]
