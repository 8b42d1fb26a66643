"""Where a run's report goes: the folder given, or a fresh reports/<UTC timestamp>/ with reports/latest."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from .errors import UsageError


def make(given: Path | None) -> Path:
    """The folder given (created when missing), or a new timestamped one under reports/."""
    if given is not None:
        try:
            given.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"cannot create the report folder {given}: {err.strerror or err}") from None
        return given
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = Path("reports")
    for n in range(1, 100):
        candidate = base / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
        except OSError as err:
            raise UsageError(f"cannot create the report folder {candidate}: {err.strerror or err}") from None
    raise UsageError(f"cannot find a free report folder name under {base}")


def point_latest(report_dir: Path) -> None:
    """reports/latest -> the newest report folder (relative, so the tree can move)."""
    latest = report_dir.parent / "latest"
    tmp = report_dir.parent / f".latest.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(report_dir.name, tmp, target_is_directory=True)
        os.replace(tmp, latest)
    except OSError:
        tmp.unlink(missing_ok=True)
