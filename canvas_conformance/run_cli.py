"""``canvas-conformance run``: the conformance suite against a target, and the report folder.

The order of things is the point of this module: configuration is checked, the tag
selection is checked, writing to the target is allowed (loopback, or --allow-writes),
the target and its token endpoint answer, and only then does the suite run. Anything
that stops the run before it starts is one line on stderr and exit code 2.

Why the suite runs in a child process (``python -m pytest``) rather than
``pytest.main`` in this one: the suite then runs exactly as a plain ``pytest steps``
does in CI (the same interpreter state, configuration and plugins), nothing it
imports or leaves behind leaks into the runner or into the next run, a crash or a
hang in it cannot take the runner (or the embedded mock it serves) down, and the
embedded mock is a genuinely separate peer reached only over HTTP. The price is
about a third of a second to start the child (measured in bench/suite_walltime.py).
Live progress comes back over a pipe from a small plugin (report/progress.py).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from . import __version__, catalogue, preflight, retry
from .errors import UsageError
from .redact import harvest, redact
from . import progress, selection as listing
from .report.rows import summary
from .report.writer import REPORT_FILES, scrub_file, write_all, write_text

ROOT = Path(__file__).resolve().parent.parent  # where features/ and steps/ live in a checkout
RESULTS_PLUGIN = "canvas_conformance.results_plugin"
PROGRESS_PLUGIN = "canvas_conformance.progress"
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")

EPILOG = """\
Every option can also be given as an environment variable (the option wins):
  CANVAS_BASE_URL, CANVAS_TOKEN_URL, CANVAS_CLIENT_ID, CANVAS_CLIENT_SECRET, CANVAS_TOKEN,
  CANVAS_PATIENTS and CANVAS_PRACTITIONERS (comma-separated ids), CANVAS_REPORT_DIR, CANVAS_TAGS,
  CANVAS_TIMEOUT, CANVAS_RETRIES, CANVAS_MAX_RETRY_WAIT, CANVAS_STRICT, CANVAS_ALLOW_WRITES, CANVAS_LIST, CANVAS_QUIET (1/0, true/false),
  CANVAS_SUITE.
Prefer the environment for secrets: command lines are visible to other users of the machine.

A 429 or 503 answer is sent again after the wait its Retry-After asks (at most --max-retry-wait
seconds; a longer wait is not honoured and the scenario is an error), up to --retries times.
A timeout or a dropped connection is never sent again: the scenario is an error.

Exit codes: 0 no rule failed or errored (with --strict: and none was manual or skipped);
1 some rule failed or errored; 2 the run could not start (bad configuration, unreachable
target, refused credentials), said in one line on stderr.
Report files: conformance.json, report.html, junit.xml, cucumber.json, testreport.json
(plus results.json, the suite's raw results, and pytest.log)."""


class RunConfig(NamedTuple):
    base_url: str | None  # None: the embedded mock
    token_url: str | None
    client_id: str | None
    client_secret: str | None
    token: str | None
    patients: tuple[str, ...]
    practitioners: tuple[str, ...]
    report_dir: Path | None  # None: reports/<UTC timestamp>/ with reports/latest
    tags: str | None
    timeout: float
    retries: int  # times a 429/503 is sent again
    max_retry_wait: float  # longest Retry-After honoured, seconds
    strict: bool
    allow_writes: bool
    list_only: bool
    quiet: bool
    suite: Path  # folder holding features/ and steps/

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.client_secret, self.token) if s)


