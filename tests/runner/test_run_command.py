"""``canvas-conformance run`` before the suite starts: configuration, safety, reachability, --list.

Everything here ends before a suite process would start (``no_target`` makes sure of it).
"""
import os
import subprocess
import sys

import pytest
import responses

from canvas_conformance.preflight import is_loopback

from ..mock_helpers import CAPABILITIES

SECRET = "do-not-print-this-secret-91ab"
# the token endpoint of https://fumage-example.canvasmedical.com: the EHR instance's (canvas_hosts)
TOKEN_URL = "https://example.canvasmedical.com/auth/token/"


def _one_line(outcome):
    assert outcome.code == 2, (outcome.out, outcome.err)
    assert len(outcome.err_lines) == 1, outcome.err
    assert outcome.out == ""
    return outcome.err_lines[0]


def test_an_unreachable_target_exits_2_with_one_line(tmp_path, free_port, throwaway_suite):
    """A real process, real stderr: nothing listens on the port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
    env["CANVAS_CLIENT_SECRET"] = SECRET  # from the environment, as the README recommends
    report = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "canvas_conformance", "run", "--base-url", f"http://127.0.0.1:{free_port}",
         "--client-id", "someone", "--report-dir", str(report), "--suite", str(throwaway_suite)],
        capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    assert f"127.0.0.1:{free_port}/metadata" in lines[0] and "connection refused" in lines[0]
    assert SECRET not in done.stderr and done.stdout == ""
    assert not report.exists()  # nothing was written for a run that never started


def test_credentials_inside_a_url_never_reach_the_error_line(run_command, no_target, throwaway_suite, free_port):
    outcome = run_command(["run", "--base-url", f"http://admin:{SECRET}@127.0.0.1:{free_port}", "--token", "abcdefgh",
                           "--suite", str(throwaway_suite)])
    line = _one_line(outcome)
    assert "cannot reach" in line and SECRET not in line and "//[REDACTED]@127.0.0.1" in line


@pytest.mark.parametrize("url", ["https://fumage-example.canvasmedical.com", "http://10.0.0.8:8000",
                                 "http://127.0.0.1.nip.io", "http://[2001:db8::1]/fhir"])
def test_a_non_loopback_target_is_refused_before_any_request(run_command, no_target, url):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        outcome = run_command(["run", "--base-url", url, "--client-id", "me", "--client-secret", SECRET])
        assert len(rsps.calls) == 0
    line = _one_line(outcome)
    assert "not a loopback address" in line and "--allow-writes" in line and SECRET not in line


@pytest.mark.parametrize("url, loopback", [
    ("http://127.0.0.1:8000", True), ("http://127.9.9.9", True), ("http://localhost:5000/fhir", True),
    ("http://LOCALHOST.", True), ("http://api.localhost", True), ("http://[::1]:8000", True),
    ("http://10.0.0.1", False), ("https://example.com", False), ("http://localhost.example.com", False),
    ("http://127.0.0.1.nip.io", False), ("http://[::2]", False),
])
def test_loopback_is_decided_from_the_url_alone(url, loopback):
    assert is_loopback(url) is loopback


def test_allow_writes_lets_a_remote_target_through_to_the_checks(run_command, no_target, throwaway_suite):
    base = "https://fumage-example.canvasmedical.com"
    with responses.RequestsMock() as rsps:
        rsps.get(f"{base}/metadata", json=CAPABILITIES)
        rsps.post(TOKEN_URL, status=401, json={"error": "invalid_client",
                                                           "error_description": f"bad secret {SECRET}"})
        outcome = run_command(["run", "--base-url", base, "--client-id", "me", "--client-secret", SECRET,
                               "--allow-writes", "--suite", str(throwaway_suite)])
        assert len(rsps.calls) == 2
        assert f"client_secret={SECRET}" in rsps.calls[1].request.body
    line = _one_line(outcome)
    assert "refused the client credentials: HTTP 401 invalid_client" in line and SECRET not in line


def test_a_refused_bearer_token_exits_2(run_command, no_target, monkeypatch, throwaway_suite):
    base = "http://127.0.0.1:5998"
    monkeypatch.setenv("CANVAS_TOKEN", SECRET)
    monkeypatch.setenv("CANVAS_BASE_URL", base)
    monkeypatch.setenv("CANVAS_SUITE", str(throwaway_suite))
    with responses.RequestsMock() as rsps:
        rsps.get(f"{base}/metadata", json=CAPABILITIES)
        rsps.get(f"{base}/Communication", status=401, json={"resourceType": "OperationOutcome"})
        outcome = run_command(["run"])
        assert rsps.calls[1].request.headers["Authorization"] == f"Bearer {SECRET}"
    line = _one_line(outcome)
    assert "refused the bearer token" in line and SECRET not in line


def test_a_token_endpoint_elsewhere_is_used_and_checked(run_command, no_target, throwaway_suite):
    base, token_url = "http://127.0.0.1:5998", "http://127.0.0.1:5997/oauth/token"
    with responses.RequestsMock() as rsps:
        rsps.get(f"{base}/metadata", json=CAPABILITIES)  # the target is a FHIR endpoint
        rsps.post(token_url, status=200, json={"token_type": "Bearer"})  # but no access_token
        outcome = run_command(["run", "--base-url", base, "--token-url", token_url,
                               "--client-id", "me", "--client-secret", SECRET, "--suite", str(throwaway_suite)])
    assert "refused the client credentials: HTTP 200" in _one_line(outcome)


def test_a_base_url_with_a_wrong_path_blames_the_url_not_the_credentials(run_command, no_target, throwaway_suite):
    base = "https://fumage-example.canvasmedical.com/wrong/path"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{base}/metadata", status=404)
        rsps.post(TOKEN_URL, status=404, body="<h1>Not Found</h1>")
        outcome = run_command(["run", "--base-url", base, "--client-id", "me", "--client-secret", SECRET,
                               "--allow-writes", "--suite", str(throwaway_suite)])
    line = _one_line(outcome)
    assert f"{base}/metadata is not a FHIR endpoint serving Communication" in line and "--base-url" in line
    assert "refused" not in line and SECRET not in line


def test_a_token_endpoint_that_is_not_there_is_a_wrong_url_not_refused_credentials(run_command, no_target,
                                                                                   throwaway_suite):
    base = "https://fumage-example.canvasmedical.com"
    with responses.RequestsMock() as rsps:
        rsps.get(f"{base}/metadata", json=CAPABILITIES)
        rsps.post(TOKEN_URL, status=404, body="<h1>Not Found</h1>")
        outcome = run_command(["run", "--base-url", base, "--client-id", "me", "--client-secret", SECRET,
                               "--allow-writes", "--suite", str(throwaway_suite)])
    line = _one_line(outcome)
    assert f"the token endpoint {TOKEN_URL} was not found (HTTP 404): check --base-url and --token-url" \
        in line
    assert "refused" not in line and SECRET not in line


@pytest.mark.parametrize("argv, env, says", [
    (["--timeout", "abc"], {}, "--timeout 'abc' is not a number"),
    (["--timeout", "0"], {}, "more than 0"),
    ([], {"CANVAS_TIMEOUT": "-3"}, "more than 0"),
    (["--bogus"], {}, "unrecognized arguments: --bogus"),
    (["--patient"], {}, "expected one argument"),
    (["--base-url", "ftp://example.com"], {}, "is not an http(s) URL"),
    (["--base-url", "http://127.0.0.1:5998", "--token-url", "nope"], {}, "--token-url 'nope' is not an http(s) URL"),
    (["--client-id", "me"], {}, "--client-id given without --base-url"),
    ([], {"CANVAS_TOKEN": "abcdefgh"}, "--token given without --base-url"),
    (["--base-url", "http://127.0.0.1:5998"], {}, "no credentials"),
    (["--base-url", "http://127.0.0.1:5998", "--client-id", "me"], {}, "without --client-secret"),
    ([], {"CANVAS_STRICT": "maybe"}, "CANVAS_STRICT='maybe' is not a yes/no value"),
    (["--tags", "SENT-2 and"], {}, "is not a valid expression"),
    (["--tags", "NO-SUCH-TAG"], {}, "unknown tag(s): NO-SUCH-TAG"),
])
def test_bad_configuration_exits_2_with_one_line(run_command, no_target, monkeypatch, argv, env, says):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        outcome = run_command(["run", *argv])
        assert len(rsps.calls) == 0
    assert says in _one_line(outcome)


def test_tags_that_select_no_scenario_exit_2(run_command, no_target, throwaway_suite):
    outcome = run_command(["run", "--suite", str(throwaway_suite), "--tags", "FHIR-7"])
    assert "--tags 'FHIR-7' selects no scenario" in _one_line(outcome)


def test_a_missing_suite_exits_2(run_command, no_target, tmp_path):
    assert "no suite to run" in _one_line(run_command(["run", "--suite", str(tmp_path)]))
    assert "no suite to list" in _one_line(run_command(["run", "--list", "--suite", str(tmp_path)]))


def test_list_prints_rules_and_scenarios_and_sends_nothing(run_command, no_target, throwaway_suite):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        outcome = run_command(["run", "--list", "--suite", str(throwaway_suite),
                               "--base-url", "https://fhir-example.canvasmedical.com"])
        assert len(rsps.calls) == 0
    assert outcome.code == 0 and outcome.err == ""
    lines = outcome.out.splitlines()
    sent2 = next(i for i, ln in enumerate(lines) if ln.startswith("SENT-2 "))
    assert "[1 scenario(s)]" in lines[sent2]
    assert "features/throwaway.feature" in lines[sent2 + 1] and "the target is there" in lines[sent2 + 1]
    assert any(ln.startswith("FHIR-7 ") and ln.endswith("[not selected]") for ln in lines)
    assert lines[-1].startswith("30 rules, 6 with a selected scenario; 6 of 6 scenarios")


def test_list_applies_the_tag_expression(run_command, no_target, throwaway_suite, monkeypatch):
    monkeypatch.setenv("CANVAS_LIST", "1")
    outcome = run_command(["run", "--suite", str(throwaway_suite), "--tags", "documented and not ui"])
    assert outcome.code == 0
    assert "4 of 6 scenarios selected by --tags 'documented and not ui'" in outcome.out
    assert "a check for a person" not in outcome.out and "a check that cannot finish" not in outcome.out


def test_help_documents_every_option_and_its_variable(run_command):
    outcome = run_command(["run", "--help"])
    assert outcome.code == 0
    for option, var in [("--base-url", "CANVAS_BASE_URL"), ("--token-url", "CANVAS_TOKEN_URL"),
                        ("--client-id", "CANVAS_CLIENT_ID"), ("--client-secret", "CANVAS_CLIENT_SECRET"),
                        ("--token", "CANVAS_TOKEN"), ("--patient", "CANVAS_PATIENTS"),
                        ("--practitioner", "CANVAS_PRACTITIONERS"), ("--report-dir", "CANVAS_REPORT_DIR"),
                        ("--tags", "CANVAS_TAGS"), ("--timeout", "CANVAS_TIMEOUT"), ("--strict", "CANVAS_STRICT"),
                        ("--allow-writes", "CANVAS_ALLOW_WRITES"), ("--list", "CANVAS_LIST")]:
        assert option in outcome.out and var in outcome.out
    assert "Exit codes" in outcome.out


def test_serve_help_documents_the_after_key_of_fault(run_command):
    outcome = run_command(["serve", "--help"])
    text = " ".join(outcome.out.split())
    assert outcome.code == 0 and "after=true (not for latency: handle the request first, then lose the answer" in text
