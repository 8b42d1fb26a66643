"""The live progress display, and the selection and listing of what a run would check."""
import io

import pytest

from canvas_conformance import selection
from canvas_conformance.progress import Display

EVENTS = [
    {"event": "collected", "count": 3},
    {"event": "scenario", "nodeid": "a", "name": "sent defaults to now", "rules": ["SENT-2"], "status": "passed"},
    {"event": "scenario", "nodeid": "b", "name": "recipient required", "rules": ["RCPT-1"], "status": "failed",
     "message": "answered 201"},
    {"event": "scenario", "nodeid": "c", "name": "chart", "rules": ["UI-1"], "status": "manual"},
]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_one_live_line_and_failures_stay_above_it():
    screen = Terminal()
    display = Display(screen)
    for event in EVENTS:
        display.feed(event)
    display.close()
    text = screen.getvalue()
    assert "\r\x1b[2K" in text  # the line is rewritten in place
    kept = [ln for ln in text.replace("\r\x1b[2K", "\n").splitlines() if ln.startswith("[")]
    assert kept == ["[2/3] FAIL   RCPT-1  recipient required  (answered 201)"]
    assert "3/3 scenarios: 1 failed 1 passed 1 manual | chart" in text
    assert text.endswith("\n")


def test_a_log_gets_one_plain_line_per_scenario():
    log = io.StringIO()
    display = Display(log)
    for event in EVENTS:
        display.feed(event)
    display.close()
    assert log.getvalue().splitlines() == [
        "[1/3] ok     SENT-2  sent defaults to now",
        "[2/3] FAIL   RCPT-1  recipient required  (answered 201)",
        "[3/3] manual UI-1  chart",
    ]
    assert "\x1b" not in log.getvalue()


def test_quiet_shows_nothing_but_still_counts():
    screen = Terminal()
    display = Display(screen, quiet=True)
    for event in EVENTS:
        display.feed(event)
    display.close()
    assert screen.getvalue() == "" and display.tally["failed"] == 1 and display.done == 3


OUTLINE = """\
@api @documented
Feature: Sent and received

  @SENT-1
  Scenario Outline: an offset is stored as UTC
    Given a message sent at <given>
    Then it reads back as <utc>

    Examples:
      | given                     | utc                  |
      | 2021-04-29T09:30:00-04:00 | 2021-04-29T13:30:00Z |

    @slow
    Examples:
      | given                     | utc                  |
      | 2021-04-29T23:30:00+10:00 | 2021-04-29T13:30:00Z |

  @RECV-2
  Scenario: no received is stored when none is given
    Given a message without received
"""


@pytest.fixture
def planned(tmp_path):
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "sent.feature").write_text(OUTLINE)
    return selection.planned_scenarios(tmp_path / "features")


def test_outlines_expand_to_one_scenario_per_examples_row_with_their_tags(planned):
    assert [p.name for p in planned] == [
        "an offset is stored as UTC (given: 2021-04-29T09:30:00-04:00, utc: 2021-04-29T13:30:00Z)",
        "an offset is stored as UTC (given: 2021-04-29T23:30:00+10:00, utc: 2021-04-29T13:30:00Z)",
        "no received is stored when none is given"]
    assert planned[0].tags == {"api", "documented", "SENT-1"}
    assert planned[1].tags == {"api", "documented", "SENT-1", "slow"}
    assert planned[2].feature_file == "features/sent.feature" and planned[2].line == 19


@pytest.mark.parametrize("expression, count", [
    (None, 3), ("SENT-1", 2), ("SENT-1 and not slow", 1), ("documented and api", 3), ("RECV-2 or slow", 2),
    ("not documented", 0),
])
def test_selection_is_pytests_marker_expression(planned, expression, count):
    compiled = selection.compile_tags(expression, selection.known_tags(planned))
    assert len(selection.select(planned, compiled)) == count


def test_the_listing_names_every_rule_and_what_checks_it(planned):
    text = selection.render(planned, total=3)
    assert "SENT-1   documented api" in text and "features/sent.feature:5  an offset is stored as UTC (given" in text
    assert text.count("[not selected]") == 28
    assert text.rstrip().endswith("30 rules, 2 with a selected scenario; 3 of 3 scenarios. Nothing was sent.")


def test_the_listing_as_json_for_scripts(planned):
    import json

    doc = json.loads(selection.render_json(planned, expression=None, total=3))
    assert doc["format"] == "canvas-conformance/list@1" and (doc["total"], doc["selected"]) == (3, 3)
    rules = {r["id"]: r for r in doc["rules"]}
    assert len(rules) == 30 and sum(r["selected"] for r in rules.values()) == 2
    sent1 = rules["SENT-1"]["scenarios"][0]
    assert sent1["feature_file"] == "features/sent.feature" and sent1["line"] == 5 and "SENT-1" in sent1["tags"]


def test_run_list_format_json_prints_only_json(run_command):
    import json

    outcome = run_command(["run", "--list", "--format", "json", "--tags", "SENT-2 and not explored"])
    assert outcome.code == 0
    doc = json.loads(outcome.out)
    assert doc["tags"] == "SENT-2 and not explored" and doc["selected"] == 1
    bad = run_command(["run", "--list", "--format", "yaml"])
    assert bad.code == 2 and "--format 'yaml' is not a listing format (text or json)" in bad.err


def _read_all(fd: int) -> bytes:
    import os
    import select

    out = b""
    while select.select([fd], [], [], 0.5)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_a_real_terminal_gets_a_rich_bar_in_colour(monkeypatch):
    import os
    import pty

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    master, slave = pty.openpty()
    screen = os.fdopen(slave, "w", encoding="utf-8")
    try:
        display = Display(screen)
        assert display._rich is not None
        for event in EVENTS:
            display.feed(event)
        display.close()
        screen.flush()
        text = _read_all(master).decode("utf-8", errors="replace")
    finally:
        screen.close()
        os.close(master)
    assert "\x1b[" in text  # colour
    assert "recipient required  (answered 201)" in text  # the failure, printed above the bar
    assert "3/3" in text and "1 failed" in text and "━" in text  # the bar with its counts


def test_no_color_keeps_a_real_terminal_plain(monkeypatch):
    import os
    import pty

    monkeypatch.setenv("NO_COLOR", "1")
    master, slave = pty.openpty()
    with os.fdopen(slave, "w", encoding="utf-8") as screen:
        assert Display(screen)._rich is None
    os.close(master)


def test_the_closing_summary_is_coloured_on_a_real_terminal_only(monkeypatch, tmp_path):
    import os
    import pty

    from canvas_conformance import summary
    from canvas_conformance.report.rows import build_run
    from canvas_conformance.report.writer import Written

    run = build_run({"scenarios": [{"nodeid": "a", "name": "x", "rules": ["SENT-2"], "status": "failed"}]})
    written = Written(run, (), ("SENT-2",))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    master, slave = pty.openpty()
    screen = os.fdopen(slave, "w", encoding="utf-8")
    monkeypatch.setattr(summary.sys, "stdout", screen)
    try:
        summary.print_summary(written, tmp_path, base_url="http://127.0.0.1:1", embedded=True)
        screen.flush()
        text = _read_all(master).decode("utf-8", errors="replace")
    finally:
        screen.close()
        os.close(master)
    assert "\x1b[" in text and "failing:    SENT-2" in text and "1 failed" in text