def _env(text: str, var: str) -> str:
    return f"{text} [env {var}]"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run", help="run the conformance suite and write a report",
        description="Check a Canvas-like FHIR endpoint (or, without --base-url, the embedded reference mock) "
                    "against every rule of the catalogue, and write a report folder.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = p.add_argument_group("target")
    target.add_argument("--base-url", metavar="URL", help=_env(
        "FHIR base URL of the target, e.g. https://fumage-example.canvasmedical.com "
        "(absent: start the embedded mock on a free loopback port for this run)", "CANVAS_BASE_URL"))
    target.add_argument("--token-url", metavar="URL", help=_env(
        "OAuth 2.0 token endpoint (default <base-url>/auth/token/)", "CANVAS_TOKEN_URL"))
    target.add_argument("--client-id", metavar="ID", help=_env(
        "OAuth client id (client-credentials grant)", "CANVAS_CLIENT_ID"))
    target.add_argument("--client-secret", metavar="SECRET", help=_env(
        "OAuth client secret (prefer the variable: command lines are visible)", "CANVAS_CLIENT_SECRET"))
    target.add_argument("--token", metavar="TOKEN", help=_env(
        "a ready bearer token instead of client credentials", "CANVAS_TOKEN"))
    target.add_argument("--patient", metavar="ID", action="append", help=_env(
        "id of a Patient that exists on the target (repeat; some rules need two)", "CANVAS_PATIENTS, comma-separated"))
    target.add_argument("--practitioner", metavar="ID", action="append", help=_env(
        "id of a Practitioner that exists on the target (repeat; some rules need two)",
        "CANVAS_PRACTITIONERS, comma-separated"))
    target.add_argument("--timeout", metavar="SECONDS", help=_env(
        "seconds to wait for each answer, body included (default 10)", "CANVAS_TIMEOUT"))
    target.add_argument("--retries", metavar="N", help=_env(
        f"times a request answered 429 or 503 is sent again (default {retry.DEFAULT_RETRIES}, 0 for never); "
        "a timeout or a dropped connection is never sent again", retry.RETRIES_ENV))
    target.add_argument("--max-retry-wait", metavar="SECONDS", help=_env(
        f"longest Retry-After wait honoured before sending again (default {retry.DEFAULT_MAX_WAIT:g}); "
        "a target asking for longer gets no retry and the scenario is an error", retry.MAX_WAIT_ENV))
    target.add_argument("--allow-writes", action="store_true", default=None, help=_env(
        "allow a target that is not on loopback: the suite creates messages there, which land in "
        "patients' charts", "CANVAS_ALLOW_WRITES=1"))
    run = p.add_argument_group("run")
    run.add_argument("--report-dir", metavar="DIR", help=_env(
        "where to write the report (default reports/<UTC timestamp>/, with reports/latest pointing at it)",
        "CANVAS_REPORT_DIR"))
    run.add_argument("--tags", metavar="EXPR", help=_env(
        "select scenarios with a pytest -m expression over rule IDs, kinds and surfaces, "
        "e.g. 'SENT-2 or SENT-3', 'documented and api', 'not ui'", "CANVAS_TAGS"))
    run.add_argument("--strict", action="store_true", default=None, help=_env(
        "manual and skipped rules fail the run too (exit 1)", "CANVAS_STRICT=1"))
    run.add_argument("--list", dest="list_only", action="store_true", default=None, help=_env(
        "print the rules and the scenarios that would run, send nothing", "CANVAS_LIST=1"))
    run.add_argument("-q", "--quiet", action="store_true", default=None, help=_env(
        "no progress lines while running", "CANVAS_QUIET=1"))
    run.add_argument("--suite", metavar="DIR", help=_env(
        "folder holding features/ and steps/ to run (default: the suite shipped with this tool)", "CANVAS_SUITE"))
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    try:
        return execute(resolve(args, os.environ))
    except (UsageError, preflight.Refusal, listing.SelectionError) as err:
        raise UsageError(_USERINFO.sub("//[REDACTED]@", str(err))) from None


_USERINFO = re.compile(r"//[^/@\s]+@")  # user:password@ in a URL quoted in an error line


# -- configuration --------------------------------------------------------------------------

