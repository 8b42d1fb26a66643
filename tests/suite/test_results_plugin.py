"""results.json verdicts for what is not a rule being broken: an unreachable or slow target is an
error, not a failure; secrets never reach the file."""
from __future__ import annotations

import json
import socket
import time

from .twists import Twist, _no_location, body_of


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_target_is_an_error_for_every_scenario(run_suite, capfd):
    run = run_suite({"CANVAS_BASE_URL": f"http://127.0.0.1:{_closed_port()}", "CANVAS_CLIENT_ID": "x",
                     "CANVAS_CLIENT_SECRET": "not-a-real-secret", "CANVAS_TIMEOUT": "2"}, marks="(ID-1 or PAY-1) and not explored")
    assert run.exit_code == 1
    assert len(run.rows) == 4 and {row["status"] for row in run.rows} == {"error"}
    for row in run.rows:
        assert "cannot be used" in row["message"] and "connection failed" in row["message"], row["message"]
        assert {step["status"] for step in row["steps"]} == {"not run"}
    assert run.results["target"]["embedded_mock"] is False
    assert "not-a-real-secret" not in json.dumps(run.results)
    printed = capfd.readouterr()
    assert "RuntimeError: the target cannot be used" in printed.out
    assert "not-a-real-secret" not in printed.out + printed.err


def _slow_create(app, incoming, memory):
    if incoming.is_create:
        time.sleep(1.0)
    return None


def test_a_timeout_is_an_error_with_the_request_in_evidence(run_suite, serve):
    target = serve(Twist("answers creates slowly", before=_slow_create).install)
    run = run_suite(target.env(CANVAS_TIMEOUT="0.3"), marks="SNDR-1 and not explored")
    (row,) = run.rows
    assert row["status"] == "error"
    assert row["message"].startswith("ExchangeError: create message without sender: POST ")
    assert "timeout" in row["message"]
    assert [s["status"] for s in row["steps"]] == ["passed", "passed", "error", "not run", "not run"]
    timed_out = row["exchanges"][-1]
    assert timed_out["status"] is None and "timeout" in timed_out["error"]


def test_secrets_never_reach_the_results_file(run_suite, serve):
    secret = "s3cret-only-this-test-knows"
    target = serve(CLIENT_SECRET=secret)
    run = run_suite(target.env(), marks="FHIR-3")
    text = json.dumps(run.results)
    assert run.exit_code == 0
    assert secret not in text
    grants = [e for r in run.rows for e in r["exchanges"] if e["url"].endswith("/auth/token/")]
    assert grants, "the grant scenario's exchange is in the evidence"
    for exchange in grants:
        assert "[REDACTED]" in exchange["request_body"]
        assert json.loads(exchange["response_body"])["access_token"] == "[REDACTED]"


def test_no_results_file_without_the_setting(run_suite, tmp_path, monkeypatch):
    run = run_suite({}, marks="FHIR-6")
    assert run.exit_code == 0 and run.rows
    monkeypatch.chdir(tmp_path)
    assert not list(tmp_path.glob("*.json.partial"))


def test_failures_and_errors_print_no_secret(run_suite, serve, capfd):
    """pytest prints the arguments of the frames in a traceback: none of them may carry a secret."""
    secret, granted = "s3cret-for-the-terminal-test", []

    def slow_without_sender(app, incoming, memory):
        if incoming.message is not None and "sender" not in incoming.message:
            time.sleep(1.0)
        return None

    def keep_tokens(app, incoming, response, memory):
        if incoming.path.startswith("/auth/token") and response.status_code == 200:
            granted.append(body_of(response)["access_token"])
        return _no_location(app, incoming, response, memory)

    target = serve(Twist("slow and without Location", before=slow_without_sender, after=keep_tokens).install,
                   CLIENT_SECRET=secret)
    run = run_suite(target.env(CANVAS_TIMEOUT="0.3"), marks="SNDR-1 or ID-1")
    printed = capfd.readouterr()
    statuses = {row["status"] for row in run.rows}
    assert statuses == {"failed", "error"} and granted
    assert "ExchangeError" in printed.out and "AssertionError" in printed.out
    for value in (secret, *granted):
        assert value not in printed.out + printed.err
        assert value not in json.dumps(run.results)
