"""``canvas-conformance run`` of a UI rule against the embedded mock: it passes, its screenshots land in
<report dir>/screenshots, and report.html shows them inline (one file, no outside assets)."""
from __future__ import annotations

import contextlib
import io
import json
import os

import jsonschema

from canvas_conformance import cli
from canvas_conformance.report import conformance_json


def test_a_run_reports_a_ui_rule_passed_with_its_screenshots_inline(tmp_path, monkeypatch):
    for name in [v for v in os.environ if v.startswith("CANVAS_")]:
        monkeypatch.delenv(name)
    report = tmp_path / "report"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["run", "--tags", "UI-3", "--report-dir", str(report), "--quiet"])
    assert code == 0, out.getvalue() + err.getvalue() + (report / "pytest.log").read_text()

    doc = json.loads((report / "conformance.json").read_text())
    schema = json.loads(conformance_json.SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(doc)
    scenario_row = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/scenario"})
    for scenario in json.loads((report / "results.json").read_text())["scenarios"]:
        scenario_row.validate(scenario)
    row = next(r for r in doc["rules"] if r["id"] == "UI-3")
    assert row["status"] == "passed", row["reason"]
    shots = [a for s in row["scenarios"] for a in s["attachments"]]
    assert [a["title"] for a in shots][-2:] == ["the chart after pressing Send", "the patient app"]
    page = (report / "report.html").read_text(encoding="utf-8")
    for shot in shots:
        assert shot["kind"] == "screenshot" and shot["path"].startswith("screenshots/")
        assert (report / shot["path"]).is_file()
        assert shot["path"] in page  # named under its inline image
    assert page.count('src="data:image/png;base64,') == len(shots) == 3
    assert sorted(p.name for p in (report / "screenshots").iterdir()) == sorted(
        a["path"].removeprefix("screenshots/") for a in shots)