def resolve(args: argparse.Namespace, env) -> RunConfig:
    """Flags over CANVAS_* variables, checked; UsageError names the flag (and its variable)."""
    def pick(flag_value, var):
        if flag_value is not None:
            return flag_value.strip() if isinstance(flag_value, str) else flag_value
        return (env.get(var) or "").strip() or None

    def flag(flag_value, var, name):
        if flag_value:
            return True
        raw = (env.get(var) or "").strip().lower()
        if raw in TRUE:
            return True
        if raw in FALSE:
            return False
        raise UsageError(f"{var}={env.get(var)!r} is not a yes/no value (use 1 or 0) for {name}")

    base_url = pick(args.base_url, "CANVAS_BASE_URL")
    base_url = base_url.rstrip("/") if base_url else None
    token_url = pick(args.token_url, "CANVAS_TOKEN_URL")
    for name, url in (("--base-url", base_url), ("--token-url", token_url)):
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UsageError(f"{name} {url!r} is not an http(s) URL")
    raw_timeout = pick(args.timeout, "CANVAS_TIMEOUT") or "10"
    try:
        timeout = float(raw_timeout)
    except ValueError:
        raise UsageError(f"--timeout {raw_timeout!r} is not a number of seconds") from None
    if not 0 < timeout <= 600:
        raise UsageError(f"--timeout {raw_timeout} must be more than 0 and at most 600 seconds")
    try:
        retries = retry.parse_retries(pick(args.retries, retry.RETRIES_ENV),
                                      "--retries" if args.retries is not None else retry.RETRIES_ENV)
        max_retry_wait = retry.parse_max_wait(pick(args.max_retry_wait, retry.MAX_WAIT_ENV),
                                              "--max-retry-wait" if args.max_retry_wait is not None
                                              else retry.MAX_WAIT_ENV)
    except ValueError as err:
        raise UsageError(str(err)) from None
    report_dir = pick(args.report_dir, "CANVAS_REPORT_DIR")
    suite = Path(pick(args.suite, "CANVAS_SUITE") or ROOT).expanduser().resolve()
    cfg = RunConfig(
        base_url=base_url,
        token_url=token_url,
        client_id=pick(args.client_id, "CANVAS_CLIENT_ID"),
        client_secret=pick(args.client_secret, "CANVAS_CLIENT_SECRET"),
        token=pick(args.token, "CANVAS_TOKEN"),
        patients=_ids(args.patient, env.get("CANVAS_PATIENTS")),
        practitioners=_ids(args.practitioner, env.get("CANVAS_PRACTITIONERS")),
        report_dir=Path(report_dir).expanduser() if report_dir else None,
        tags=pick(args.tags, "CANVAS_TAGS"),
        timeout=timeout,
        retries=retries,
        max_retry_wait=max_retry_wait,
        strict=flag(args.strict, "CANVAS_STRICT", "--strict"),
        allow_writes=flag(args.allow_writes, "CANVAS_ALLOW_WRITES", "--allow-writes"),
        list_only=flag(args.list_only, "CANVAS_LIST", "--list"),
        quiet=flag(args.quiet, "CANVAS_QUIET", "--quiet"),
        suite=suite,
    )
    if cfg.base_url is None:
        given = [name for name, value in (("--token-url", cfg.token_url), ("--client-id", cfg.client_id),
                                          ("--client-secret", cfg.client_secret), ("--token", cfg.token)) if value]
        if given:
            raise UsageError(f"{', '.join(given)} given without --base-url (CANVAS_BASE_URL); the embedded mock "
                             "uses its own credentials")
    return cfg


def _ids(flags: list[str] | None, raw_env: str | None) -> tuple[str, ...]:
    values = flags if flags else (raw_env or "").split(",")
    out = []
    for value in values:
        for part in value.split(","):
            if part.strip() and part.strip() not in out:
                out.append(part.strip())
    return tuple(out)


# -- the run ----------------------------------------------------------------------------

class Target(NamedTuple):
    base_url: str
    token_url: str
    client_id: str | None
    client_secret: str | None
    token: str | None
    patients: tuple[str, ...]
    practitioners: tuple[str, ...]
    embedded: bool
    secrets: tuple[str, ...]


def execute(cfg: RunConfig) -> int:
    features_dir, steps_dir = cfg.suite / "features", cfg.suite / "steps"
    planned = listing.planned_scenarios(features_dir) if features_dir.is_dir() else []
    compiled = listing.compile_tags(cfg.tags, listing.known_tags(planned))
    selected = listing.select(planned, compiled)
    if cfg.list_only:
        sys.stdout.write(listing.render(selected, expression=cfg.tags, total=len(planned)))
        return 0
    creds = _remote_credentials(cfg)  # configuration and safety first: nothing is sent before they pass
    if not steps_dir.is_dir():
        raise UsageError(f"no suite to run: {steps_dir} does not exist")
    if planned and not selected:
        raise UsageError(f"--tags {cfg.tags!r} selects no scenario (see --list)")

    stop_mock = None
    try:
        target, stop_mock = _target(cfg, creds)
        report_dir = _report_dir(cfg.report_dir)
        started = datetime.now(timezone.utc)
        display = progress.Display(sys.stderr, quiet=cfg.quiet)
        if not cfg.quiet:
            where = "the embedded mock at " if target.embedded else ""
            print(f"canvas-conformance {__version__}: {len(selected) or 'all'} scenarios against {where}"
                  f"{target.base_url}; report in {report_dir}", file=sys.stderr, flush=True)
        rc = _run_suite(cfg, target, steps_dir, report_dir, display)
    finally:
        if stop_mock is not None:
            stop_mock()
    return _report(cfg, target, report_dir, rc, started)


