"""testreport.json: the run as a FHIR R4 ``TestReport`` resource, one test per catalogue rule.

Why FHIR's own format: certification tooling in the FHIR world (Touchstone, Inferno
exports, FHIR servers that store test results) reads TestReport. Each rule's test
holds one ``operation`` per HTTP exchange (was an answer received) and one
``assert`` per scenario (its verdict), so the evidence travels with the verdict.

Mapping: passed -> pass, failed -> fail, error -> error, skipped and manual -> skip
(the message says which, and for manual the steps a person follows). The report's
``result`` is fail when the run fails, pending when nothing failed but some rule
has no machine verdict (manual or skipped), else pass; ``score`` is the percentage
of catalogue rules that passed.
"""
from __future__ import annotations

import json
from html import escape

from .. import catalogue
from ..results import exchange_line
from .rows import NOT_SELECTED, Run, failing, summary

_ASSERT = {"passed": "pass", "failed": "fail", "error": "error", "skipped": "skip", "manual": "skip"}


def build(run: Run, *, strict: bool = False) -> dict:
    counts = summary(run)["rules"]
    if failing(run, strict=strict):
        result = "fail"
    elif counts["manual"] or counts["skipped"]:
        result = "pending"
    else:
        result = "pass"
    base_url = run.target.get("base_url")
    participants = [{"type": "test-engine", "uri": f"urn:canvas-conformance:{run.tool_version}",
                     "display": f"canvas-conformance {run.tool_version}"}]
    if base_url and _is_uri(base_url):
        participants.append({"type": "server", "uri": base_url,
                             "display": "embedded reference mock" if run.target.get("embedded_mock") else "target"})
    resource = {
        "resourceType": "TestReport",
        "text": {"status": "generated", "div": _narrative(run, result, counts)},
        "name": f"Canvas Communication create conformance of {base_url or 'target'}",
        "status": "completed",
        "testScript": {"display": f"canvas-conformance rules of profile {run.profile} from {catalogue.source(run.profile)}",
                       "identifier": {"system": "urn:canvas-conformance:suite", "value": "communication-create"}},
        "result": result,
        "score": round(100.0 * counts["passed"] / counts["total"], 2) if counts["total"] else 0.0,
        "tester": "canvas-conformance",
        "participant": participants,
        "test": [_test(row) for row in run.rules],
    }
    if run.finished:
        resource["issued"] = run.finished
    if run.provenance:
        resource["extension"] = _provenance_extension(run.provenance)
    return resource


PROVENANCE_URL = "urn:canvas-conformance:provenance"


def _provenance_extension(p: dict) -> list[dict]:
    """The provenance as one complex extension (FHIR's place for what its elements do not hold)."""
    cat, suite = p.get("catalogue") or {}, p.get("suite") or {}
    parts = [("toolVersion", "valueString", p.get("tool_version")), ("profile", "valueString", p.get("profile")),
             ("catalogueEdition", "valueString", cat.get("edition")),
             ("catalogueSha256", "valueString", cat.get("sha256")),
             ("seed", "valueString", None if p.get("seed") is None else str(p["seed"])),
             ("depth", "valueString", p.get("depth")), ("suiteSha256", "valueString", suite.get("sha256")),
             ("suiteShipped", "valueBoolean", suite.get("shipped")),
             ("suiteSource", "valueString", suite.get("source"))]
    return [{"url": PROVENANCE_URL,
             "extension": [{"url": name, kind: value} for name, kind, value in parts if value is not None]}]


def _test(row) -> dict:
    actions = []
    if not row.scenarios:
        actions.append({"assert": {"result": "skip", "message": f"skipped: {row.reason or NOT_SELECTED}"}})
    for s in row.scenarios:
        for x in s.exchanges:
            operation = {"result": "pass" if x.status is not None else "error", "message": exchange_line(x)}
            if _is_uri(x.url):
                operation["detail"] = x.url
            actions.append({"operation": operation})
        message = f"{s.status}: {s.name}"
        if s.message:
            message += f"\n\n{s.message}"
        assertion = {"result": _ASSERT[s.status], "message": message}
        if s.feature_file:
            assertion["detail"] = s.feature_file
        actions.append({"assert": assertion})
    return {"name": row.id, "description": f"[{row.kind}, {row.section}] {row.title} -> {row.status}",
            "action": actions}


def _is_uri(value) -> bool:
    return isinstance(value, str) and bool(value) and not any(c.isspace() for c in value)


def _narrative(run: Run, result: str, counts: dict) -> str:
    text = (f"Conformance of {run.target.get('base_url') or 'the target'} to {catalogue.source(run.profile)} "
            f"(profile {run.profile}): {result}. "
            f"Rules: {counts['passed']} passed, {counts['failed']} failed, {counts['error']} error, "
            f"{counts['manual']} manual, {counts['skipped']} skipped.")
    return f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(text)}</p></div>'


def render(run: Run, *, strict: bool = False) -> str:
    return json.dumps(build(run, strict=strict), indent=2, ensure_ascii=False) + "\n"
