"""The number of cores this process may run on (its CPU affinity, else the machine's count)."""
from __future__ import annotations

import os


def available() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
