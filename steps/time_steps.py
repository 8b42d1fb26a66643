"""Steps about the target's clock, for SENT-2 ("sent" defaults to the time of creation).

Exact where the target has the mock's clock control: the clock is held at a chosen
instant for the scenario and given back after it. Elsewhere the stored time must
fall in the window of the create request (from the answer's Date header when there
is one), widened by a stated tolerance; the note says which way it was checked.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import pytest
from pytest_bdd import given, then

from canvas_conformance import checks
from canvas_conformance.client import Evidence

from .message_steps import Submission
from .target import Target, utc
from .terms import phrase

TOLERANCE = timedelta(seconds=5)  # clock skew and processing time allowed around the request window


class HeldClock(NamedTuple):
    """The instant the target's clock is held at, or None when it cannot be set."""

    instant: datetime | None


@given(phrase("the target's clock stands still at \"{instant}\" where the target lets it be set"),
       target_fixture="clock")
def clock_held(target: Target, instant: str, request: pytest.FixtureRequest) -> HeldClock:
    if not target.mock_controls:
        return HeldClock(None)
    at = utc(instant)
    request.addfinalizer(target.release_clock)
    target.hold_clock(at)
    return HeldClock(at)


@then("the stored sent time is the target's time of creation")
def sent_at_creation(stored: dict, clock: HeldClock, submission: Submission, evidence: Evidence,
                     rule: str) -> None:
    what = "the stored sent time (none was given)"
    if clock.instant is not None:
        evidence.note(f"SENT-2 checked exactly: the target's clock was held at {clock.instant.isoformat()} "
                      "through the mock's clock control while the message was created")
        checks.check_same_instant(stored.get("sent", checks.ABSENT), clock.instant, rule=rule, what=what)
        return
    low, high, how = checks.creation_window(submission.started, submission.finished,
                                            submission.answer.headers.get("Date"), TOLERANCE)
    evidence.note(f"SENT-2 checked against the time of the create request: between {low.isoformat()} and "
                  f"{high.isoformat()}, from {how} (the target offers no clock control)")
    checks.check_within(stored.get("sent", checks.ABSENT), low, high, rule=rule, what=what)
