"""The server's clock: real UTC time, or a frozen or shifted one set through ``/_mock/clock``.

Why: SENT-2 (sent defaults to "now") can only be checked exactly when the test
knows what "now" is, and token expiry (FHIR-3) is testable by moving time on.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app


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
            return datetime.now(timezone.utc) + self._offset

    def freeze(self, instant: datetime) -> None:
        with self._lock:
            self._frozen = instant.astimezone(timezone.utc)
            self._offset = timedelta(0)

    def shift(self, seconds: float) -> None:
        """Move time by ``seconds`` (a frozen clock stays frozen at the moved instant)."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)

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
