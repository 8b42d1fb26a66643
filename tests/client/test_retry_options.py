"""``--retries`` and ``--max-retry-wait`` (and their variables): checked before anything is sent,
and handed to the suite's process, whose client reads them."""
from __future__ import annotations

import contextlib
import io
import os

import pytest

from canvas_conformance import cli, config, suite_process
from canvas_conformance.retry import RetryPolicy


def invoke(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv, env, says", [
    (["--retries", "-1"], {}, "--retries '-1' must be a whole number from 0 to 10"),
    (["--retries", "99"], {}, "--retries '99' must be a whole number from 0 to 10"),
    ([], {"CANVAS_RETRIES": "lots"}, "CANVAS_RETRIES 'lots' must be a whole number"),
    (["--max-retry-wait", "soon"], {}, "--max-retry-wait 'soon' is not a number of seconds"),
    ([], {"CANVAS_MAX_RETRY_WAIT": "9999"}, "CANVAS_MAX_RETRY_WAIT 9999 must be from 0 to 300 seconds"),
])
def test_bad_retry_settings_stop_the_run_in_one_line(no_target, clean_canvas_env, monkeypatch, argv, env, says):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = invoke(["run", *argv])
    assert code == 2 and out == ""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and says in lines[0], err


def resolved(argv, env) -> config.RunConfig:
    return config.from_command_line(cli.build_parser().parse_args(["run", *argv]), env)


def test_the_option_wins_over_its_variable_and_defaults_hold():
    assert (resolved([], {}).retries, resolved([], {}).max_retry_wait) == (2, 5.0)
    cfg = resolved(["--retries", "4"], {"CANVAS_RETRIES": "1", "CANVAS_MAX_RETRY_WAIT": "0.5"})
    assert (cfg.retries, cfg.max_retry_wait) == (4, 0.5)


def test_the_suite_process_gets_the_policy_and_its_client_uses_it(monkeypatch):
    monkeypatch.setenv("CANVAS_RETRIES", "7")  # the flag beats it, and the child must not see it
    cfg = resolved(["--retries", "0", "--max-retry-wait", "1.5", "--base-url", "http://127.0.0.1:5995",
                    "--client-id", "me", "--client-secret", "sec-12345678"], dict(os.environ))
    env = suite_process.child_env(cfg)
    assert "CANVAS_RETRIES" not in env and "CANVAS_MAX_RETRY_WAIT" not in env  # the record is the one source
    monkeypatch.setenv(config.RUN_CONFIG_ENV, env[config.RUN_CONFIG_ENV])
    assert config.for_suite().retry == RetryPolicy(retries=0, max_wait=1.5)  # what steps/conftest.py hands the client
