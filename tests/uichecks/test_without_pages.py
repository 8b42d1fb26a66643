"""Where the UI rules cannot be read in a browser: manual steps for a person, or an error that says why.

A target without the mock's pages (or a run that cannot sign in to them) gets the
numbered steps and the ids of the messages the run created, and no browser is started
for it. A run that needs a browser and cannot start one ends its UI scenarios as
errors naming the reason: never skipped.
"""
from __future__ import annotations

import re

import pytest
from werkzeug.wrappers import Response

from canvas_conformance import browser, catalogue

from .breakages import Twist

UI_RULES = [r.id for r in catalogue.rules() if r.surface == "ui"]
CURRENT = "canvas-current"
NO_PAGES = Twist("serves no web pages", after=lambda app, incoming, response, memory: Response("Not Found", 404)
                 if response.mimetype == "text/html" else response)


@pytest.fixture
def no_browser_start(monkeypatch):
    """Fails the test if the suite tries to start a browser."""
    calls = []
    monkeypatch.setattr(browser, "start", lambda **options: calls.append(options) or pytest.fail("a browser started"))
    return calls


def created_ids(row: dict) -> list[str]:
    # <base>/Communication/<id>, or .../Communication/<id>/_history/1 (canvas-current)
    return [re.search(r"/Communication/([^/]+)", x["response_headers"]["Location"]).group(1)
            for x in row["exchanges"] if x["method"] == "POST" and x["status"] == 201]


def test_a_target_without_the_pages_gets_manual_steps_naming_the_messages(run_suite, serve, no_browser_start):
    run = run_suite(serve(NO_PAGES.install).env(), marks="ui")
    assert sorted({rule for row in run.rows for rule in row["rules"]}) == UI_RULES
    for row in run.rows:
        assert row["status"] == "manual", (row["name"], row["message"])
        assert re.match(r"MANUAL: 1\. Sign in to Canvas and open the chart of the patient Amara Lindqvist "
                        r"\(Patient/[0-9a-f]{32}\)\. 2\. ", row["message"]), row["message"]
        ids = created_ids(row)
        assert ids and all(message_id in row["message"] for message_id in ids), (ids, row["message"])
        assert row["attachments"] == []
    assert len(created_ids(run.row("UI-1"))) == 3
    assert "'Drafted <time since it was sent> on <sent date> by Canvas Bot'" in run.row("UI-2")["message"]
    assert "patient app" not in run.row("UI-1")["message"]  # canvas-2022: UI-1 is the timeline's alone
    assert no_browser_start == []


def test_a_current_target_without_the_pages_gets_the_current_steps(run_suite, serve, no_browser_start):
    run = run_suite(serve(NO_PAGES.install, PROFILE=CURRENT).env(CANVAS_PROFILE=CURRENT), marks="ui")
    rules = sorted(r.id for r in catalogue.rules(CURRENT) if r.surface == "ui")
    assert sorted({rule for row in run.rows for rule in row["rules"]}) == rules
    for row in run.rows:
        assert row["status"] == "manual", (row["name"], row["message"])
        assert re.match(r"MANUAL: 1\. Sign in to Canvas (as the practitioner .* )?and open the chart of the "
                        r"patient Amara Lindqvist \(Patient/[0-9a-f]{32}\)\. 2\. ", row["message"]), row["message"]
        ids = created_ids(row)
        assert ids and all(message_id in row["message"] for message_id in ids), (ids, row["message"])
    assert "4. Sign in to the patient app as that patient (pressing nothing in the chart first)" in \
        run.row("UI-1")["message"]
    assert "no Send button" in run.row("UI-6")["message"] and "at the first look" in run.row("UI-6")["message"]
    recv = run.row("RECV-3")["message"]
    assert re.match(r"MANUAL: 1\. Sign in to Canvas as the practitioner [^(]+ \(Practitioner/[0-9a-f]{32}\) ", recv), recv
    assert "unread (a blue circle on the message icon)" in recv and "Mark it read" in recv and "received" in recv
    assert "the page may lay that HTML out" in [r for r in run.rows if "markup" in r["name"]][0]["message"]
    assert no_browser_start == []


def test_a_run_with_a_token_but_no_client_secret_cannot_sign_in_so_the_steps_are_manual(run_suite, serve,
                                                                                         no_browser_start):
    target = serve()
    grant = target.app.test_client().post("/auth/token/", data={
        "grant_type": "client_credentials", "client_id": target.client_id, "client_secret": target.client_secret})
    run = run_suite({"CANVAS_BASE_URL": target.base_url, "CANVAS_TOKEN": grant.json["access_token"]},
                    marks="UI-2 or UI-4")
    assert {row["status"] for row in run.rows} == {"manual"}
    assert no_browser_start == []


def test_without_a_browser_the_ui_scenarios_error_with_the_reason(run_suite, serve, monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM_PATH", str(tmp_path / "no-chromium-here"))
    monkeypatch.setenv("PATH", str(tmp_path))
    run = run_suite(serve().env(), marks="UI-2 or UI-4")
    assert len(run.rows) == 2
    for row in run.rows:
        assert row["status"] == "error", (row["name"], row["status"], row["message"])
        assert row["message"].startswith(f"BrowserUnavailable: no Chromium at {tmp_path / 'no-chromium-here'}")
    assert run.exit_code == 1
