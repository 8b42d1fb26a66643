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

from . import __version__, catalogue, preflight, report_folder, suite_process
from .canvas_hosts import default_token_url
from .config import RunConfig
from .errors import UsageError
from .redact import harvest, redact
from . import progress, selection as listing
from .report.rows import checked, counts
from .report.writer import scrub_file, write_all
from .summary import print_summary


class Target(NamedTuple):
    """What the suite is pointed at: its configuration record, the target filled in, and the secrets to scrub."""

    record: RunConfig  # the run's configuration with the target's URL, credentials and people
    embedded: bool
    secrets: tuple[str, ...]


def execute(cfg: RunConfig) -> int:
    """Run ``cfg``; the exit code. SIGINT and SIGTERM end the run with a report of what ran (exit 130/143)."""
    with suite_process.interruptible():
        return _execute(cfg)


def _execute(cfg: RunConfig) -> int:
    features_dir, steps_dir = cfg.suite / "features", cfg.suite / "steps"
    if cfg.list_only and not features_dir.is_dir():  # an empty listing would read as "nothing to check"
        raise UsageError(f"no suite to list: {features_dir} does not exist")
    planned = listing.planned_scenarios(features_dir) if features_dir.is_dir() else []
    planned = listing.in_profile(planned, cfg.profile)
    compiled = listing.compile_tags(cfg.tags, listing.known_tags(planned, cfg.profile), cfg.profile)
    selected = listing.select(planned, compiled)
    nodeids = None
    if cfg.rerun_failed is not None:
        selected, nodeids = _rerun_selection(cfg.rerun_failed, selected, cfg.profile)
        if not selected:
            print(f"canvas-conformance: nothing to run again: {cfg.rerun_failed} has no failed or error scenario"
                  + (f" selected by --tags {cfg.tags!r}" if cfg.tags else "") + " in this suite", file=sys.stderr)
            return 0
    if cfg.list_only:
        render = listing.render_json if cfg.list_format == "json" else listing.render
        sys.stdout.write(render(selected, expression=cfg.tags, total=len(planned), profile=cfg.profile))
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
            print(f"canvas-conformance {__version__}: {len(selected) or 'all'} scenarios of profile {cfg.profile} "
                  f"against {where}{target.record.base_url}; report in {report_dir}", file=sys.stderr, flush=True)
        results_file = report_dir / "results.json"
        results_file.unlink(missing_ok=True)
        record = dataclasses.replace(target.record, results_file=results_file.resolve(),
                                     screenshot_dir=(report_dir / "screenshots").resolve())
        finished = suite_process.run(record, steps_dir=steps_dir, log_file=report_dir / "pytest.log",
                                     display=display, secrets=target.secrets, nodeids=nodeids)
    finally:
        if stop_mock is not None:
            stop_mock()
    if finished.interrupted is not None:
        return _report_interrupted(cfg, target, report_dir, finished, started, selected)
    return _report(cfg, target, report_dir, finished.rc, started)


def _rerun_selection(report: Path, selected: list, profile: str) -> tuple[list, list[str]]:
    """The scenarios of ``selected`` that failed or errored in ``report``, and their pytest node ids."""
    failed = listing.failed_in_report(report, profile)
    chosen, gone = listing.rerun(selected, failed)
    keys = {(p.feature_file, p.name) for p in chosen}
    if gone:
        print(f"canvas-conformance: --rerun-failed: {len(gone)} failed scenario(s) of {report} are not among this "
              f"suite's selected scenarios: {', '.join(f.name for f in gone[:3])}"
              + (" ..." if len(gone) > 3 else ""), file=sys.stderr)
    return chosen, [f.nodeid for f in failed if (f.feature_file, f.name) in keys]


