"""One run, in order: the selection, pre-flight, the target, the suite's process, the report.

The order is the point: the tag selection is checked, writing to the target is allowed
(loopback, or --allow-writes), the target and its token endpoint answer, and only then
does the suite run. Anything that stops the run before it starts is a ``UsageError`` (one
line on stderr, exit code 2). The embedded mock is imported and started only for a run
without a base URL.
"""
from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, NamedTuple

from . import __version__, preflight, report_folder, suite_process
from .config import RunConfig
from .errors import UsageError
from .redact import harvest, redact
from . import progress, selection as listing
from .report.writer import scrub_file, write_all
from .summary import print_summary


class Target(NamedTuple):
    """What the suite is pointed at: its configuration record, the target filled in, and the secrets to scrub."""

    record: RunConfig  # the run's configuration with the target's URL, credentials and people
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
        report_dir = report_folder.make(cfg.report_dir)
        started = datetime.now(timezone.utc)
        display = progress.Display(sys.stderr, quiet=cfg.quiet)
        if not cfg.quiet:
            where = "the embedded mock at " if target.embedded else ""
            print(f"canvas-conformance {__version__}: {len(selected) or 'all'} scenarios against {where}"
                  f"{target.record.base_url}; report in {report_dir}", file=sys.stderr, flush=True)
        results_file = report_dir / "results.json"
        results_file.unlink(missing_ok=True)
        record = dataclasses.replace(target.record, results_file=results_file.resolve(),
                                     screenshot_dir=(report_dir / "screenshots").resolve())
        rc = suite_process.run(record, steps_dir=steps_dir, log_file=report_dir / "pytest.log", display=display,
                               secrets=target.secrets)
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
                                  cfg.client_id, cfg.client_secret, cfg.token, cfg.timeout, cfg.retry,
                                  cfg.max_answer_bytes)
    preflight.check_credentials_given(creds)
    return creds


def _target(cfg: RunConfig, creds: preflight.Credentials | None) -> tuple[Target, Callable[[], None] | None]:
    """The probed remote target, or a freshly started embedded mock (and how to stop it)."""
    if creds is None:
        from . import embedded  # the one import of the mock, only when it is needed

        mock = embedded.start()
        record = dataclasses.replace(
            cfg, base_url=mock.base_url, token_url=f"{mock.base_url}/auth/token/", client_id=mock.client_id,
            client_secret=mock.client_secret, token=None, patients=cfg.patients or mock.patients,
            practitioners=cfg.practitioners or mock.practitioners)
        return Target(record, True, (mock.client_secret,)), mock.stop
    try:
        probe_token = preflight.probe(creds)
    except preflight.Refusal as err:
        raise preflight.Refusal(redact(str(err), cfg.secrets())) from None
    secrets = tuple(s for s in (*cfg.secrets(), probe_token) if s)
    return Target(dataclasses.replace(cfg, token_url=creds.token_url), False, secrets), None


def _report(cfg: RunConfig, target: Target, report_dir: Path, rc: int, started: datetime) -> int:
    results_file = report_dir / "results.json"
    log_file = report_dir / "pytest.log"
    log_hint = f"see {log_file}"
    if rc < 0:
        raise UsageError(f"the suite process was killed by signal {-rc}; {log_hint}")
    if rc == 5:
        raise UsageError(f"the suite collected no scenario{' for --tags ' + repr(cfg.tags) if cfg.tags else ''}; "
                         f"{log_hint}")
    if rc not in (0, 1):
        raise UsageError(f"the suite could not run (pytest exit {rc}: {suite_process.first_problem(log_file)}); "
                         f"{log_hint}")
    if not results_file.is_file():
        raise UsageError(f"the suite wrote no results.json (is {suite_process.RESULTS_PLUGIN} installed?); "
                         f"{log_hint}")
    try:
        results = json.loads(results_file.read_text(encoding="utf-8"))
    except ValueError as err:
        raise UsageError(f"the suite's results.json is not JSON ({err.msg}); {log_hint}") from None
    # tokens the suite obtained are in its exchanges: scrub them from its log and raw results too
    secrets = (*target.secrets, *harvest(results))
    scrub_file(results_file, secrets)
    scrub_file(log_file, secrets)
    base_url = target.record.base_url
    results.setdefault("started", started.isoformat(timespec="seconds"))
    results.setdefault("finished", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    results.setdefault("target", {})
    results["target"].setdefault("base_url", base_url)
    results["target"]["embedded_mock"] = target.embedded
    written = write_all(results, report_dir, secrets=secrets, strict=cfg.strict)
    if cfg.report_dir is None:
        report_folder.point_latest(report_dir)
    print_summary(written, report_dir, base_url=base_url, embedded=target.embedded)
    return 1 if written.failing else 0
