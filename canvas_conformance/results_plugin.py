"""A pytest plugin that writes the run's raw results (results.json) for the report builders.

Load it with ``-p canvas_conformance.results_plugin``; it writes to the run configuration's
results file (``config.for_suite``: the runner's record, or ``CANVAS_RESULTS_FILE`` without the
runner), nothing when that is unset. One row per scenario, with its steps, its verdict, and the
evidence the suite gathered: every HTTP exchange, notes, attachments. The rows' shape,
the verdicts and the names of outline rows are the results contract's (``results``).
Everything written is redacted of the run's secrets first.

With workers (``workers``: forked copies of the process that collected the suite) each worker
makes its rows as above and sends each, redacted of its own tokens, to the controller on the
scenario's teardown report; the controller alone writes the file, its rows in collection order
(feature file order, then scenario order), so the file is the same at any number of workers and
never in the order scenarios happened to finish.

Under faults the rule is the same: a timeout, a dropped connection, a ``429``/``503`` that
outlasted the retries (``ExchangeError`` and its ``TargetUnavailable``) are ``error``, because
the target never answered the rule's question; an answer the target did give, a ``500`` to
bad input included, goes to the checks and is ``failed`` when it breaks the rule.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from . import __version__, catalogue, jsontext, results, workers
from .client import Evidence
from .redact import RedactingStream, redact
from .config import ROOT, ConfigError, RunConfig, for_suite

EVIDENCE_KEY = pytest.StashKey[Evidence]()  # item -> what the scenario gathered (set by the suite)
TARGET_KEY = pytest.StashKey[Any]()  # config -> the target: .describe() -> dict, .secrets() -> tuple
_RECORD_KEY = pytest.StashKey[dict]()  # item -> its row in results.json
_STEP_STARTED_KEY = pytest.StashKey[float]()
_RUN_KEY = pytest.StashKey[dict]()  # config -> {"started": ..., "rows": [...]}
_ORDER_KEY = pytest.StashKey[list]()  # config (controller) -> the node ids in collection order
_SECRETS_KEY = pytest.StashKey[set]()  # config (controller) -> the tokens the workers were granted
_PROFILE_KEY = pytest.StashKey[str]()  # config -> the run's profile
TAG_ORDER = ("documented", "inferred", "api", "ui")
ROW_ATTR, TARGET_ATTR, SECRETS_ATTR = "canvas_row", "canvas_target", "canvas_secrets"  # on teardown reports


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RUN_KEY] = {"started": _now(), "rows": []}
    config.stash[_SECRETS_KEY] = set()
    if workers.is_controller(config):
        config.pluginmanager.register(Controller(config), "canvas-conformance-results-controller")


@pytest.hookimpl(trylast=True)  # after the terminal plugin has made its writer
def pytest_sessionstart(session: pytest.Session) -> None:
    """pytest's own output (tracebacks with a check's message, captured output) masks the run's secrets.

    A target that echoes the bearer token puts it in the answers a failed check quotes. The
    runner scrubs pytest.log afterwards, but only of secrets it knows; the tokens this
    process was granted it never sees unredacted. So they are masked here, as written.
    """
    config = session.config
    try:
        given = for_suite().secrets()
    except ConfigError:
        given = ()

    def secrets() -> tuple[str, ...]:
        return (*given, *_target_secrets(config), *config.stash.get(_SECRETS_KEY, ()))

    try:
        writer = config.get_terminal_writer()
        writer._file = RedactingStream(writer._file, secrets)
    except (AttributeError, AssertionError):  # no terminal (e.g. -p no:terminal): nothing printed to mask
        pass


def _target_secrets(config: pytest.Config) -> tuple[str, ...]:
    """What the suite's target knows at this moment: the secret, the given and the granted tokens."""
    target = config.stash.get(TARGET_KEY, None)
    return target.secrets() if target is not None else ()


# -- the row of a scenario ----------------------------------------------------------------
def _template(item: pytest.Item):
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function = getattr(item, "obj", None)
    return scenario_wrapper_template_registry.get(function) if function is not None else None