def _remote_credentials(cfg: RunConfig) -> preflight.Credentials | None:
    """The remote target's credentials, once writing there is allowed and they are complete."""
    if cfg.base_url is None:
        return None
    preflight.check_writes_allowed(cfg.base_url, allow_writes=cfg.allow_writes)
    preflight.check_profile_fits(cfg.base_url, cfg.profile)
    creds = preflight.Credentials(cfg.base_url, cfg.token_url or default_token_url(cfg.base_url),
                                  cfg.client_id, cfg.client_secret, cfg.token, cfg.timeout, cfg.retry,
                                  cfg.max_answer_bytes)
    preflight.check_credentials_given(creds)
    return creds


def _target(cfg: RunConfig, creds: preflight.Credentials | None) -> tuple[Target, Callable[[], None] | None]:
    """The probed remote target, or a freshly started embedded mock (and how to stop it)."""
    if creds is None:
        from . import embedded  # the one import of the mock, only when it is needed

        mock = embedded.start(profile=cfg.profile)
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


def _report_interrupted(cfg: RunConfig, target: Target, report_dir: Path, finished: suite_process.Finished,
                        started: datetime, selected: list) -> int:
    """The report of what ran before SIGINT/SIGTERM, marked interrupted; the signal's exit code.

    The suite writes results.json when it stops on the signal; if it had to be killed there is
    none, and the report says that no scenario finished.
    """
    signalled = finished.interrupted
    results: dict = {}
    try:
        results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    ran = results.get("scenarios") or []
    done = {(s.get("feature_file"), s.get("name")) for s in ran if s.get("status")}
    not_run = [p for p in selected if (p.feature_file, p.name) not in done]
    results["interrupted"] = {
        "signal": signalled.name,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scenarios_not_run": len(not_run),
        "rules_not_run": sorted({t for p in not_run for t in p.tags} & {r.id for r in catalogue.rules(cfg.profile)}),
    }
    results.setdefault("scenarios", ran)
    _finish_report(cfg, target, report_dir, results, started)
    print(f"canvas-conformance: interrupted by {signalled.name}: {len(done)} scenario(s) ran, "
          f"{len(not_run)} not run; the report shows what ran", file=sys.stderr, flush=True)
    return signalled.code


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
    written = _finish_report(cfg, target, report_dir, results, started, from_file=True)
    nothing_checked(written.run, report_dir)
    return 1 if written.failing else 0


def _finish_report(cfg: RunConfig, target: Target, report_dir: Path, results: dict, started: datetime, *,
                   from_file: bool = False):
    """Scrub the suite's files, write the report files, point reports/latest, print the summary.
    ``from_file``: ``results`` is results.json as read, so what it holds is searched for credentials once."""
    results_file = report_dir / "results.json"
    log_file = report_dir / "pytest.log"
    # tokens the suite obtained are in its exchanges: scrub them from its log and raw results too
    secrets = (*target.secrets, *harvest(results))
    scrub_file(results_file, secrets, harvested=from_file)
    scrub_file(log_file, secrets)
    base_url = target.record.base_url
    results.setdefault("started", started.isoformat(timespec="seconds"))
    results.setdefault("finished", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    results.setdefault("selection", cfg.tags)  # rules outside a tag selection are "not selected", even under --strict
    results.setdefault("target", {})
    results["target"].setdefault("base_url", base_url)
    results["target"]["embedded_mock"] = target.embedded
    written = write_all(results, report_dir, secrets=secrets, strict=cfg.strict, harvested=True)
    if cfg.report_dir is None:
        report_folder.point_latest(report_dir)
    print_summary(written, report_dir, base_url=base_url, embedded=target.embedded)
    return written


def nothing_checked(run, report_dir: Path) -> None:
    """A run in which no scenario reached a verdict (none passed, none failed: every one error, manual
    or skipped, so no rule was checked by machine) did not really run: exit 2 with one line, the report
    kept for the reasons."""
    if checked(run):
        return
    tally = counts(s.status for s in run.scenarios)
    shown = ", ".join(f"{n} {status}" for status, n in tally.items() if status != "total" and n)
    raise UsageError(f"no rule could be checked against {run.target.get('base_url')}: no scenario passed or "
                     f"failed ({shown or 'none ran'}); see {report_dir / 'report.html'}")
