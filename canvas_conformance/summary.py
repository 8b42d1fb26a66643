"""The closing lines of a run on the terminal: the counts by kind, the failing rules, where the report is."""
from __future__ import annotations

from pathlib import Path

from . import __version__, catalogue
from .report.rows import summary
from .report.writer import REPORT_FILES


def print_summary(written, report_dir: Path, *, base_url: str, embedded: bool) -> None:
    s = summary(written.run)
    where = "embedded mock at " if embedded else ""
    out = [f"canvas-conformance {__version__}: {len(catalogue.rules())} rules against {where}{base_url}"]
    p = written.run.provenance
    if p:
        out.append(f"  explored:   seed {p.get('seed')}, depth {p.get('depth')} (the same seed draws the same cases)")
    for kind in ("documented", "inferred"):
        c = s[kind]
        out.append(f"  {kind + ':':<11} {c['passed']} passed, {c['failed']} failed, {c['error']} error, "
                   f"{c['manual']} manual, {c['skipped']} skipped")
    if written.failing:
        out.append(f"  failing:    {', '.join(written.failing)}")
    out.append(f"report: {report_dir / 'report.html'} (and {', '.join(n for n in REPORT_FILES if n != 'report.html')})")
    print("\n".join(out), flush=True)
