"""The server's clock: real UTC time, or a frozen or shifted one set through ``/_mock/clock``.

Why: SENT-2 (sent defaults to "now") can only be checked exactly when the test
knows what "now" is, and token expiry (FHIR-3) is testable by moving time on.

The clock reads between ``EARLIEST`` and ``LATEST`` (years 1900 to 2200): a setting outside is
refused with ``ClockRangeError``, so no date arithmetic on it (a token's lifetime, a page's
"4 months ago", a stored instant) can leave the years ``datetime`` holds.
"""
from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app

EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
RANGE_TEXT = "1900-01-01T00:00:00Z to 2200-12-31T23:59:59Z"


class ClockRangeError(ValueError):
    """A setting that would put the clock outside ``EARLIEST``..``LATEST`` (or is no number at all)."""


def checked_instant(instant: datetime) -> datetime:
    """``instant`` in UTC, when it is within the clock's range."""
    try:
        utc = instant.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ClockRangeError(f"{instant.isoformat()} is outside the mock clock's range ({RANGE_TEXT})")
    return utc


def checked_shift(seconds) -> timedelta:
    """``seconds`` as a timedelta, when it is a finite number no longer than the clock's range."""
    span = (LATEST - EARLIEST).total_seconds()
    if isinstance(seconds, int):  # compared exactly: float(10 ** 400) would raise
        if abs(seconds) > span:
            raise ClockRangeError(f"shift_seconds {_short(seconds)} is longer than the mock clock's range ({RANGE_TEXT})")
    elif not math.isfinite(seconds) or abs(seconds) > span:
        raise ClockRangeError(f"shift_seconds {_short(seconds)} is not a finite number within the mock clock's range "
                              f"({RANGE_TEXT})")
    return timedelta(seconds=seconds)


def _short(number) -> str:
    text = repr(number)
    return text if len(text) <= 40 else text[:39] + "…"


class Clock:
    """Real time, optionally frozen at an instant or shifted by an offset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            # Within the range however long a shifted clock runs (the offset is bounded, so the sum fits).
            return min(max(datetime.now(timezone.utc) + self._offset, EARLIEST), LATEST)

    def freeze(self, instant: datetime) -> None:
        """Stop the clock at ``instant`` (ClockRangeError outside the range: nothing changes)."""
        utc = checked_instant(instant)
        with self._lock:
            self._frozen = utc
            self._offset = timedelta(0)

    def shift(self, seconds: float) -> None:
        """Move time by ``seconds`` (a frozen clock stays frozen at the moved instant).

        ClockRangeError, and nothing changes, when ``seconds`` is no finite number or the moved
        clock would read outside the range.
        """
        delta = checked_shift(seconds)
        with self._lock:
            if self._frozen is not None:
                self._frozen = checked_instant(self._frozen + delta)
            else:
                checked_instant(datetime.now(timezone.utc) + self._offset + delta)
                self._offset += delta

    def reset(self) -> None:
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)

    def state(self) -> dict:
        with self._lock:
            frozen, offset = self._frozen, self._offset
        return {
            "now": self.now().isoformat(),
            "frozen": frozen is not None,
            "offset_seconds": offset.total_seconds(),
        }


def get_clock() -> Clock:
    return current_app.extensions["mock_clock"]


def init_app(app: Flask) -> None:
    app.extensions["mock_clock"] = Clock()
