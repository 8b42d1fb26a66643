"""The configuration of a run: every option declared once, resolved once, handed on as it is.

``OPTIONS`` is the one table of the run's options: the field of the record, the flag, the
``CANVAS_*`` variable, how its text is read and checked, the default and the help. The
``run`` command's flags, the variables read and the list of them in its --help are derived
from it, so an option is one row.

``resolve`` turns layers of raw text into one frozen ``RunConfig``. The layers come in
precedence order, highest first (the command line's flags, then the environment); a layer
that gives no text for a field, or blank text, leaves it to the next, and the option's
default ends the chain. Whichever layer gives a value, the same parser checks it and its
error line names the flag and the variable, so a config file is one more ``Layer`` at the
end of the list with nothing added to the checks.

The suite's process is handed the resolved record in one variable, ``CANVAS_RUN_CONFIG``
(``RunConfig.to_json``), and reads it back as it is (``for_suite``): the inputs are parsed
once, by the runner, so the runner and the suite cannot disagree about them. A plain
``pytest steps`` with only ``CANVAS_*`` variables set goes through the same ``resolve``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Sequence
from urllib.parse import urlsplit

from .canvas_hosts import profile_for
from .catalogue import DEFAULT_PROFILE, PROFILES
from .errors import UsageError
from .shipped import suite_root
from .retry import DEFAULT_MAX_WAIT, DEFAULT_RETRIES, MAX_RETRIES, MAX_WAIT_LIMIT, RetryPolicy

ROOT = suite_root()  # the shipped suite's features/ and steps/: in the checkout, or in the installed package
CONFIG_FILE = "canvas-conformance.toml"  # read from the working folder when present
PYPROJECT_TABLE = "canvas-conformance"  # [tool.canvas-conformance] in a pyproject.toml there
RUN_CONFIG_ENV = "CANVAS_RUN_CONFIG"  # the runner's resolved record, for the suite's process
MAX_TIMEOUT = 600.0  # seconds; a longer wait per answer would let one scenario hold a run for hours
YES = frozenset({"1", "true", "yes", "on"})
NO = frozenset({"0", "false", "no", "off"})


class ConfigError(UsageError, ValueError):
    """A configuration that cannot be used, said in one line (exit code 2 on the command line)."""


# -- how a value's text is read: (text, the name its source gives it) -> value ----------------
# The text is trimmed and never blank (a blank value is left to the next layer).

def _text(text: str, name: str) -> str:
    return text


_USERINFO = re.compile(r"//[^/?#]*@")  # user:password@ in a URL (up to where its authority ends)


def _http_url(text: str, name: str) -> str:
    """An http(s) URL. One with user:password@ is accepted here but never sent to (client.py refuses
    such a URL, so the pre-flight stops the run in one line that masks it)."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- a port that is not a number from 0 to 65535 raises ValueError
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = _USERINFO.sub("//[REDACTED]@", text)  # a password in a malformed URL is still a password
        raise ConfigError(f"{name} {shown!r} is not an http(s) URL")
    return text


def _base_url(text: str, name: str) -> str:
    return _http_url(text, name).rstrip("/")  # paths are joined to it with a "/"


