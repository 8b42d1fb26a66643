"""The server's clock: real UTC time, or a frozen or shifted one set through ``/_mock/clock``.

Why: SENT-2 (sent defaults to "now") can only be checked exactly when the test
knows what "now" is, and token expiry (FHIR-3) is testable by moving time on.

Where it lives: in the database (``mock_state``, key ``clock``), not in the process, so that
every worker of ``serve --workers N`` tells the same time: a clock frozen through one worker is
frozen for a request any other worker answers. Reading it costs no query while no process has
changed the shared state (``Store.get_state``); the parsed value is kept while the stored text
is unchanged.

The clock reads between ``EARLIEST`` and ``LATEST`` (years 1900 to 2200): a setting outside is
refused with ``ClockRangeError``, so no date arithmetic on it (a token's lifetime, a page's
"4 months ago", a stored instant) can leave the years ``datetime`` holds.
"""
from __future__ import annotations

import json
import math
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


_KEY = "clock"


class Clock:
    """Real time, optionally frozen at an instant or shifted by an offset; state in the ``Store``."""

    def __init__(self, store) -> None:
        self._store = store
        self._seen: tuple[str | None, datetime | None, timedelta] = (None, None, timedelta(0))

    def _read(self) -> tuple[datetime | None, timedelta]:
        raw = self._store.get_state(_KEY)
        seen = self._seen
        if raw != seen[0]:
            if raw is None:
                seen = (None, None, timedelta(0))
            else:
                data = json.loads(raw)
                frozen = datetime.fromisoformat(data["frozen"]) if data.get("frozen") else None
                seen = (raw, frozen, timedelta(seconds=data.get("offset", 0)))
            self._seen = seen
        return seen[1], seen[2]

    def now(self) -> datetime:
        frozen, offset = self._read()
        if frozen is not None:
            return frozen
        # Within the range however long a shifted clock runs (the offset is bounded, so the sum fits).
        return min(max(datetime.now(timezone.utc) + offset, EARLIEST), LATEST)

    def freeze(self, instant: datetime) -> None:
        """Stop the clock at ``instant`` (ClockRangeError outside the range: nothing changes)."""
        self._write(checked_instant(instant), timedelta(0))

    def shift(self, seconds: float) -> None:
        """Move time by ``seconds`` (a frozen clock stays frozen at the moved instant).

        ClockRangeError, and nothing changes, when ``seconds`` is no finite number or the moved
        clock would read outside the range.
        """
        delta = checked_shift(seconds)

        def change(raw):
            data = json.loads(raw) if raw else {}
            if data.get("frozen"):
                data["frozen"] = checked_instant(datetime.fromisoformat(data["frozen"]) + delta).isoformat()
            else:
                offset = timedelta(seconds=data.get("offset", 0))
                checked_instant(datetime.now(timezone.utc) + offset + delta)
                data["offset"] = (offset + delta).total_seconds()
            return json.dumps(data), None

        self._store.update_state(_KEY, change)

    def reset(self) -> None:
        self._store.set_state(_KEY, None)

    def state(self) -> dict:
        frozen, offset = self._read()
        return {
            "now": self.now().isoformat(),
            "frozen": frozen is not None,
            "offset_seconds": offset.total_seconds(),
        }

    def _write(self, frozen: datetime | None, offset: timedelta) -> None:
        self._store.set_state(_KEY, json.dumps({"frozen": frozen.isoformat() if frozen else None,
                                                "offset": offset.total_seconds()}))


def get_clock() -> Clock:
    return current_app.extensions["mock_clock"]


def init_app(app: Flask) -> None:
    """After ``db.init_app``. A mock starts on real time unless it joins running workers."""
    clock = Clock(app.extensions["mock_store"])
    if app.config.get("RESET_SHARED_STATE", True):
        clock.reset()
    app.extensions["mock_clock"] = clock
