"""junit.xml: one test case per scenario, for CI dashboards (Jenkins, GitLab, GitHub Actions).

Why the rule ID leads the name: a CI dashboard lists failing test names; "SENT-2 ..."
says which rule broke without opening the report. Test suites are the feature files.

Mapping: failed -> <failure>, error -> <error>, skipped -> <skipped>, manual ->
<skipped> whose message starts with "manual:" (a person must check it).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import OrderedDict

from ..results import Scenario, exchange_line
from .rows import Run

# Characters XML 1.0 cannot carry at all; an answer body may hold them.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(value) -> str:
    return _INVALID_XML.sub("\ufffd", "" if value is None else str(value))


def case_name(scenario: Scenario) -> str:
    ids = " ".join(scenario.rules) or "NO-RULE"
    return f"{ids} {scenario.name}"


def render(run: Run) -> str:
    suites: OrderedDict[str, list[Scenario]] = OrderedDict()
    for s in run.scenarios:
        suites.setdefault(s.feature or s.feature_file or "scenarios", []).append(s)
    root = ET.Element("testsuites", name="canvas-conformance")
    totals = dict(tests=0, failures=0, errors=0, skipped=0, time=0.0)
    for feature, scenarios in suites.items():
        suite = ET.SubElement(root, "testsuite", name=_x(feature))
        stats = dict(tests=len(scenarios), failures=0, errors=0, skipped=0, time=0.0)
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="target", value=_x(run.target.get("base_url")))
        ET.SubElement(props, "property", name="tool_version", value=_x(run.tool_version))
        ET.SubElement(props, "property", name="profile", value=_x(run.profile))
        for row in run.rules:  # a passed rule checked only in part, among this feature's scenarios
            if row.partial and any(s in row.scenarios for s in scenarios):
                ET.SubElement(props, "property", name=f"partial {row.id}", value=_x(row.reason))
        for name, value in provenance_properties(run.provenance):
            ET.SubElement(props, "property", name=name, value=_x(value))
        for s in scenarios:
            stats["time"] += s.duration_s
            case = ET.SubElement(suite, "testcase", name=_x(case_name(s)),
                                 classname=_x(s.feature_file or feature), time=f"{s.duration_s:.3f}")
            message = _x(s.message or "")
            first = message.splitlines()[0] if message else ""
            if s.status == "failed":
                stats["failures"] += 1
                ET.SubElement(case, "failure", message=first, type="RuleViolation").text = message
            elif s.status == "error":
                stats["errors"] += 1
                ET.SubElement(case, "error", message=first, type="CheckError").text = message
            elif s.status in ("skipped", "manual"):
                stats["skipped"] += 1
                prefix = "manual: " if s.status == "manual" else ""
                ET.SubElement(case, "skipped", message=prefix + first).text = message or None
            out = _evidence(s)
            if out:
                ET.SubElement(case, "system-out").text = out
        for key, value in stats.items():
            suite.set(key, f"{value:.3f}" if key == "time" else str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def provenance_properties(p: dict) -> list[tuple[str, object]]:
    """The provenance as flat name/value properties (none for a results file without it); the profile is
    a property of its own, there for every run."""
    if not p:
        return []
    cat, suite = p.get("catalogue") or {}, p.get("suite") or {}
    return [("catalogue_edition", cat.get("edition")),
            ("catalogue_sha256", cat.get("sha256")), ("seed", p.get("seed")), ("depth", p.get("depth")),
            ("suite_sha256", suite.get("sha256")), ("suite_shipped", str(suite.get("shipped")).lower()),
            ("suite_source", suite.get("source"))]


def _evidence(s: Scenario) -> str:
    lines = [f"{st.keyword} {st.text} [{st.status}]" for st in s.steps]
    lines += [f"also seen: [{o.get('rule')}] {o.get('message')}" for o in s.observations]
    lines += [f"note: {n}" for n in s.notes]
    lines += [exchange_line(x) for x in s.exchanges]
    return _x("\n".join(lines))