def _remote_credentials(cfg: RunConfig) -> preflight.Credentials | None:
    """The remote target's credentials, once writing there is allowed and they are complete."""
    if cfg.base_url is None:
        return None
    preflight.check_writes_allowed(cfg.base_url, allow_writes=cfg.allow_writes)
    creds = preflight.Credentials(cfg.base_url, cfg.token_url or f"{cfg.base_url}/auth/token/",
                                  cfg.client_id, cfg.client_secret, cfg.token, cfg.timeout,
                                  retry.RetryPolicy(cfg.retries, cfg.max_retry_wait))
    preflight.check_credentials_given(creds)
    return creds


def _target(cfg: RunConfig, creds: preflight.Credentials | None) -> tuple[Target, object]:
    """The probed remote target, or a freshly started embedded mock (and how to stop it)."""
    if creds is None:
        from . import embedded  # the one import of the mock, only when it is needed

        mock = embedded.start()
        return Target(mock.base_url, f"{mock.base_url}/auth/token/", mock.client_id, mock.client_secret, None,
                      cfg.patients or mock.patients, cfg.practitioners or mock.practitioners, True,
                      (mock.client_secret,)), mock.stop
    try:
        probe_token = preflight.probe(creds)
    except preflight.Refusal as err:
        raise preflight.Refusal(redact(str(err), cfg.secrets())) from None
    secrets = tuple(s for s in (*cfg.secrets(), probe_token) if s)
    return Target(cfg.base_url, creds.token_url, cfg.client_id, cfg.client_secret, cfg.token,
                  cfg.patients, cfg.practitioners, False, secrets), None


def _report_dir(given: Path | None) -> Path:
    if given is not None:
        try:
            given.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"cannot create the report folder {given}: {err.strerror or err}") from None
        return given
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = Path("reports")
    for n in range(1, 100):
        candidate = base / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
        except OSError as err:
            raise UsageError(f"cannot create the report folder {candidate}: {err.strerror or err}") from None
    raise UsageError(f"cannot find a free report folder name under {base}")


def _child_env(cfg: RunConfig, target: Target, report_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    values = {
        "CANVAS_BASE_URL": target.base_url,
        "CANVAS_TOKEN_URL": target.token_url,
        "CANVAS_CLIENT_ID": target.client_id,
        "CANVAS_CLIENT_SECRET": target.client_secret,
        "CANVAS_TOKEN": target.token,
        "CANVAS_PATIENTS": ",".join(target.patients),
        "CANVAS_PRACTITIONERS": ",".join(target.practitioners),
        "CANVAS_TIMEOUT": f"{cfg.timeout:g}",
        retry.RETRIES_ENV: str(cfg.retries),
        retry.MAX_WAIT_ENV: f"{cfg.max_retry_wait:g}",
        "CANVAS_ALLOW_WRITES": "1" if cfg.allow_writes else "0",
        "CANVAS_RESULTS_FILE": str((report_dir / "results.json").resolve()),
        "CANVAS_SCREENSHOT_DIR": str((report_dir / "screenshots").resolve()),
    }
    for name, value in values.items():
        if value:
            env[name] = value
        else:
            env.pop(name, None)
    # Only the plugins the suite needs (pytest-bdd, named on the command line, and what steps/conftest.py
    # declares): other installed plugins (hypothesis, schemathesis...) cost over a second to import
    # at every start (bench/RESULTS-suite.md) and have no business in a conformance run.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    package_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


def _run_suite(cfg: RunConfig, target: Target, steps_dir: Path, report_dir: Path, display) -> int:
    """Run pytest on the steps in a child process; feed its progress events to ``display``."""
    (report_dir / "results.json").unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", str(steps_dir), "-p", "pytest_bdd.plugin", "-p", RESULTS_PLUGIN,
               "-p", PROGRESS_PLUGIN, "-p", "no:cacheprovider", "-q", "--color=no"]
    if cfg.tags:
        command += ["-m", cfg.tags]
    env = _child_env(cfg, target, report_dir)
    read_fd, write_fd = os.pipe()
    env[progress.FD_ENV] = str(write_fd)
    log = tempfile.TemporaryFile(mode="w+b")
    try:
        child = subprocess.Popen(command, cwd=cfg.suite, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, pass_fds=(write_fd,))
    except OSError as err:
        os.close(read_fd)
        raise UsageError(f"cannot start the suite ({sys.executable} -m pytest): {err.strerror or err}") from None
    finally:
        os.close(write_fd)
    try:
        with os.fdopen(read_fd, "r", encoding="utf-8", errors="replace") as events:
            for line in events:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                # the suite scrubs its own tokens from what it reports; these are the runner's
                display.feed(redact(event, target.secrets))
        rc = child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        raise
    finally:
        display.close()
        log.seek(0)
        text = log.read().decode("utf-8", errors="replace")
        log.close()
        write_text(report_dir / "pytest.log", text, target.secrets)
    return rc