def _record(item: pytest.Item) -> dict | None:
    """The item's row, made when first needed (None for tests that are not scenarios)."""
    if _RECORD_KEY in item.stash:
        return item.stash[_RECORD_KEY]
    template = _template(item)
    if template is None:
        return None
    example = getattr(item, "callspec", None)
    example = example.params.get("_pytest_bdd_example", {}) if example is not None else {}
    rule_tags = set() if template.rule is None else template.rule.tags
    tags = _ordered(catalogue.kind_tags(template.tags | template.feature.tags | rule_tags, _profile(item.config)))
    row = results.as_json(results.Scenario(
        nodeid=item.nodeid,
        feature_file=Path(os.path.relpath(template.feature.filename, item.config.rootpath)).as_posix(),
        feature=template.feature.name,
        name=results.scenario_name(template, example),
        rules=tuple(t for t in tags if t in _rule_ids()),
        tags=tuple(tags),
        steps=tuple(_step(step) for step in template.render(example).steps),
    ))
    item.stash[_RECORD_KEY] = row
    item.config.stash[_RUN_KEY]["rows"].append(row)
    return row


def _rule_ids() -> tuple[str, ...]:
    return catalogue.all_rule_ids()


def _profile(config: pytest.Config) -> str:
    """The run's profile (the suite's configuration), which gives each rule its kind."""
    if _PROFILE_KEY not in config.stash:
        try:
            config.stash[_PROFILE_KEY] = for_suite().profile
        except ConfigError:
            config.stash[_PROFILE_KEY] = catalogue.DEFAULT_PROFILE
    return config.stash[_PROFILE_KEY]


def _ordered(tags: set[str]) -> list[str]:
    rules = [r for r in _rule_ids() if r in tags]
    known = [t for t in TAG_ORDER if t in tags]
    return rules + known + sorted(tags - set(rules) - set(known))


def _step(step) -> results.Step:
    return results.Step(keyword=step.keyword, text=step.name)


# -- pytest-bdd hooks: step by step -------------------------------------------------------
def pytest_bdd_before_scenario(request, feature, scenario) -> None:
    row = _record(request.node)
    if row is not None:  # the scenario as it runs (outline rows rendered)
        row["steps"] = [_step(step)._asdict() for step in scenario.steps]


def pytest_bdd_before_step(request, feature, scenario, step, step_func) -> None:
    request.node.stash[_STEP_STARTED_KEY] = time.perf_counter()


def _step_done(request, scenario, step, status: str) -> None:
    row = _record(request.node)
    if row is None:
        return
    index = next((n for n, s in enumerate(scenario.steps) if s is step), None)
    if index is None or index >= len(row["steps"]):
        return
    started = request.node.stash.get(_STEP_STARTED_KEY, None)
    row["steps"][index]["status"] = status
    if started is not None:
        row["steps"][index]["duration_s"] = round(time.perf_counter() - started, 6)


def pytest_bdd_after_step(request, feature, scenario, step, step_func, step_func_args) -> None:
    _step_done(request, scenario, step, "passed")


def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args, exception) -> None:
    row = _record(request.node)
    _step_done(request, scenario, step, results.failure_status(exception, rules=row["rules"] if row else None))


def pytest_bdd_step_func_lookup_error(request, feature, scenario, step, exception) -> None:
    request.node.stash[_STEP_STARTED_KEY] = time.perf_counter()
    _step_done(request, scenario, step, "error")


