"""When the harness sends a request again, and how long it waits first: after a 429 or a 503 only.

Why only those two: a ``429 Too Many Requests`` or a ``503 Service Unavailable`` says the
target did not handle the request (it is throttling, or not serving), so sending it again,
a create included, cannot store a message twice. A timeout or a dropped connection says
nothing of the kind: the target may have stored a create before the connection went (the
mock's ``after: true`` faults do exactly that), so those are never sent again and the
scenario ends in ``error``. Any other answer, a ``500`` included, is the target's verdict
and goes to the checks as it is.

Why a cap on the wait, and why the harness gives up rather than retry early when the
target asks for more: a conformance run must end in bounded time, and sending a request
sooner than ``Retry-After`` asks would be impolite to a production target. So a wait above
the cap ends the request as unavailable (an ``error``), saying which setting to raise.

Why a 429/503 that persists is an error and not a failed check: the target never answered
the question the rule asks. ``TargetUnavailable`` (in client.py) carries that to the verdict.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping, NamedTuple

from .http_dates import parse_http_date

RETRY_STATUSES = frozenset({429, 503})
DEFAULT_RETRIES = 2  # three attempts in all
DEFAULT_MAX_WAIT = 5.0  # seconds
FALLBACK_WAIT = 1.0  # no usable Retry-After: 1 s, then 2 s, 4 s... (never above the cap)
MAX_RETRIES = 10
MAX_WAIT_LIMIT = 300.0


class Decision(NamedTuple):
    """What to do after one answer: send again after ``wait_s`` seconds, or not (``why`` says why not)."""

    retry: bool
    wait_s: float
    why: str


class RetryPolicy(NamedTuple):
    """How many times a 429/503 is sent again (``retries``) and the longest wait honoured (``max_wait``)."""

    retries: int = DEFAULT_RETRIES
    max_wait: float = DEFAULT_MAX_WAIT

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def decide(self, status: int, headers: Mapping[str, str], attempt: int, *,
               now: datetime | None = None) -> Decision:
        """After attempt number ``attempt`` (from 1) was answered ``status`` with ``headers``."""
        if status not in RETRY_STATUSES:
            return Decision(False, 0.0, "")
        if attempt >= self.attempts:
            tries = "attempt" if self.attempts == 1 else "attempts"
            return Decision(False, 0.0, f"still {status} after {self.attempts} {tries}; the target is "
                                        f"{'throttling' if status == 429 else 'unavailable'} (see --retries)")
        raw = _header(headers, "Retry-After")
        asked = retry_after_seconds(raw, date=_header(headers, "Date"), now=now)
        if asked is None:
            wait = min(FALLBACK_WAIT * 2 ** (attempt - 1), self.max_wait)
            how = "no Retry-After" if raw is None else f"unreadable Retry-After {raw!r}"
            return Decision(True, wait, f"{status} with {how}: sent again after {wait:g} s")
        if asked > self.max_wait:
            return Decision(False, asked, f"{status} with Retry-After {asked:g} s, longer than the "
                                          f"{self.max_wait:g} s the harness waits (see --max-retry-wait)")
        return Decision(True, asked, f"{status} with Retry-After {raw.strip()}: sent again after {asked:g} s")


MAX_RETRY_AFTER_S = 365 * 24 * 3600


def retry_after_seconds(value: str | None, *, date: str | None = None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` asks for: delay-seconds, or an HTTP-date (RFC 9110 10.2.3); None if unusable.

    An HTTP-date is measured from the answer's own ``Date`` header when it has one, so a
    target whose clock differs from ours is still waited for as long as it meant; a date
    already past means no wait.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # delay-seconds is 1*DIGIT: no sign, no fraction
        # a number of any length is read as at most a year (it is longer than any cap all the same)
        return float(int(text)) if len(text) <= 8 else float(MAX_RETRY_AFTER_S)
    when = parse_http_date(text)
    if when is None:
        return None
    base = parse_http_date(date) or now or datetime.now(timezone.utc)
    return max(0.0, (when - base).total_seconds())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None:  # a plain dict: look without regard to case
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value

