"""The UI scenarios in a real browser: they pass against the mock's pages, with screenshots, and each
rule's check fails against pages that break that rule (breakages.py)."""
from __future__ import annotations

import json

import pytest

from canvas_conformance import catalogue

from .breakages import BREAKAGES

UI_RULES = [r.id for r in catalogue.rules() if r.surface == "ui"]
PNG = b"\x89PNG\r\n\x1a\n"
CASES = [pytest.param(rule, twist, id=f"{rule}: {twist.name}") for rule, twists in BREAKAGES.items()
         for twist in twists]


def screenshots(run, row: dict) -> list:
    shots = [a for a in row["attachments"] if a["kind"] == "screenshot"]
    for shot in shots:
        assert shot["path"].startswith("screenshots/") and shot["title"], shot
        assert (run.report_dir / shot["path"]).read_bytes()[:8] == PNG, shot
    return shots


def test_the_ui_rules_pass_against_the_mocks_pages_with_screenshots(run_suite, serve, lent_browser):
    target = serve()
    run = run_suite(target.env(), marks="ui", lend=lent_browser)
    assert run.exit_code == 0, [(r["name"], r["status"], r["message"]) for r in run.rows]
    assert sorted(rule for row in run.rows for rule in row["rules"]) == UI_RULES
    for row in run.rows:
        assert row["status"] == "passed", (row["name"], row["message"])
        assert all(step["status"] == "passed" for step in row["steps"])
        assert screenshots(run, row), row["name"]
        assert any("in Chromium" in note for note in row["notes"]), row["notes"]
    files = sorted(p.name for p in (run.report_dir / "screenshots").iterdir())
    assert files == sorted(a["path"].split("/", 1)[1] for row in run.rows for a in row["attachments"])
    assert any("'Drafted 4 months ago on Feb 10th, 2022 by Canvas Bot'" in note for note in run.row("UI-2")["notes"])
    assert [a["title"] for a in run.row("UI-3")["attachments"]] == [
        "the chart before pressing Send", "the chart after pressing Send", "the patient app"]
    # Send was pressed in the browser, and nothing else changed behind the pages' back
    store = target.app.extensions["mock_store"]
    assert [m.ui_sent_at for m in store.messages_for_patient(store.list_people("Patient")[0]["id"])
            if m.ui_sent_at] == ["2022-06-10T15:04:00+00:00"]
    assert store.sms_outbox() == []
    assert target.app.test_client().get("/metadata").status_code == 200
    assert target.client_secret not in json.dumps(run.results)


def test_every_ui_rule_has_pages_that_break_it():
    assert sorted(BREAKAGES) == UI_RULES


@pytest.mark.parametrize("rule, twist", CASES)
def test_a_ui_rule_fails_against_pages_that_break_it(run_suite, serve, lent_browser, rule, twist):
    run = run_suite(serve(twist.install).env(), marks=rule, lend=lent_browser)
    row = run.row(rule)
    assert row["status"] == "failed", (row["status"], row["message"])
    assert row["message"].startswith(f"[{rule}]"), row["message"]
    assert "expected" in row["message"] and "got" in row["message"], row["message"]
    steps = [step["status"] for step in row["steps"]]
    assert steps.count("failed") == 1 and set(steps[steps.index("failed") + 1:]) <= {"not run"}, steps
    assert screenshots(run, row), "a failed UI scenario still leaves its screenshot"
    assert run.exit_code == 1
