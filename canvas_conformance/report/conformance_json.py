"""conformance.json: the machine-readable verdict, one row per catalogue rule with its evidence.

Why a format of our own beside JUnit and cucumber: those know tests, not rules. A
certification reviewer (or a script) needs the rule's ID, kind and section next to
its status, and every HTTP exchange behind that status.
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import catalogue
from ..results import as_json
from .curl import with_curl
from .rows import Run, failing, summary

FORMAT = "canvas-conformance/conformance.json@1"
# The document's JSON Schema, shipped with the package; its $defs/scenario is also a results.json row.
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "conformance.schema.json"


def build(run: Run, *, strict: bool = False) -> dict:
    """The document as a dict (its shape: schemas/conformance.schema.json; the README's "Report files")."""
    failures = failing(run, strict=strict)
    return {
        "format": FORMAT,
        "tool": {"name": "canvas-conformance", "version": run.tool_version},
        "tool_version": run.tool_version,
        "profile": run.profile,
        "source": catalogue.source(run.profile),
        "provenance": run.provenance,
        "target": run.target,
        "started": run.started,
        "finished": run.finished,
        "strict": strict,
        "outcome": "interrupted" if run.interrupted else "fail" if failures else "pass",
        "interrupted": run.interrupted,
        "failing": failures,
        "summary": summary(run),
        "rules": [
            {
                "id": row.id,
                "kind": row.kind,
                "surface": row.surface,
                "section": row.section,
                "title": row.title,
                "status": row.status,
                "reason": row.reason,
                "partial": row.partial,
                "scenarios": [with_curl(as_json(s)) for s in row.scenarios],
                "observations": [{"scenario": o.scenario, "seen_while": list(o.seen_while),
                                  "message": f"also seen while checking {'/'.join(o.seen_while)}: {o.message}"}
                                 for o in row.observations],
            }
            for row in run.rules
        ],
        "unmatched_scenarios": [with_curl(as_json(s)) for s in run.unmatched],
    }


def render(run: Run, *, strict: bool = False) -> str:
    return json.dumps(build(run, strict=strict), indent=2, ensure_ascii=False) + "\n"
