"""The "nothing stored" sweep of an explored scenario: the refusals of several cases judged by one search.

A refused case's "nothing was stored" costs a search of each party it names (two to six requests on a
busy target), and an explored scenario refuses dozens of cases to the same two or three parties. So
its refusals are held (``Sweep.hold``) and judged together (``Sweep.flush``): every party search any
of them needs is sent once (``Target.find_marked_many``) and each case is matched against the answers
of its own parties, as ``check_nothing_stored`` matches one.

Why the verdict is still the one a case-by-case check gives:
- A draft is held only when a stored copy is known by its marker alone (the marker in its text, or
  its sent time at the marker's instant, ``bodies.marker_second``); a draft that needs the blank
  messages already there set aside is judged at once.
- The searches read the newest messages of each party (``Target.find_marked``), so a stored copy is
  found only while few messages came after it. The sweep is sent before ``MAX_HELD`` cases are held,
  ``MAX_CREATES`` creates were sent or ``MAX_AGE`` seconds passed since the oldest held case: fewer
  messages than the searches' pages hold, even beside another client writing steadily.
- What a sweep finds is not pinned on the case being checked when it ran: the sweep raises
  ``StoredEarlier`` (not an AssertionError, so the search stops without shrinking), and the scenario
  is explored again with the same seed and every refusal judged at once (``Sweep`` off), which names
  the first case that breaks the rule and shrinks it as any other failure. Only when that second
  search finds nothing (a target that stores at random) does the sweep's own finding stand, for the
  rule and case it was about.
"""
from __future__ import annotations

import threading
import time
from typing import Any, NamedTuple

from .bodies import marked_in_text, marker_second
from .message_steps import Submission
from .rejection_steps import judge_stored
from .target import Target, party_queries

MAX_HELD = 10  # cases held before the sweep is sent
MAX_CREATES = 20  # creates this scenario sent after the oldest held case's own
MAX_AGE = 0.25  # seconds since the oldest held case was sent


class Held(NamedTuple):
    """A refused case whose "nothing stored" waits for the sweep."""

    submission: Submission
    rule: str  # the rule a stored copy breaks (``verdicts.refusal_rule``)
    case: Any  # the explored case that sent it
    creates: int  # the scenario's creates sent up to its own


class StoredEarlier(Exception):
    """A sweep found a stored copy of a held case, or could not search: ``failure`` is what the case-by-case
    check would have raised for ``held``."""

    def __init__(self, held: Held, failure: BaseException) -> None:
        super().__init__(f"the 'nothing stored' sweep, for the case {held.case!r}: {failure}")
        self.held = held
        self.failure = failure


class Sweep:
    """The held refusals of one explored scenario. Cases sent ahead (``explore_steps.send_ahead``) share it
    from their threads: holding, counting and taking the held cases are done under a lock, the search
    outside it. The first ``StoredEarlier`` a sweep raised is kept (``trouble``): a case sent ahead that
    the search never judges may have been the one to meet it."""

    def __init__(self, target: Target, *, clock=time.monotonic) -> None:
        self.target = target
        self.held: list[Held] = []
        self.creates = 0  # the scenario's creates so far (``sent``)
        self.judged = 0  # held cases judged by sweeps
        self.trouble: StoredEarlier | None = None
        self._clock = clock
        self._oldest = 0.0
        self._lock = threading.Lock()

    def sent(self) -> None:
        """One more create of the scenario's was sent."""
        with self._lock:
            self.creates += 1

    def takes(self, submission: Submission) -> bool:
        """Whether a stored copy of the submission is known by its marker alone, on parties it can search."""
        draft = submission.draft
        return draft.marker is not None and not submission.preexisting and \
            (marked_in_text(draft) or marker_second(draft) is not None) and \
            bool(party_queries(draft, submission.involved))

    def hold(self, submission: Submission, *, rule: str, case: Any) -> None:
        """Judge the submission's "nothing stored" with the next sweep (``takes`` said it can wait)."""
        with self._lock:
            if not self.held:
                self._oldest = self._clock()
            self.held.append(Held(submission, rule, case, self.creates))
        self.flush_if_due()

    def _due(self) -> bool:
        return bool(self.held) and (len(self.held) >= MAX_HELD or self.creates - self.held[0].creates >= MAX_CREATES
                                    or self._clock() - self._oldest >= MAX_AGE)

    def flush_if_due(self) -> None:
        with self._lock:
            held = self._take() if self._due() else []
        self._judge(held)

    def flush(self) -> None:
        """Search once for every held case; ``StoredEarlier`` for the first one stored (or when the target
        could not be searched)."""
        with self._lock:
            held = self._take()
        self._judge(held)

    def _take(self) -> list[Held]:
        held, self.held = self.held, []
        self.judged += len(held)
        return held

    def _judge(self, held: list[Held]) -> None:
        if not held:
            return
        try:
            found = self.target.find_marked_many([(h.submission.draft, h.submission.involved) for h in held])
        except Exception as err:  # noqa: BLE001 -- no answer, no Bundle: the case-by-case search says which case
            self._raise(StoredEarlier(held[0], err), err)
        for one, copies in zip(held, found):
            try:
                judge_stored(one.submission, copies, rule=one.rule)
            except AssertionError as err:
                self._raise(StoredEarlier(one, err), None)

    def _raise(self, trouble: StoredEarlier, cause: BaseException | None) -> None:
        with self._lock:
            if self.trouble is None:
                self.trouble = trouble
        raise trouble from cause