def _timeout(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} {text!r} is not a number of seconds") from None
    if not 0 < value <= MAX_TIMEOUT:  # nan and inf are refused here too
        raise ConfigError(f"{name} {text} must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    return value


MAX_ANSWER_BYTES = 16 * 1024 * 1024  # default bound on one answer's body, after decoding
MIN_ANSWER_BYTES, MAX_ANSWER_LIMIT = 1024, 1024 ** 3


def _answer_bytes(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()) or not MIN_ANSWER_BYTES <= int(text) <= MAX_ANSWER_LIMIT:
        raise ConfigError(f"{name} {text!r} must be a whole number of bytes from {MIN_ANSWER_BYTES} "
                          f"to {MAX_ANSWER_LIMIT}")
    return int(text)


def parse_retries(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_RETRIES:  # int() refuses '²'
        raise ConfigError(f"{name} {text!r} must be a whole number from 0 to {MAX_RETRIES}")
    return int(text)


def parse_max_wait(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} {text!r} is not a number of seconds") from None
    if not 0 <= value <= MAX_WAIT_LIMIT:
        raise ConfigError(f"{name} {text} must be from 0 to {MAX_WAIT_LIMIT:g} seconds")
    return value


MAX_WORKERS = 32


def _workers(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_WORKERS:
        raise ConfigError(f"{name} {text!r} must be a whole number from 1 to {MAX_WORKERS}")
    return int(text)


def _yes_no(text: str, name: str) -> bool:
    lowered = text.lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    raise ConfigError(f"{name}={text!r} is not a yes/no value (1/0, true/false, yes/no or on/off)")


def _ids(text: str, name: str) -> tuple[str, ...]:
    """Comma-separated ids, trimmed, each kept once in the order given."""
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _list_format(text: str, name: str) -> str:
    if text.lower() not in ("text", "json"):
        raise ConfigError(f"{name} {text!r} is not a listing format (text or json)")
    return text.lower()


# --depth names (how many cases each explored scenario tries: explore.DEPTHS, which a test keeps equal)
DEPTH_NAMES = ("quick", "standard", "thorough")
DEFAULT_SEED = 20220210  # fixed, so CI verdicts are reproducible (explore.DEFAULT_SEED, kept equal by a test)


def _profile(text: str, name: str) -> str:
    if text.lower() not in PROFILES:
        raise ConfigError(f"{name} {text!r} is not a profile: one of {', '.join(PROFILES)}")
    return text.lower()


def _depth(text: str, name: str) -> str:
    if text.lower() not in DEPTH_NAMES:
        raise ConfigError(f"{name} {text!r} must be one of {', '.join(DEPTH_NAMES)}")
    return text.lower()


def _seed(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise ConfigError(f"{name} {text!r} must be a whole number from 0 to 10**19 - 1")
    return int(text)


def _path(text: str, name: str) -> Path:
    return Path(text).expanduser()


def _absolute_path(text: str, name: str) -> Path:
    return Path(text).expanduser().resolve()


# -- the options ------------------------------------------------------------------------------

class Option(NamedTuple):
    field: str  # in RunConfig
    flag: str | None  # of ``canvas-conformance run``; None: a variable the suite's process reads only
    var: str
    parse: Callable[[str, str], Any]
    default: Any
    help: str
    metavar: str | None = None  # None with a flag: a yes/no switch
    group: str = "target"  # the heading it is listed under in --help
    short: str | None = None
    repeat: bool = False  # the flag may be given again; the values join as one comma-separated list
    decode: Callable[[Any], Any] | None = None  # JSON value -> field value, when JSON has no such type
    const: str | None = None  # the flag's value may be left out: then it is this text

    def names(self) -> str:
        """How an error line names the option: its flag and its variable."""
        return f"{self.flag} or {self.var}" if self.flag else self.var


OPTIONS: tuple[Option, ...] = (
    Option("base_url", "--base-url", "CANVAS_BASE_URL", _base_url, None,
           "FHIR base URL of the target, e.g. https://fumage-example.canvasmedical.com "
           "(absent: start the embedded mock on a free loopback port for this run)", "URL"),
    Option("token_url", "--token-url", "CANVAS_TOKEN_URL", _http_url, None,
           "OAuth 2.0 token endpoint (default: for a Canvas FHIR host fumage-<instance>.canvasmedical.com, the "
           "EHR instance's https://<instance>.canvasmedical.com/auth/token/; else <base-url>/auth/token/)", "URL"),
    Option("client_id", "--client-id", "CANVAS_CLIENT_ID", _text, None,
           "OAuth client id (client-credentials grant)", "ID"),
    Option("client_secret", "--client-secret", "CANVAS_CLIENT_SECRET", _text, None,
           "OAuth client secret (prefer the variable: command lines are visible)", "SECRET"),
    Option("token", "--token", "CANVAS_TOKEN", _text, None,
           "a ready bearer token instead of client credentials", "TOKEN"),
    Option("patients", "--patient", "CANVAS_PATIENTS", _ids, (),
           "id of a Patient that exists on the target (repeat; some rules need two)", "ID",
           repeat=True, decode=tuple),
    Option("practitioners", "--practitioner", "CANVAS_PRACTITIONERS", _ids, (),
           "id of a Practitioner that exists on the target (repeat; some rules need two)", "ID",
           repeat=True, decode=tuple),
    Option("timeout", "--timeout", "CANVAS_TIMEOUT", _timeout, 10.0,
           f"seconds to wait for each answer, body included (default 10, at most {MAX_TIMEOUT:g})", "SECONDS"),
    Option("retries", "--retries", "CANVAS_RETRIES", parse_retries, DEFAULT_RETRIES,
           f"times a request answered 429 or 503 is sent again (default {DEFAULT_RETRIES}, 0 for never); "
           "a timeout or a dropped connection is never sent again", "N"),
    Option("max_retry_wait", "--max-retry-wait", "CANVAS_MAX_RETRY_WAIT", parse_max_wait, DEFAULT_MAX_WAIT,
           f"longest Retry-After wait honoured before sending again (default {DEFAULT_MAX_WAIT:g}); "
           "a target asking for longer gets no retry and the scenario is an error", "SECONDS"),
    Option("max_answer_bytes", "--max-answer-bytes", "CANVAS_MAX_ANSWER_BYTES", _answer_bytes, MAX_ANSWER_BYTES,
           "largest answer body kept, in bytes after decoding (default 16 MiB); a larger answer is an error",
           "BYTES"),
    Option("allow_writes", "--allow-writes", "CANVAS_ALLOW_WRITES", _yes_no, False,
           "allow a target that is not on loopback: the suite creates messages there, which land in "
           "patients' charts"),
    Option("discover_people", "--discover-people", "CANVAS_DISCOVER_PEOPLE", _yes_no, False,
           "on a target that is not on loopback, let the suite write to the first patients and practitioners "
           "GET /Patient and /Practitioner list when too few were named (default: only to the people named; "
           "rules lacking people are skipped)"),
    Option("report_dir", "--report-dir", "CANVAS_REPORT_DIR", _path, None,
           "where to write the report (default reports/<UTC timestamp>/, with reports/latest pointing at it)",
           "DIR", group="run", decode=Path),
    Option("tags", "--tags", "CANVAS_TAGS", _text, None,
           "select scenarios with a pytest -m expression over rule IDs, kinds and surfaces, "
           "e.g. 'SENT-2 or SENT-3', 'documented and api', 'not ui'", "EXPR", group="run"),
    Option("strict", "--strict", "CANVAS_STRICT", _yes_no, False,
           "manual and skipped rules fail the run too (exit 1)", group="run"),
    Option("list_only", "--list", "CANVAS_LIST", _yes_no, False,
           "print the rules and the scenarios that would run, send nothing", group="run"),
    Option("list_format", "--format", "CANVAS_LIST_FORMAT", _list_format, "text",
           "how --list prints: text (default) or json, for scripts", "FORMAT", group="run"),
    Option("quiet", "--quiet", "CANVAS_QUIET", _yes_no, False,
           "no progress lines while running", group="run", short="-q"),
    Option("workers", "--workers", "CANVAS_WORKERS", _workers, None,
           "scenarios run at once, each worker a process of its own (default: 1 for a target on this machine, "
           f"8 for any other; at most {MAX_WORKERS}); the verdicts are the same at any number", "N", group="run"),
    Option("cases_at_once", "--cases-at-once", "CANVAS_CASES_AT_ONCE", _workers, None,
           "explored cases each worker sends ahead at once, so their requests overlap (default: 1 for a target "
           f"on this machine, 4 for any other; at most {MAX_WORKERS}); the verdicts and the evidence kept "
           "are those of cases sent one by one", "N", group="run"),
    Option("profile", "--profile", "CANVAS_PROFILE", _profile, None,
           "which edition of Canvas's documented behaviour to judge by: canvas-2022 (the mid-2022 page, "
           "Canvas's v1 API) or canvas-current (today's v2 API). Default: the one describing the target's "
           "Canvas host (fumage-<instance>.canvasmedical.com: canvas-current, fhir-<instance>: canvas-2022), "
           "else canvas-2022; the embedded mock follows it", "PROFILE", group="run"),
    Option("depth", "--depth", "CANVAS_DEPTH", _depth, "standard",
           "how hard each explored scenario searches its rule's input space: quick, standard (default) "
           "or thorough", "DEPTH", group="run"),
    Option("seed", "--seed", "CANVAS_SEED", _seed, DEFAULT_SEED,
           f"seed of the explored scenarios' generated cases (default {DEFAULT_SEED}: the same cases every run)",
           "N", group="run"),
    Option("suite", "--suite", "CANVAS_SUITE", _absolute_path, ROOT,
           "folder holding features/ and steps/ to run (default: the suite shipped with this tool); its Python "
           "code runs with the run's configuration, client secret and token included, in its environment",
           "DIR",
           group="run", decode=Path),
    Option("rerun_failed", "--rerun-failed", "CANVAS_RERUN_FAILED", _path, None,
           "run again only the failed and error scenarios of a report (a report folder or its "
           "conformance.json; default reports/latest)", "REPORT", group="run", decode=Path, const="reports/latest"),
    Option("config_file", "--config", "CANVAS_CONFIG", _absolute_path, None,
           f"a TOML file of options, one key per option ({CONFIG_FILE}, or [tool.canvas-conformance] in "
           "pyproject.toml, in the working folder, is read when present); flags and variables win over it",
           "FILE", group="run", decode=Path),
    Option("client_secret_file", "--client-secret-file", "CANVAS_CLIENT_SECRET_FILE", _path, None,
           "a file holding the OAuth client secret (its first line), for a secret that is kept in a file",
           "FILE", decode=Path),
    Option("results_file", None, "CANVAS_RESULTS_FILE", _absolute_path, None,
           "where the suite's process writes the run's raw results (results.json)", decode=Path),
    Option("screenshot_dir", None, "CANVAS_SCREENSHOT_DIR", _absolute_path, None,
           "where the suite's process puts UI screenshots", decode=Path),
)
SECRET_FIELDS = ("client_secret", "token")
CREDENTIAL_FIELDS = ("token_url", "client_id", "client_secret", "token")  # meaningless without a base URL


@dataclass(frozen=True)
class RunConfig:
    """One run's configuration, every value checked. ``OPTIONS`` says where each comes from."""

    base_url: str | None  # None: the embedded mock
    token_url: str | None  # None: canvas_hosts.default_token_url(base_url)
    client_id: str | None
    client_secret: str | None
    token: str | None  # a ready bearer token instead of client credentials
    patients: tuple[str, ...]  # ids of patients that exist on the target
    practitioners: tuple[str, ...]
    timeout: float  # seconds per request
    retries: int  # times a 429/503 is sent again
    max_retry_wait: float  # longest Retry-After honoured, seconds
    max_answer_bytes: int  # largest answer body the client keeps, after decoding
    allow_writes: bool  # needed for any target that is not on loopback
    discover_people: bool  # may write to people found by search on a target that is not on loopback
    report_dir: Path | None  # None: reports/<UTC timestamp>/ with reports/latest
    tags: str | None
    strict: bool
    list_only: bool
    list_format: str  # text | json: how --list prints
    quiet: bool
    workers: int | None  # scenarios at once; None: the target's default (``suite_process.workers_for``)
    cases_at_once: int | None  # explored cases sent ahead at once; None: the target's default (``cases_at_once_for``)
    profile: str  # catalogue.PROFILES: which edition's rules are judged (and how the embedded mock behaves)
    depth: str  # quick | standard | thorough: cases per explored scenario
    seed: int  # of the explored scenarios' cases
    suite: Path  # folder holding features/ and steps/
    rerun_failed: Path | None  # run only the failed and error scenarios of this report
    config_file: Path | None  # the config file named with --config/CANVAS_CONFIG (None: the default places)
    client_secret_file: Path | None  # where client_secret was read from, when it came from a file
    results_file: Path | None  # where the suite's process writes results.json; None: nowhere
    screenshot_dir: Path | None  # where it puts screenshots; None: beside results_file, else a temporary folder

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.retries, self.max_retry_wait)

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a report, log or error message."""
        return tuple(s for s in (getattr(self, f) for f in SECRET_FIELDS) if s)

    def to_json(self) -> str:
        return json.dumps({o.field: _jsonable(getattr(self, o.field)) for o in OPTIONS})

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        """The record ``to_json`` wrote, as it was: nothing is parsed or checked again."""
        try:
            doc = json.loads(text)
            values = {o.field: doc[o.field] for o in OPTIONS}
        except (ValueError, TypeError, KeyError) as err:
            raise ConfigError(f"{RUN_CONFIG_ENV} is not a run configuration written by this version "
                              f"of canvas-conformance ({type(err).__name__}: {err})") from None
        for o in OPTIONS:
            if o.decode is not None and values[o.field] is not None:
                values[o.field] = o.decode(values[o.field])
        return cls(**values)


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


# -- the sources, and the one resolution ------------------------------------------------------

class Layer(NamedTuple):
    """One source of raw values: field -> text as given, and how that source names each field."""

    values: Mapping[str, str | None]
    names: Mapping[str, str]


def env_layer(environ: Mapping[str, str]) -> Layer:
    return Layer({o.field: environ.get(o.var) for o in OPTIONS}, {o.field: o.var for o in OPTIONS})


def flags_layer(args: argparse.Namespace) -> Layer:
    """The flags of ``canvas-conformance run`` as given (None: not given), as text."""
    values: dict[str, str | None] = {}
    for o in OPTIONS:
        given = getattr(args, o.field, None) if o.flag else None
        if isinstance(given, list):
            given = ",".join(given)
        elif given is True:  # a switch given on the command line
            given = "yes"
        values[o.field] = given
    return Layer(values, {o.field: o.flag for o in OPTIONS if o.flag})


def resolve(layers: Sequence[Layer]) -> RunConfig:
    """The run's configuration from ``layers``, highest precedence first; ConfigError in one line."""
    values = {}
    for option in OPTIONS:
        values[option.field] = option.default
        for layer in layers:
            text = (layer.values.get(option.field) or "").strip()
            if text:
                try:
                    values[option.field] = option.parse(text, layer.names[option.field])
                except ConfigError as err:
                    raise ConfigError(f"{err}; set with {option.names()}") from None
                break
    if values["profile"] is None:  # not chosen: the profile of the Canvas API the base URL names, if any
        values["profile"] = profile_for(values["base_url"]) or DEFAULT_PROFILE
    if values["client_secret_file"] is not None:
        values["client_secret"] = _secret_from_file(values["client_secret"], values["client_secret_file"])
    if values["base_url"] is None:
        flags = {o.field: o.flag for o in OPTIONS}
        given = [flags[f] for f in CREDENTIAL_FIELDS if values[f]]
        if given:
            raise ConfigError(f"{', '.join(given)} given without --base-url (CANVAS_BASE_URL); the embedded mock "
                              "uses its own credentials")
    return RunConfig(**values)


def _secret_from_file(given: str | None, path: Path) -> str:
    """The client secret in ``path`` (its first line, trimmed); the error lines never quote the file."""
    if given:
        raise ConfigError("the client secret is given twice (--client-secret/CANVAS_CLIENT_SECRET and "
                          "client_secret_file); give one")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the client secret file {path}: "
                          f"{getattr(err, 'strerror', None) or type(err).__name__}") from None
    secret = lines[0].strip() if lines else ""
    if not secret:
        raise ConfigError(f"the client secret file {path} is empty")
    return secret


# -- the config file: the lowest layer ----------------------------------------------------------

FILE_KEYS = {o.field: o for o in OPTIONS if o.flag and o.field != "config_file"}  # what a file may set
PATH_PARSERS = (_path, _absolute_path)  # relative paths in a file are relative to the file's folder


def find_config_file(named: Path | None, cwd: Path) -> tuple[Path, dict] | None:
    """The config file and its table: ``named`` (it must exist), else canvas-conformance.toml in ``cwd``,
    else the [tool.canvas-conformance] table of ``cwd``/pyproject.toml; None when there is none."""
    if named is not None:
        if not named.is_file():
            raise ConfigError(f"the config file {named} does not exist; set with --config or CANVAS_CONFIG")
        doc = _toml(named)
        table = doc.get("tool", {}).get(PYPROJECT_TABLE) if named.name == "pyproject.toml" else doc
        if not isinstance(table, dict):
            raise ConfigError(f"{named} has no [tool.{PYPROJECT_TABLE}] table")
        return named, table
    own = cwd / CONFIG_FILE
    if own.is_file():
        return own, _toml(own)
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        table = _toml(pyproject).get("tool", {}).get(PYPROJECT_TABLE)
        if table is not None:
            if not isinstance(table, dict):
                raise ConfigError(f"{pyproject}: tool.{PYPROJECT_TABLE} must be a table")
            return pyproject, table
    return None


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the config file {path}: "
                          f"{getattr(err, 'strerror', None) or type(err).__name__}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"the config file {path} is not TOML: {err}") from None


def file_layer(path: Path, table: Mapping[str, Any]) -> Layer:
    """A config file's table as a layer: one key per option (its field name), TOML values as text.

    Secrets are refused (a file gets committed, copied and shown around; the secret comes from a
    variable or client_secret_file), and so is any key that is not an option, each in one line
    that names the key and never the value.
    """
    values: dict[str, str | None] = {}
    for key, value in table.items():
        if key in SECRET_FIELDS:
            var = next(o.var for o in OPTIONS if o.field == key)
            hint = "CANVAS_CLIENT_SECRET or client_secret_file" if key == "client_secret" else var
            raise ConfigError(f"{path}: {key} is a secret and is not read from a config file; use {hint}")
        option = FILE_KEYS.get(key)
        if option is None:
            raise ConfigError(f"{path}: unknown key {key!r} (the keys are: {', '.join(sorted(set(FILE_KEYS) - set(SECRET_FIELDS)))})")
        text = _file_text(path, key, value, option)
        if option.parse in PATH_PARSERS and text and not Path(text).expanduser().is_absolute():
            text = str(path.parent / text)
        values[key] = text
    return Layer(values, {field: f"{path.name}: {field}" for field in FILE_KEYS})


def _file_text(path: Path, key: str, value: Any, option: Option) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list) and option.repeat and all(isinstance(v, (str, int)) for v in value):
        return ",".join(str(v) for v in value)
    kind = "a list of ids" if option.repeat else "a string, number or true/false"
    raise ConfigError(f"{path}: {key} must be {kind}")


def _layers_with_file(layers: list[Layer], cwd: Path | None) -> list[Layer]:
    """``layers`` and, last, the config file they name (or the one in ``cwd``), when there is one."""
    named = None
    for layer in layers:
        text = (layer.values.get("config_file") or "").strip()
        if text:
            named = _absolute_path(text, layer.names["config_file"])
            break
    found = find_config_file(named, Path.cwd() if cwd is None else cwd)
    return layers if found is None else [*layers, file_layer(*found)]


def from_command_line(args: argparse.Namespace, environ: Mapping[str, str], cwd: Path | None = None) -> RunConfig:
    """``canvas-conformance run``: its flags over the ``CANVAS_*`` variables over the config file."""
    return resolve(_layers_with_file([flags_layer(args), env_layer(environ)], cwd))


def for_suite(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> RunConfig:
    """The suite's configuration: the runner's record when it handed one, else the ``CANVAS_*`` variables
    over the config file of the working folder (as for the runner)."""
    env = os.environ if environ is None else environ
    handed = env.get(RUN_CONFIG_ENV)
    if handed:
        return RunConfig.from_json(handed)
    return resolve(_layers_with_file([env_layer(env)], cwd))


# -- the grammar and the help, from the table ---------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option with a flag, under its group's heading, its help naming its variable."""
    groups = {name: parser.add_argument_group(name) for name in dict.fromkeys(o.group for o in OPTIONS if o.flag)}
    for o in OPTIONS:
        if not o.flag:
            continue
        flags = [f for f in (o.short, o.flag) if f]
        if o.metavar is None:
            groups[o.group].add_argument(*flags, dest=o.field, action="store_true", default=None,
                                         help=f"{o.help} [env {o.var}=1]")
        elif o.const is not None:
            groups[o.group].add_argument(*flags, dest=o.field, metavar=o.metavar, nargs="?", const=o.const,
                                         help=f"{o.help} [env {o.var}]")
        else:
            var = f"{o.var}, comma-separated" if o.repeat else o.var
            groups[o.group].add_argument(*flags, dest=o.field, metavar=o.metavar,
                                         action="append" if o.repeat else "store", help=f"{o.help} [env {var}]")


def variables_help(width: int = 96) -> str:
    """The variables of the options with a flag, as an indented list wrapped at ``width``."""
    names = [o.var for o in OPTIONS if o.flag]
    lines, line = [], " "
    for n, name in enumerate(names):
        word = name + ("." if n == len(names) - 1 else ",")
        if len(line) + 1 + len(word) > width:
            lines.append(line)
            line = " "
        line += " " + word
    return "\n".join([*lines, line])
