"""The UI scenarios in a real browser: they pass against the mock's pages of each profile, with
screenshots; each rule's check fails against pages that break that rule (breakages.py); the pages a
real Canvas may legitimately show pass.

Under ``CANVAS_CORPUS=1`` (``make corpus``, apart from make test: about 35 s a case on 2 cores) each
canvas-current breakage is run against every UI scenario of the profile, to show it fails its own
rule and no other, and each variant is run alone; make test runs each breakage against its rule's
scenarios and every variant at once.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from canvas_conformance import catalogue

from ..suite.twists import Twist
from .breakages import BREAKAGES, VARIANTS, chained

WHOLE = bool(os.environ.get("CANVAS_CORPUS"))

CURRENT = "canvas-current"
PNG = b"\x89PNG\r\n\x1a\n"
CASES = [pytest.param(profile, rule, twist, id=f"{profile} {rule}: {twist.name}")
         for profile, rules in BREAKAGES.items() for rule, twists in rules.items() for twist in twists]
HELD = datetime(2022, 6, 10, 15, 4, tzinfo=timezone.utc)  # the clock features/ui.feature holds


def ui_rules(profile: str) -> list[str]:
    return sorted(r.id for r in catalogue.rules(profile) if r.surface == "ui")


def screenshots(run, row: dict) -> list:
    shots = [a for a in row["attachments"] if a["kind"] == "screenshot"]
    for shot in shots:
        assert shot["path"].startswith("screenshots/") and shot["title"], shot
        assert (run.report_dir / shot["path"]).read_bytes()[:8] == PNG, shot
    return shots


def rows_of(run, rule: str) -> list[dict]:
    return [row for row in run.rows if rule in row["rules"]]


def all_passed_with_screenshots(run, profile: str) -> None:
    assert run.exit_code == 0, [(r["name"], r["status"], r["message"]) for r in run.rows]
    assert sorted({rule for row in run.rows for rule in row["rules"]}) == ui_rules(profile)
    for row in run.rows:
        assert row["status"] == "passed", (row["name"], row["message"])
        assert all(step["status"] == "passed" for step in row["steps"])
        assert screenshots(run, row), row["name"]
        assert any("in Chromium" in note for note in row["notes"]), row["notes"]
    files = sorted(p.name for p in (run.report_dir / "screenshots").iterdir())
    assert files == sorted(a["path"].split("/", 1)[1] for row in run.rows for a in row["attachments"])


def test_the_ui_rules_pass_against_the_mocks_pages_with_screenshots(run_suite, serve, lent_browser):
    target = serve()
    run = run_suite(target.env(), marks="ui", lend=lent_browser)
    all_passed_with_screenshots(run, "canvas-2022")
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


def test_the_current_ui_rules_pass_against_the_mocks_current_pages(run_suite, serve, lent_browser):
    target = serve(PROFILE=CURRENT)
    run = run_suite(target.env(CANVAS_PROFILE=CURRENT), marks="ui", lend=lent_browser)
    all_passed_with_screenshots(run, CURRENT)
    assert not {"UI-2", "UI-3"} & {rule for row in run.rows for rule in row["rules"]}
    assert [a["title"] for a in run.row("RECV-3")["attachments"]] == [
        "the chart timeline", "the chart after marking it read", "the chart, read again"]
    assert [a["title"] for a in run.row("UI-6")["attachments"]] == [
        "the chart timeline", "the patient app", "the chart 2 days later"]
    # Mark read was pressed in the browser: received stored at the moved clock's instant, nothing sent
    store = target.app.extensions["mock_store"]
    patient = store.list_people("Patient")[0]["id"]
    received = [m.resource["received"] for m in store.messages_for_patient(patient) if "received" in m.resource]
    assert received == [(HELD + timedelta(minutes=5)).isoformat()]
    assert [m.ui_sent_at for m in store.messages_for_patient(patient) if m.ui_sent_at] == []
    assert store.sms_outbox() == []
    assert target.client_secret not in json.dumps(run.results)


def test_every_ui_rule_has_pages_that_break_it():
    for profile in catalogue.PROFILES:
        assert sorted(BREAKAGES[profile]) == ui_rules(profile), profile


@pytest.mark.parametrize("profile, rule, twist", CASES)
def test_a_ui_rule_fails_against_pages_that_break_it(run_suite, serve, lent_browser, profile, rule, twist):
    # corpus: every UI scenario of the profile runs, to show the breakage fails its rule alone
    marks = "ui" if WHOLE and profile == CURRENT else rule
    run = run_suite(serve(twist.install, PROFILE=profile).env(CANVAS_PROFILE=profile), marks=marks,
                    lend=lent_browser)
    failed = [row for row in rows_of(run, rule) if row["status"] == "failed"]
    assert failed, [(row["name"], row["status"], row["message"]) for row in rows_of(run, rule)]
    for row in failed:
        assert row["message"].startswith(f"[{rule}]"), row["message"]
        assert "expected" in row["message"] and "got" in row["message"], row["message"]
        steps = [step["status"] for step in row["steps"]]
        assert steps.count("failed") == 1 and set(steps[steps.index("failed") + 1:]) <= {"not run"}, steps
        assert screenshots(run, row), "a failed UI scenario still leaves its screenshot"
    others = [(row["rules"], row["status"], row["message"]) for row in run.rows
              if rule not in row["rules"] and row["status"] not in ("passed", "error")]
    assert others == [], "another rule was failed (or not judged) by this breakage"
    for row in run.rows:  # another rule's scenario meeting this breakage names it: an error, not a failure
        if row["status"] == "error":
            assert f"[{rule}]" in row["message"], row["message"]
    assert run.exit_code == 1


ALL_VARIANTS = Twist("all the variants at once", after=chained(*(v.after for v in VARIANTS)))


@pytest.mark.parametrize("twist", VARIANTS if WHOLE else [ALL_VARIANTS],
                         ids=[v.name for v in (VARIANTS if WHOLE else [ALL_VARIANTS])])
def test_the_current_ui_rules_pass_pages_a_real_canvas_may_show(run_suite, serve, lent_browser, twist):
    run = run_suite(serve(twist.install, PROFILE=CURRENT).env(CANVAS_PROFILE=CURRENT), marks="ui",
                    lend=lent_browser)
    assert run.exit_code == 0, [(r["name"], r["status"], r["message"]) for r in run.rows if r["status"] != "passed"]
    assert sorted({rule for row in run.rows for rule in row["rules"]}) == ui_rules(CURRENT)
