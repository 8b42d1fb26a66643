"""One configuration: the command line and the suite's process give the same answer to the same input.

Each row goes through ``canvas-conformance run``'s parsing and resolution, and through the
suite's loader (``config.for_suite``): from the environment alone for a plain ``pytest steps``,
and from the record the runner hands its child. An answer is the resolved value, or the one
error line, which must be the same text on both paths.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import NamedTuple

import pytest

from canvas_conformance import cli, config
from canvas_conformance.config import ConfigError, Layer, RunConfig, for_suite, resolve
from canvas_conformance.suite_process import child_env

LOOPBACK = "http://127.0.0.1:5998"


class Refused(NamedTuple):
    says: str  # a part of the one error line


def from_command_line(argv: list[str], env: dict[str, str]) -> RunConfig:
    return config.from_command_line(cli.build_parser().parse_args(["run", *argv]), env)


def answer(load, *args):
    try:
        return load(*args)
    except ConfigError as err:
        return Refused(str(err))


def field_of(cfg: RunConfig | Refused, field: str):
    return cfg if isinstance(cfg, Refused) else getattr(cfg, field)


def matches(got, expected) -> bool:
    if isinstance(expected, Refused):
        return isinstance(got, Refused) and expected.says in got.says and "\n" not in got.says
    return got == expected


ENV_ROWS = [  # (variables, field, expected)
    # the four inputs the runner and the suite used to disagree on
    ({"CANVAS_ALLOW_WRITES": "on"}, "allow_writes", True),
    ({"CANVAS_BASE_URL": "http://:80"}, "base_url", Refused("CANVAS_BASE_URL 'http://:80' is not an http(s) URL")),
    ({"CANVAS_TIMEOUT": "9999"}, "timeout", Refused("CANVAS_TIMEOUT 9999 must be more than 0 and at most 600 seconds")),
    ({"CANVAS_PATIENTS": "a, b,a"}, "patients", ("a", "b")),
    # yes/no values
    ({"CANVAS_ALLOW_WRITES": "OFF"}, "allow_writes", False),
    ({"CANVAS_STRICT": " Yes "}, "strict", True),
    ({"CANVAS_QUIET": "TRUE"}, "quiet", True),
    ({"CANVAS_LIST": "0"}, "list_only", False),
    ({"CANVAS_ALLOW_WRITES": "maybe"}, "allow_writes",
     Refused("CANVAS_ALLOW_WRITES='maybe' is not a yes/no value (1/0, true/false, yes/no or on/off)")),
    ({"CANVAS_STRICT": "y"}, "strict", Refused("CANVAS_STRICT='y' is not a yes/no value")),
    # blank values and whitespace: a blank variable is an unset one
    ({"CANVAS_BASE_URL": ""}, "base_url", None),
    ({"CANVAS_BASE_URL": "   "}, "base_url", None),
    ({"CANVAS_TIMEOUT": " "}, "timeout", 10.0),
    ({"CANVAS_ALLOW_WRITES": ""}, "allow_writes", False),
    ({"CANVAS_BASE_URL": f"  {LOOPBACK}/  ", "CANVAS_TOKEN": "t"}, "base_url", LOOPBACK),
    ({"CANVAS_PRACTITIONERS": " , ,"}, "practitioners", ()),
    ({"CANVAS_TAGS": "  SENT-2 or SENT-3 "}, "tags", "SENT-2 or SENT-3"),
    # URLs
    ({"CANVAS_BASE_URL": "ftp://example.com"}, "base_url", Refused("'ftp://example.com' is not an http(s) URL")),
    ({"CANVAS_BASE_URL": "example.com"}, "base_url", Refused("'example.com' is not an http(s) URL")),
    ({"CANVAS_BASE_URL": "http://127.0.0.1:99999"}, "base_url", Refused("is not an http(s) URL")),
    ({"CANVAS_BASE_URL": "http://[::1"}, "base_url", Refused("is not an http(s) URL")),
    ({"CANVAS_BASE_URL": "HTTPS://Example.com/fhir"}, "base_url", "HTTPS://Example.com/fhir"),
    ({"CANVAS_BASE_URL": LOOPBACK, "CANVAS_TOKEN_URL": "nope"}, "token_url",
     Refused("CANVAS_TOKEN_URL 'nope' is not an http(s) URL; set with --token-url or CANVAS_TOKEN_URL")),
    # numbers
    ({"CANVAS_TIMEOUT": "abc"}, "timeout",
     Refused("CANVAS_TIMEOUT 'abc' is not a number of seconds; set with --timeout or CANVAS_TIMEOUT")),
    ({"CANVAS_TIMEOUT": "0"}, "timeout", Refused("must be more than 0")),
    ({"CANVAS_TIMEOUT": "-3"}, "timeout", Refused("must be more than 0")),
    ({"CANVAS_TIMEOUT": "nan"}, "timeout", Refused("must be more than 0 and at most 600")),
    ({"CANVAS_TIMEOUT": "600"}, "timeout", 600.0),
    ({"CANVAS_TIMEOUT": "0.25"}, "timeout", 0.25),
    ({"CANVAS_RETRIES": "0"}, "retries", 0),
    ({"CANVAS_RETRIES": "2.5"}, "retries", Refused("CANVAS_RETRIES '2.5' must be a whole number from 0 to 10")),
    ({"CANVAS_RETRIES": "²"}, "retries", Refused("CANVAS_RETRIES '²' must be a whole number from 0 to 10")),
    ({"CANVAS_RETRIES": "11"}, "retries", Refused("must be a whole number from 0 to 10")),
    ({"CANVAS_MAX_RETRY_WAIT": "301"}, "max_retry_wait", Refused("CANVAS_MAX_RETRY_WAIT 301 must be from 0 to 300")),
    ({"CANVAS_MAX_RETRY_WAIT": "0"}, "max_retry_wait", 0.0),
    # credentials make no sense without a base URL: the embedded mock has its own
    ({"CANVAS_TOKEN": "t"}, "token", Refused("--token given without --base-url (CANVAS_BASE_URL)")),
    ({"CANVAS_CLIENT_ID": "me", "CANVAS_CLIENT_SECRET": "s"}, "client_id",
     Refused("--client-id, --client-secret given without --base-url")),
    ({"CANVAS_BASE_URL": LOOPBACK, "CANVAS_TOKEN": "t"}, "token", "t"),
    # paths
    ({"CANVAS_REPORT_DIR": "~/r"}, "report_dir", Path("~/r").expanduser()),
    ({"CANVAS_RESULTS_FILE": "out/results.json"}, "results_file", Path("out/results.json").resolve()),
]


@pytest.mark.parametrize("env, field, expected", ENV_ROWS)
def test_the_command_line_and_the_suite_read_the_environment_alike(env, field, expected):
    on_the_command_line = answer(from_command_line, [], env)
    in_the_suite = answer(for_suite, env)
    assert matches(field_of(on_the_command_line, field), expected), on_the_command_line
    assert in_the_suite == on_the_command_line  # the same value, or the same error line


FLAG_ROWS = [  # (argv, variables, field, expected)
    (["--timeout", "5"], {"CANVAS_TIMEOUT": "abc"}, "timeout", 5.0),  # the flag wins; the variable is not read
    (["--patient", "a", "--patient", " b,a "], {"CANVAS_PATIENTS": "z"}, "patients", ("a", "b")),
    (["--allow-writes"], {"CANVAS_ALLOW_WRITES": "0"}, "allow_writes", True),
    (["--strict"], {"CANVAS_STRICT": "maybe"}, "strict", True),
    ([], {"CANVAS_STRICT": "maybe"}, "strict", Refused("CANVAS_STRICT='maybe' is not a yes/no value")),
    (["--base-url", ""], {"CANVAS_BASE_URL": LOOPBACK, "CANVAS_TOKEN": "t"}, "base_url", LOOPBACK),
    (["--base-url", "http://:80"], {}, "base_url",
     Refused("--base-url 'http://:80' is not an http(s) URL; set with --base-url or CANVAS_BASE_URL")),
    (["--timeout", "9999"], {}, "timeout", Refused("--timeout 9999 must be more than 0 and at most 600 seconds")),
    (["--retries", "-1"], {"CANVAS_RETRIES": "1"}, "retries", Refused("--retries '-1' must be a whole number")),
    (["--max-retry-wait", "1.5"], {"CANVAS_MAX_RETRY_WAIT": "soon"}, "max_retry_wait", 1.5),
    (["--token", "t"], {}, "token", Refused("--token given without --base-url")),
    (["--token", "t"], {"CANVAS_BASE_URL": f"{LOOPBACK}/"}, "base_url", LOOPBACK),
    (["--base-url", LOOPBACK, "--token-url", "nope", "--token", "t"], {}, "token_url",
     Refused("--token-url 'nope' is not an http(s) URL")),
    (["--suite", "."], {"CANVAS_SUITE": "/nowhere"}, "suite", Path(".").resolve()),
    (["-q"], {}, "quiet", True),
]


@pytest.mark.parametrize("argv, env, field, expected", FLAG_ROWS)
def test_flags_beat_variables_and_the_suite_gets_what_the_command_line_resolved(argv, env, field, expected):
    resolved = answer(from_command_line, argv, env)
    assert matches(field_of(resolved, field), expected), resolved
    if not isinstance(resolved, Refused):
        handed = child_env(resolved)
        assert for_suite(handed) == resolved
        assert not set(handed) & {o.var for o in config.OPTIONS}  # the record is the child's one source


def test_the_options_table_and_the_record_have_the_same_fields():
    assert [o.field for o in config.OPTIONS] == [f.name for f in dataclasses.fields(RunConfig)]
    assert len({o.var for o in config.OPTIONS}) == len(config.OPTIONS)
    assert all(o.var.startswith("CANVAS_") for o in config.OPTIONS)


def test_a_lowest_layer_is_checked_by_the_same_parsers():
    """What a config file will be: one more layer after the environment, naming its own keys."""
    file_layer = Layer({"timeout": "7", "retries": "3"}, {"timeout": "timeout in x.toml", "retries": "retries in x.toml"})
    cfg = resolve([config.env_layer({"CANVAS_RETRIES": "1"}), file_layer])
    assert (cfg.timeout, cfg.retries) == (7.0, 1)  # the variable beats the file; the file beats the default
    bad = Layer({"timeout": "forever"}, {"timeout": "timeout in x.toml"})
    with pytest.raises(ConfigError, match="^timeout in x.toml 'forever' is not a number of seconds; "
                                          "set with --timeout or CANVAS_TIMEOUT$"):
        resolve([config.env_layer({}), bad])


def test_the_handed_record_is_read_as_it_is():
    cfg = from_command_line(["--base-url", LOOPBACK, "--token", "t", "--patient", "p1", "--report-dir", "r"], {})
    assert RunConfig.from_json(cfg.to_json()) == cfg
    # no value in the record is parsed again: one the parsers would refuse comes back unchanged
    odd = dataclasses.replace(cfg, timeout=9999.0)
    assert for_suite({config.RUN_CONFIG_ENV: odd.to_json(), "CANVAS_TIMEOUT": "abc"}).timeout == 9999.0


@pytest.mark.parametrize("handed", ["{not json", "[]", '{"base_url": null}'])
def test_a_record_that_is_not_this_versions_is_one_line(handed):
    with pytest.raises(ConfigError, match="^CANVAS_RUN_CONFIG is not a run configuration written by this version"):
        for_suite({config.RUN_CONFIG_ENV: handed})