def _report(cfg: RunConfig, target: Target, report_dir: Path, rc: int, started: datetime) -> int:
    results_file = report_dir / "results.json"
    log_hint = f"see {report_dir / 'pytest.log'}"
    if rc < 0:
        raise UsageError(f"the suite process was killed by signal {-rc}; {log_hint}")
    if rc == 5:
        raise UsageError(f"the suite collected no scenario{' for --tags ' + repr(cfg.tags) if cfg.tags else ''}; "
                         f"{log_hint}")
    if rc not in (0, 1):
        raise UsageError(f"the suite could not run (pytest exit {rc}: {_first_problem(report_dir)}); {log_hint}")
    if not results_file.is_file():
        raise UsageError(f"the suite wrote no results.json (is {RESULTS_PLUGIN} installed?); {log_hint}")
    try:
        results = json.loads(results_file.read_text(encoding="utf-8"))
    except ValueError as err:
        raise UsageError(f"the suite's results.json is not JSON ({err.msg}); {log_hint}") from None
    # tokens the suite obtained are in its exchanges: scrub them from its log and raw results too
    secrets = (*target.secrets, *harvest(results))
    scrub_file(results_file, secrets)
    scrub_file(report_dir / "pytest.log", secrets)
    results.setdefault("started", started.isoformat(timespec="seconds"))
    results.setdefault("finished", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    results.setdefault("target", {})
    results["target"].setdefault("base_url", target.base_url)
    results["target"]["embedded_mock"] = target.embedded
    written = write_all(results, report_dir, secrets=secrets, strict=cfg.strict)
    if cfg.report_dir is None:
        _point_latest(report_dir)
    _print_summary(written, report_dir, target)
    return 1 if written.failing else 0


def _first_problem(report_dir: Path) -> str:
    """The most telling line of the pytest log, for the one-line error."""
    try:
        lines = [ln.strip() for ln in (report_dir / "pytest.log").read_text(encoding="utf-8").splitlines()]
    except OSError:
        return "no output"
    for prefix in ("E   ", "ERROR", "ImportError", "ModuleNotFoundError"):
        for ln in lines:
            if ln.startswith(prefix):
                return ln.removeprefix("E").strip()[:160]
    lines = [ln for ln in lines if ln]
    return lines[-1][:160] if lines else "no output"


def _point_latest(report_dir: Path) -> None:
    """reports/latest -> the newest report folder (relative, so the tree can move)."""
    latest = report_dir.parent / "latest"
    tmp = report_dir.parent / f".latest.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(report_dir.name, tmp, target_is_directory=True)
        os.replace(tmp, latest)
    except OSError:
        tmp.unlink(missing_ok=True)


def _print_summary(written, report_dir: Path, target: Target) -> None:
    s = summary(written.run)
    where = "embedded mock at " if target.embedded else ""
    out = [f"canvas-conformance {__version__}: {len(catalogue.rules())} rules against {where}{target.base_url}"]
    for kind in ("documented", "inferred"):
        c = s[kind]
        out.append(f"  {kind + ':':<11} {c['passed']} passed, {c['failed']} failed, {c['error']} error, "
                   f"{c['manual']} manual, {c['skipped']} skipped")
    if written.failing:
        out.append(f"  failing:    {', '.join(written.failing)}")
    out.append(f"report: {report_dir / 'report.html'} (and {', '.join(n for n in REPORT_FILES if n != 'report.html')})")
    print("\n".join(out), flush=True)
