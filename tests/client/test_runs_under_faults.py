"""``canvas-conformance run`` against misbehaving targets: verdicts, evidence, the report, exit codes.

Each test is one real run of a few scenarios (``--tags``) against the mock with faults
injected (its ``FAULTS`` rules, as ``serve --fault`` or ``PUT /_mock/faults`` set them) or
wrapped by a small test app (conftest.py). The rule under test in every case: the harness
never crashes, always writes its whole report, and tells ``error`` (the target gave no
usable answer) from ``failed`` (the target answered and broke the rule).
"""
from __future__ import annotations

from canvas_conformance.report.writer import REPORT_FILES

from .conftest import RUN_TIMEOUT_S, Echo, assert_no_secret_anywhere, hang_on, spellings, stored_total

EVERY_FILE = (*REPORT_FILES, "results.json", "pytest.log")


def assert_full_report(run) -> None:
    missing = [name for name in EVERY_FILE if not (run.report / name).is_file()]
    assert not missing, (missing, run.err)
    assert "Traceback" not in run.err and "Traceback" not in run.out


def test_a_hanging_target_ends_each_request_at_the_timeout(serve, run_harness):
    target = serve(hang_on("/Communication"))  # metadata, token, people answer; messages never do
    run = run_harness(target, "--tags", "RCPT-1 and not explored", "--timeout", "0.5")
    print(f"hanging target: the run took {run.elapsed_s:.2f} s")  # measured, not asserted (see -s)
    assert run.elapsed_s < RUN_TIMEOUT_S  # it ended at all (subprocess.run would have raised)
    assert run.code == 2, run.err  # no rule reached a verdict: the run checked nothing (the report is kept)
    assert run.err.strip().endswith(f"see {run.report / 'report.html'}") and "(2 error)" in run.err
    assert_full_report(run)
    rows = run.rows()
    assert len(rows) == 2 and {row["status"] for row in rows} == {"error"}
    for row in rows:
        assert "no answer within 0.5 s" in row["message"], row["message"]
        hung = [e for e in row["exchanges"] if e["error"]]
        # the create itself: a case's marker needs no search before it (steps/bodies.py), so the
        # first request to /Communication is the POST
        assert len(hung) == 1 and hung[0]["status"] is None and hung[0]["method"] == "POST"
        assert "no answer within 0.5 s (timeout)" in hung[0]["error"]
        assert hung[0]["duration_ms"] >= 500  # it waited the timeout out, then let go
    assert target.app.extensions["test_hang"].held == 2  # one request per scenario, none sent again
    assert run.rule_status("RCPT-1") == "error"
    assert "RCPT-1" in run.out and "1 error" in run.out
    assert "no answer within 0.5 s" in (run.report / "report.html").read_text()


def test_429_and_503_are_sent_again_after_retry_after_and_every_attempt_is_shown(serve, run_harness):
    target = serve(FAULTS=[
        {"kind": "503", "path": "/Communication", "methods": ["POST"], "times": 1, "retry_after": 1},
        # a read: SENT-1 searches nothing (a case's marker needs no count before the create)
        {"kind": "429", "path": "/Communication/*", "methods": ["GET"], "times": 1, "retry_after": 0},
    ])
    run = run_harness(target, "--tags", "SENT-1 and not explored")
    assert run.code == 0, run.err
    assert_full_report(run)
    rows = run.rows()
    assert {row["status"] for row in rows} == {"passed"}
    first = rows[0]
    attempts = [(e["name"], e["status"]) for e in first["exchanges"] if "attempt" in e["name"]]
    assert attempts == [("create message (attempt 1)", 503), ("create message (attempt 2)", 201),
                        ("read the new message back (attempt 1)", 429),
                        ("read the new message back (attempt 2)", 200)]
    assert "create message (attempt 1): 503 with Retry-After 1: sent again after 1 s" in first["notes"]
    assert not any("attempt" in e["name"] for row in rows[1:] for e in row["exchanges"])
    assert stored_total(target) == len(rows)  # a 503 stored nothing, so sending again made no duplicate
    page = (run.report / "report.html").read_text()
    assert "create message (attempt 1)" in page and "create message (attempt 2)" in page
    assert run.rule_status("SENT-1") == "passed"