# -- verdicts -------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    row = _record(item)
    if row is None:
        return report
    row["duration_s"] = round(row["duration_s"] + report.duration, 6)
    exception = call.excinfo.value if call.excinfo is not None else None
    if exception is not None:
        _scrub_in_flight(item, exception)
    if report.when == "call" and report.passed:
        row["status"] = "passed"
    elif report.skipped and row["status"] is None:
        reason = results.skip_reason(report, exception)
        row["status"] = results.skip_status(reason)
        row["message"] = reason
        if report.when == "call":
            _mark_running_step(row, "skipped")
    elif report.failed and row["status"] in (None, "passed"):
        during_call = report.when == "call"
        row["status"] = results.failure_status(exception, during_call=during_call, rules=row["rules"])
        seen = results.observation(exception, row["rules"]) if during_call else []
        if seen:  # another rule's breach stopped the check: evidence for that rule, no verdict here
            row["observations"] = row.get("observations", []) + seen
            row["message"] = results.not_checked(exception)
        else:
            row["message"] = _message(exception, report, failed=row["status"] == "failed")
        if report.when == "call":
            _mark_running_step(row, row["status"])
    if report.when == "teardown":
        gathered = item.stash.get(EVIDENCE_KEY, None)
        if gathered is not None:
            row["exchanges"] = [exchange._asdict() for exchange in gathered.exchanges]
            row["notes"] = list(gathered.notes)
            row["attachments"] = list(gathered.attachments)
        if row["status"] is None:
            row["status"] = "error"
            row["message"] = row["message"] or "the scenario did not run to a verdict"
        if workers.is_worker(item.config):  # the row travels to the controller on this report, tokens masked
            target = item.config.stash.get(TARGET_KEY, None)
            secrets = _target_secrets(item.config)
            setattr(report, ROW_ATTR, redact(row, secrets))
            setattr(report, TARGET_ATTR, target.describe() if target is not None else None)
            setattr(report, SECRETS_ATTR, list(secrets))
    return report


# -- the controller of a run with workers ---------------------------------------------------------
class Controller:
    """Registered in the controller of a run with workers: gathers the rows the workers send."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The controller collected the scenarios its workers run: the order of the file's rows."""
        self.config.stash[_ORDER_KEY] = [item.nodeid for item in session.items]
        self.items = {item.nodeid: item for item in session.items}

    def pytest_runtest_logreport(self, report) -> None:
        row = getattr(report, ROW_ATTR, None)
        run = self.config.stash[_RUN_KEY]
        if row is None and report.when == workers.LOST:  # the worker stopped while it held the scenario
            row = _lost_row(report, getattr(self, "items", {}).get(report.nodeid))
        if row is None:
            return
        run.setdefault("by_nodeid", {})[report.nodeid] = row
        if getattr(report, TARGET_ATTR, None) and "target" not in run:
            run["target"] = getattr(report, TARGET_ATTR)
        self.config.stash[_SECRETS_KEY].update(getattr(report, SECRETS_ATTR, None) or ())


def _lost_row(report, item: pytest.Item | None = None) -> dict:
    """The row of a scenario whose worker stopped before it ended: an error, so it is never missing.
    With its item (the controller collected it too) the row names it as a row of its own would."""
    nodeid = report.nodeid
    keywords = getattr(report, "keywords", None) or {}
    reason = str(report.longrepr or "").strip().splitlines()
    message = workers.INTERRUPTED if reason == [workers.INTERRUPTED] else \
        "the worker running this scenario stopped before it ended" + (f": {reason[0][:300]}" if reason else "")
    row = _record(item) if item is not None else None
    if row is not None:
        return {**row, "status": "error", "message": message}
    return results.as_json(results.Scenario(
        nodeid=nodeid, name=nodeid.split("::")[-1], rules=tuple(r for r in _rule_ids() if r in keywords),
        status="error", message=message))


def _controller_rows(config: pytest.Config, run: dict) -> list[dict]:
    """The workers' rows in collection order (those of ids not collected, if any, after them)."""
    by_nodeid = run.get("by_nodeid", {})
    order = {nodeid: n for n, nodeid in enumerate(config.stash.get(_ORDER_KEY, []))}
    return [by_nodeid[k] for k in sorted(by_nodeid, key=lambda k: (order.get(k, len(order)), k))]


