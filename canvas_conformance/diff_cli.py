"""``canvas-conformance diff OLD NEW``: what changed between two runs' verdicts, for triage and CI gates.

The comparison itself is ``diff.py``; this module only reads the arguments and prints.
Exit codes: 0 no rule newly failing, 1 at least one, 2 an input that is not a report
(raised as UsageError, so ``cli.main`` says it in one line).
"""
from __future__ import annotations

import argparse

from . import diff

EPILOG = """\
OLD and NEW are report folders (as `canvas-conformance run` writes them) or their conformance.json files.
A rule is newly failing when it was passed, manual or skipped and is now failed or error; fixed when it
was failed or error and now passed; changed for any other change of status. Rules only one run's
catalogue has are listed as added or removed.

Exit codes: 0 no rule newly failing; 1 at least one; 2 an input is missing, unreadable or not a report."""


def add_parser(sub) -> None:
    p = sub.add_parser("diff", help="compare two report folders rule by rule",
                       description="List the rules newly failing, fixed or otherwise changed between two runs.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old", metavar="OLD", help="the earlier run: a report folder or its conformance.json")
    p.add_argument("new", metavar="NEW", help="the later run: a report folder or its conformance.json")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text for people (default), json for scripts (format canvas-conformance/diff@1)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    old = diff.load_report(args.old, label="OLD")
    new = diff.load_report(args.new, label="NEW")
    result = diff.compare(old, new)
    render = diff.render_json if args.format == "json" else diff.render_text
    print(render(result), end="")
    return 1 if result.has_regressions else 0
