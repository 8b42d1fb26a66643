"""cucumber.json: the scenarios in the cucumber JSON format (a list of features).

Why: cucumber report tools (Jenkins' cucumber plugin, cucumber-html-reporter, Xray...)
read this format, so the run shows up in the tools a QA team already has.

Mapping of statuses: passed/failed/skipped as such; error -> failed (the message says
what went wrong); manual -> pending (a person still has to do it). Step statuses
"error" -> failed and "not run" -> skipped. A scenario that did not pass but whose
steps carry no such verdict (it stopped before its first step) gets a ``before``
hook holding the verdict, so no tool shows it as passed.

Every feature carries the run's profile as a tag (``@profile:canvas-current``) and in its
description, since the format has no place for the run as a whole.
"""
from __future__ import annotations

import base64
import json
import mimetypes
import re
from collections import OrderedDict
from pathlib import Path

from .. import catalogue
from ..results import FAILING, NOT_RUN, Scenario, exchange_line
from .rows import Run

_STEP = {"passed": "passed", "failed": "failed", "error": "failed", "skipped": "skipped",
         NOT_RUN: "skipped", "manual": "pending"}
_SCENARIO = {"passed": "passed", "failed": "failed", "error": "failed", "skipped": "skipped", "manual": "pending"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "scenario"


def build(run: Run, *, base_dir: Path | None = None) -> list[dict]:
    features: OrderedDict[str, dict] = OrderedDict()
    for s in run.scenarios:
        uri = s.feature_file or s.feature or "scenarios"
        feature = features.get(uri)
        if feature is None:
            feature = features[uri] = {
                "keyword": "Feature", "uri": uri, "name": s.feature or uri, "id": _slug(s.feature or uri),
                "line": 1, "description": f"Judged by profile {run.profile}: {catalogue.source(run.profile)}",
                "tags": [{"name": f"@profile:{run.profile}", "line": 1}], "elements": [],
            }
        feature["elements"].append(_element(s, feature["id"], base_dir))
    return list(features.values())


def _element(s: Scenario, feature_id: str, base_dir: Path | None) -> dict:
    nanos = lambda seconds: int(round(seconds * 1e9))  # noqa: E731 - cucumber durations are nanoseconds
    steps = []
    for st in s.steps:
        result = {"status": _STEP.get(st.status, "failed"), "duration": nanos(st.duration_s)}
        if st.status in FAILING:
            result["error_message"] = s.message or st.status
        steps.append({"keyword": f"{st.keyword} ", "name": st.text, "line": 0,
                      "match": {"location": ""}, "result": result})
    expected = _SCENARIO[s.status]
    element = {
        "keyword": "Scenario", "type": "scenario", "id": f"{feature_id};{_slug(s.name)}",
        "name": s.name, "line": 0, "description": "",
        "tags": [{"name": f"@{t}", "line": 0} for t in s.tags],
        "steps": steps,
    }
    if expected != "passed" and not any(st["result"]["status"] == expected for st in steps):
        hook = {"status": expected, "duration": 0}
        if s.message:
            hook["error_message"] = s.message
        element["before"] = [{"match": {"location": "canvas-conformance"}, "result": hook}]
    if steps:
        last = steps[-1]
        output = list(s.notes) + [exchange_line(x) for x in s.exchanges]
        if output:
            last["output"] = output
        embeddings = [e for e in (_embedding(a, base_dir) for a in s.attachments) if e]
        if embeddings:
            last["embeddings"] = embeddings
    return element


def _embedding(a: dict, base_dir: Path | None) -> dict | None:
    path = str(a.get("path") or "")
    mime = mimetypes.guess_type(path)[0]
    if base_dir is None or not path or not mime:
        return None
    base = base_dir.resolve()
    file = (base / path).resolve()
    if not file.is_relative_to(base) or not file.is_file():
        return None
    return {"mime_type": mime, "data": base64.b64encode(file.read_bytes()).decode("ascii"),
            "name": a.get("title") or path}


def render(run: Run, *, base_dir: Path | None = None) -> str:
    return json.dumps(build(run, base_dir=base_dir), indent=2, ensure_ascii=False) + "\n"
