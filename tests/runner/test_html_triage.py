"""report.html for triage: failures first and open to their proving exchange, an honest heading with
linked rule IDs, manual steps as a numbered list, and evidence that prints open."""
from __future__ import annotations

from canvas_conformance.report.html_page import render
from canvas_conformance.report.rows import build_run


def page(results, scenarios, **options) -> str:
    return render(build_run(results(scenarios)), **options)


def test_an_error_only_run_is_not_headed_failed_and_lists_every_id_as_a_link(results, scenario):
    ids = ["SENT-1", "SENT-2", "SENT-3", "SENT-4", "RECV-1", "RECV-2", "PAY-1", "PAY-2", "PAY-3", "PAY-4",
           "RCPT-1", "RCPT-2", "RCPT-3", "SNDR-1", "SNDR-2"]
    html = page(results, [scenario("error", [i], name=f"s {i}", message="timed out") for i in ids])
    assert "Run did not pass: 0 failed, 15 error" in html and "Run failed" not in html
    for rule_id in ids:  # every one, none cut off
        assert f'<a href="#rule-{rule_id}">{rule_id}</a>' in html


def test_a_failing_run_counts_failed_and_error(results, scenario):
    html = page(results, [scenario("failed", ["SENT-2"], message="x"), scenario("error", ["PAY-1"], name="e"),
                          scenario("passed", ["RCPT-1"], name="p")])
    assert "Run failed: 1 failed, 1 error" in html


def test_failures_come_first_with_their_last_exchange_open(results, scenario, exchange):
    exchanges = [exchange("count stored messages"), exchange("create the message", status=200)]
    html = page(results, [scenario("passed", ["RCPT-1"], name="p"),
                          scenario("failed", ["SENT-2"], message="answered 200", exchanges=exchanges)])
    failing = html.index('id="failing"')
    assert failing < html.index('id="summary"') < html.index('id="documented"')
    assert html.index('id="rule-SENT-2"') > failing and html.count('id="rule-SENT-2"') == 1
    assert html.count('<details class="exchange" open>') == 1
    opened = html.index('<details class="exchange" open>')
    assert html.index("count stored messages") < opened < html.index("create the message", opened - 200)


def test_passed_scenarios_keep_their_exchanges_closed(results, scenario):
    html = page(results, [scenario("passed", ["SENT-2"])])
    assert '<details class="exchange" open>' not in html and 'id="failing"' not in html


def test_manual_steps_are_a_numbered_list(results, scenario):
    message = "MANUAL: 1. open the chart of Patient/p1 2. find message 12 and read its caption 3. press Send"
    html = page(results, [scenario("manual", ["UI-1"], message=message, tags=["UI-1", "documented", "ui"])])
    assert ('<ol class="manual"><li>open the chart of Patient/p1</li><li>find message 12 and read its caption</li>'
            "<li>press Send</li></ol>") in html


def test_printing_opens_every_details(results, scenario):
    html = page(results, [scenario("passed", ["SENT-2"])])
    assert "@media print{details::details-content{display:contents;content-visibility:visible}" in html


def test_a_closed_exchange_is_printed_open_in_chromium(results, scenario, tmp_path):
    """The print stylesheet, checked where it matters: in the browser, closed on screen, shown in print."""
    from canvas_conformance import browser

    (tmp_path / "report.html").write_text(page(results, [scenario("passed", ["SENT-2"])]), encoding="utf-8")
    running = browser.start()
    try:
        with running.page() as tab:
            tab.goto((tmp_path / "report.html").as_uri())
            body = tab.locator("details.exchange:not([open]) pre").first
            assert not body.is_visible()
            tab.emulate_media(media="print")
            assert body.is_visible()
    finally:
        running.stop()