def _scrub_in_flight(item: pytest.Item, exception: BaseException) -> None:
    """Mask the run's secrets in the exception's own text, before other plugins print it.

    Why in place: the live progress plugin sends this text to the runner's screen while the
    run goes on, and a target that echoes the bearer token puts it in a check's message
    ("expected ..., got '<the body>'"). Only this process knows the tokens the client was
    granted, so this is the one place that can scrub them in time. (Hook wrappers registered
    later run around this one, so they read the text after this.)
    """
    secrets = _target_secrets(item.config)
    if not secrets:
        return
    try:
        exception.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in exception.args)
        if isinstance(getattr(exception, "msg", None), str):  # pytest's fail()/skip() keep their text here
            exception.msg = redact(exception.msg, secrets)
    except (AttributeError, TypeError):  # an exception type that will not be changed: the writers redact later
        pass


def _mark_running_step(row: dict, status: str) -> None:
    """The step that was running when the scenario stopped (started, never finished) takes ``status``,
    unless a step hook has already given the stopping step its verdict."""
    if any(step["status"] in results.FAILING for step in row["steps"]):
        return
    for step in row["steps"]:
        if step["status"] == results.NOT_RUN:
            step["status"] = status
            return


def _message(exception: BaseException | None, report, *, failed: bool) -> str:
    if exception is None:
        return str(report.longrepr)[-2000:]
    if isinstance(exception, pytest.fail.Exception):
        text = exception.msg or "failed"
    else:
        text = str(exception) or type(exception).__name__
    if not failed:
        text = f"{type(exception).__name__}: {text}"
    if report.when != "call":
        text = f"({report.when}) {text}"
    return text


# -- the file -------------------------------------------------------------------------------
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    controller = workers.is_controller(config)
    if workers.is_worker(config):  # the controller writes the file
        return
    try:
        settings = for_suite()
    except ConfigError:  # the suite said why and stopped; there is no results file to trust
        return
    path = settings.results_file
    run = config.stash.get(_RUN_KEY, None)
    if path is None or run is None:
        return
    target = config.stash.get(TARGET_KEY, None)
    secrets = (*settings.secrets(), *(target.secrets() if target is not None else ()),
               *config.stash.get(_SECRETS_KEY, ()))
    described = target.describe() if target is not None else run.get("target") or {
        "base_url": settings.base_url, "embedded_mock": not settings.base_url, "mock_controls": False}
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        # the scenario that was running when the run was stopped (Ctrl-C, or the runner passing on a
        # SIGTERM) never got a verdict: it could not finish, which is what ``error`` says
        for row in run["rows"]:
            if row["status"] is None:
                row["status"] = "error"
                row["message"] = "the run was interrupted before this scenario finished"
    results = {
        "tool_version": __version__,
        "provenance": provenance(settings),
        "target": described,
        "started": run["started"],
        "finished": _now(),
        "selection": getattr(config.option, "markexpr", "") or None,  # -m: rules outside it are "not selected"
        "scenarios": _controller_rows(config, run) if controller else run["rows"],
    }
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)  # a file of our own ("x"), never one a link there points at
    with partial.open("x", encoding="utf-8") as handle:
        handle.write(jsontext.dumps(redact(results, secrets)))
    partial.replace(out)


def suite_digest(folder: Path) -> dict:
    """The sha256 of the suite's feature files and step modules (``features/**/*.feature``,
    ``steps/**/*.py``): each file's path relative to ``folder`` and its bytes, in path order."""
    folder = Path(folder)
    files = sorted([*folder.glob("features/**/*.feature"), *folder.glob("steps/**/*.py")])
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return {"sha256": digest.hexdigest(), "files": len(files)}


def provenance(settings: RunConfig) -> dict:
    """What a verdict rests on: the tool, the catalogue and profile, the explored cases' seed and
    depth, and the digest of the suite that ran (``shipped`` false when ``--suite`` replaced it)."""
    shipped = Path(settings.suite).resolve() == ROOT.resolve()
    return {
        "tool_version": __version__,
        "catalogue": catalogue.edition(settings.profile),
        "profile": settings.profile,
        "seed": settings.seed,
        "depth": settings.depth,
        "suite": {**suite_digest(settings.suite), "shipped": shipped,
                  "source": "shipped with the tool" if shipped else f"--suite {settings.suite}"},
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