def test_a_target_still_unavailable_after_the_retries_is_an_error(serve, run_harness):
    target = serve(FAULTS=[{"kind": "503", "path": "/Communication", "methods": ["POST"], "retry_after": 0}])
    run = run_harness(target, "--tags", "RCPT-1 and not explored", "--retries", "1")
    assert run.code == 2, run.err  # no rule reached a verdict: the run checked nothing (the report is kept)
    assert_full_report(run)
    rows = run.rows()
    assert len(rows) == 2 and {row["status"] for row in rows} == {"error"}
    for row in rows:
        assert row["message"].startswith("TargetUnavailable: "), row["message"]
        assert "still 503 after 2 attempts" in row["message"]
        creates = [(e["name"].rsplit(" (", 1)[-1], e["status"]) for e in row["exchanges"] if e["method"] == "POST"]
        assert creates == [("attempt 1)", 503), ("attempt 2)", 503)]
    assert run.rule_status("RCPT-1") == "error"


def test_a_dropped_create_is_an_error_and_is_not_sent_again(serve, run_harness):
    # the mock stores the create, then drops the connection: sending it again would store it twice
    target = serve(FAULTS=[{"kind": "drop", "path": "/Communication", "methods": ["POST"], "after": True,
                            "times": 1}])
    run = run_harness(target, "--tags", "SENT-1 and not explored")
    assert run.code == 1, run.err
    assert_full_report(run)
    rows = run.rows()
    assert [row["status"] for row in rows] == ["error", "passed", "passed", "passed"]
    dropped = rows[0]
    assert "closed by the target without a complete answer" in dropped["message"]
    assert "not sent again" in dropped["message"]
    posts = [e for e in dropped["exchanges"] if e["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["status"] is None and posts[0]["error"]
    sent = sum(1 for row in rows for e in row["exchanges"] if e["method"] == "POST")
    assert stored_total(target) == sent == 4  # the dropped create was stored once, and only once
    assert run.rule_status("SENT-1") == "error"


def test_a_500_html_page_to_bad_input_is_a_failed_fhir_2(serve, run_harness):
    target = serve(FAULTS=[{"kind": "html500", "path": "/Communication", "methods": ["POST"]}])
    run = run_harness(target, "--tags", "FHIR-2 and not explored")
    assert run.code == 1, run.err
    assert_full_report(run)
    rows = run.rows()
    assert rows and {row["status"] for row in rows} == {"failed"}
    for row in rows:
        assert row["message"].startswith("[FHIR-2] "), row["message"]
        assert "got status 500" in row["message"]
        (create,) = [e for e in row["exchanges"] if e["method"] == "POST"]  # a 500 is an answer: never sent again
        assert create["response_body"].startswith("<!DOCTYPE html>")
    assert run.rule_status("FHIR-2") == "failed"
    assert "failing:    FHIR-2" in run.out


def test_echoed_credentials_are_redacted_in_every_output(serve, run_harness):
    echo = {}
    target = serve(lambda app: echo.setdefault("app", Echo(app)))
    run = run_harness(target, "--tags", "(FHIR-2 or FHIR-3) and not explored")
    assert run.code == 1, run.err  # the echo replaces the OperationOutcome's words: FHIR-2 checks fail
    assert_full_report(run)
    issued = echo["app"].issued
    assert len(issued) >= 3  # the pre-flight's token, the run's token, FHIR-3's own grant
    secrets = set().union(*(spellings(s) for s in (target.client_secret, *issued)))
    assert_no_secret_anywhere(run, secrets, report_files=EVERY_FILE)
    # the echo did reach every output, masked: a scrubbed echo, not an absent one
    results = (run.report / "results.json").read_text()
    assert '"X-Echo-Authorization": "Bearer [REDACTED]"' in results and '"X-Echo-Secret": "[REDACTED]"' in results
    assert "echo: Authorization: Bearer [REDACTED] client_secret=" in results
    assert "echo: Authorization: Bearer [REDACTED]" in (run.report / "pytest.log").read_text()
    assert any("FAIL" in line and "Bearer [REDACTED]" in line for line in run.err_lines), run.err
