"""The whole suite against the embedded mock: every scenario passes (the UI ones read in a browser,
with screenshots; tests/uichecks has their details), and results.json is what the results contract says."""
from __future__ import annotations

from canvas_conformance import catalogue
from canvas_conformance.client import Exchange

STATUSES = {"passed", "failed", "error", "skipped", "manual"}
STEP_STATUSES = {"passed", "failed", "error", "skipped", "not run"}
ROW_KEYS = {"nodeid", "feature_file", "feature", "name", "rules", "tags", "status", "message", "duration_s",
            "steps", "exchanges", "notes", "attachments", "observations"}


def test_every_scenario_passes_against_the_embedded_mock(run_suite):
    run = run_suite({})  # no CANVAS_BASE_URL: the suite starts the embedded mock itself
    results = run.results
    assert run.exit_code == 0, [(r["name"], r["status"], r["message"]) for r in results["scenarios"]
                                if r["status"] != "passed"]
    assert results["tool_version"] == "0.1.0"
    assert results["target"]["embedded_mock"] is True and results["target"]["mock_controls"] is True
    assert results["target"]["base_url"].startswith("http://127.0.0.1:")
    assert results["started"] <= results["finished"]

    api_rules = {r.id for r in catalogue.rules() if r.surface == "api"}
    by_rule: dict[str, set[str]] = {}
    for row in run.rows:
        assert set(row) == ROW_KEYS
        assert row["status"] in STATUSES
        assert {s["status"] for s in row["steps"]} <= STEP_STATUSES
        assert len(row["rules"]) == 1 and row["rules"][0] in row["tags"]
        assert row["feature_file"].startswith("features/") and row["feature_file"].endswith(".feature")
        assert row["nodeid"].startswith("steps/test_conformance.py::test_")
        for rule in row["rules"]:
            by_rule.setdefault(rule, set()).add(row["status"])
        assert row["status"] == "passed", (row["name"], row["message"])
        assert row["message"] is None
        assert all(s["status"] == "passed" for s in row["steps"])
        if "ui" in row["tags"]:
            assert row["attachments"] and {a["kind"] for a in row["attachments"]} == {"screenshot"}
        assert row["exchanges"], row["name"]
        for exchange in row["exchanges"]:
            assert set(exchange) == set(Exchange._fields)
            assert exchange["correlation_id"], "the mock stamps every answer with a correlation id"
    assert set(by_rule) >= api_rules
    sent_2 = next(r for r in run.rows if "SENT-2" in r["rules"])
    assert any("held at 2022-02-10T15:04:00+00:00" in n for n in sent_2["notes"])
    # Secrets stay out: the run's bearer token never shows, only its mask.
    text = str(results)
    assert "Bearer [REDACTED]" in text
    assert "access_token" not in text or '"access_token":"[REDACTED]"' in text.replace(" ", "")


def test_outline_rows_are_named_by_their_examples(run_suite):
    run = run_suite({}, marks="RCPT-2")
    names = sorted(run.statuses())
    assert 'A recipient that is not a Patient or Practitioner reference is refused (recipient: "Location/x")' in names
    assert "A Patient or a Practitioner is accepted as recipient (sender: a patient, recipient: a practitioner)" in names
    assert set(run.statuses().values()) == {"passed"}
    row = run.rows[0]
    assert [s["keyword"] for s in row["steps"]] == ["Given", "And", "When", "Then", "And"]
    # no count before the create: what was stored is judged from the case's marker afterwards
    assert row["exchanges"][0]["name"].startswith("create message")
