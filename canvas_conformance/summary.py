"""The closing lines of a run on the terminal: the counts by kind, the failing rules, where the report is."""
from __future__ import annotations

import sys
from pathlib import Path

from . import __version__
from .report.rows import summary
from .report.writer import REPORT_FILES


def print_summary(written, report_dir: Path, *, base_url: str, embedded: bool) -> None:
    s = summary(written.run)
    where = "embedded mock at " if embedded else ""
    out = [f"canvas-conformance {__version__}: {len(written.run.rules)} rules of profile "
           f"{written.run.profile} against {where}{base_url}"]
    p = written.run.provenance
    if p:
        out.append(f"  explored:   seed {p.get('seed')}, depth {p.get('depth')} (the same seed draws the same cases)")
    for kind in ("documented", "inferred"):
        c = s[kind]
        out.append(f"  {kind + ':':<11} {c['passed']} passed, {c['failed']} failed, {c['error']} error, "
                   f"{c['manual']} manual, {c['skipped']} skipped")
    if written.run.interrupted:
        cut = written.run.interrupted
        out.append(f"  INTERRUPTED by {cut.get('signal')}: {cut.get('scenarios_not_run')} selected scenario(s) "
                   "not run; the counts are of what ran")
    partial = [f"{r.id} ({r.reason})" for r in written.run.rules if r.partial]
    if partial:
        out.append(f"  partly:     {'; '.join(partial)}")
    seen = sorted({o.rule for r in written.run.rules for o in r.observations})
    if seen:
        out.append(f"  also seen broken while checking other rules: {', '.join(seen)}")
    if written.failing:
        out.append(f"  failing:    {', '.join(written.failing)}")
    out.append(f"report: {report_dir / 'report.html'} (and {', '.join(n for n in REPORT_FILES if n != 'report.html')})")
    if _coloured(sys.stdout):
        _print_in_colour(out, sys.stdout)
    else:
        print("\n".join(out), flush=True)


LINE_STYLES = (("failing:", "bold red"), ("INTERRUPTED", "bold yellow"))  # the whole line
COUNT_STYLES = (("failed", "red"), ("error", "yellow"))  # a count above zero


def _coloured(stream) -> bool:
    from .progress import _real_terminal  # the one rule for "a person's terminal" (NO_COLOR, TERM=dumb)

    return _real_terminal(stream)


def _print_in_colour(lines: list[str], stream) -> None:
    """The same lines, with what needs attention in colour: failing rules, interruptions, non-zero
    failed and error counts. Never wrapped, so a path can be copied whole."""
    import re

    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, highlight=False, soft_wrap=True)
    for line in lines:
        text = Text(line)
        for marker, style in LINE_STYLES:
            if marker in line:
                text.stylize(style)
        for word, style in COUNT_STYLES:
            for found in re.finditer(rf"\b[1-9]\d* {word}\b", line):
                text.stylize(style, found.start(), found.end())
        console.print(text)
