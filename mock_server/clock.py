"""The server's clock: real UTC time, or a frozen or shifted one set through ``/_mock/clock``.

Why: SENT-2 (sent defaults to "now") can only be checked exactly when the test
knows what "now" is, and token expiry (FHIR-3) is testable by moving time on.

Where it lives: in the database (``mock_state``, key ``clock``), not in the process, so that
every worker of ``serve --workers N`` tells the same time: a clock frozen through one worker is
frozen for a request any other worker answers. Reading it is one primary-key lookup; the parsed
value is kept while the stored text is unchanged.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app

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
        return datetime.now(timezone.utc) + offset

    def freeze(self, instant: datetime) -> None:
        self._write(instant.astimezone(timezone.utc), timedelta(0))

    def shift(self, seconds: float) -> None:
        """Move time by ``seconds`` (a frozen clock stays frozen at the moved instant)."""
        def change(raw):
            data = json.loads(raw) if raw else {}
            if data.get("frozen"):
                data["frozen"] = (datetime.fromisoformat(data["frozen"]) + timedelta(seconds=seconds)).isoformat()
            else:
                data["offset"] = data.get("offset", 0) + seconds
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
