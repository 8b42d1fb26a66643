"""The conformance suite's configuration: markers, the target, per-scenario evidence.

The target comes from the run's configuration (``config.for_suite``: the record the runner
hands over, or the ``CANVAS_*`` variables of a plain ``pytest steps``); without a base URL the
embedded mock is started for the session and stopped after it. Step definitions live in modules by domain and are gathered here, so the test
module is a single ``scenarios(...)`` call.
"""
from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path

import pytest

from canvas_conformance import browser, catalogue, checks, workers
from canvas_conformance.client import Client, Evidence, ExchangeError, TokenError
from canvas_conformance.config import ConfigError, RunConfig, for_suite
from canvas_conformance.preflight import is_loopback
from canvas_conformance.results_plugin import EVIDENCE_KEY, TARGET_KEY
from canvas_conformance.suite_process import cases_at_once_for

from .auth_steps import *  # noqa: F401,F403
from .current_steps import *  # noqa: F401,F403
from .explore_steps import *  # noqa: F401,F403
from .message_steps import *  # noqa: F401,F403
from .reading_steps import *  # noqa: F401,F403
from .rejection_steps import *  # noqa: F401,F403
from .search_steps import *  # noqa: F401,F403
from .step_lookup import install as _install_step_lookup
from .target import Target
from .time_steps import *  # noqa: F401,F403
from .ui_browser import mock_pages, pages, ui_sign_in  # noqa: F401
from .ui_steps import *  # noqa: F401,F403

_install_step_lookup()

KIND_AND_SURFACE_TAGS = {
    "documented": "a rule stated by the source document",
    "inferred": "a rule inferred from FHIR R4 REST conventions or Canvas's current docs",
    "api": "checked through the API",
    "ui": "seen in the Canvas UI (checked in a browser, or by hand)",
    "explored": "a seeded, bounded search of the rule's input space (--depth, --seed; dimensions.json)",
}


def pytest_configure(config: pytest.Config) -> None:
    """Every feature tag is a registered marker, so ``--strict-markers`` and ``-m RULE-ID`` work."""
    for rule_id in catalogue.all_rule_ids():
        config.addinivalue_line("markers", f"{rule_id}: a rule of the catalogue (canvas_conformance/catalogue.json)")
    for tag, meaning in KIND_AND_SURFACE_TAGS.items():
        config.addinivalue_line("markers", f"{tag}: {meaning}")
    config.addinivalue_line("markers", f"{workers.TARGET_WIDE}: scenarios that hold the whole target (its clock) to themselves")


# -- running with workers (``--workers N``, canvas_conformance/workers.py) ----------------------------
# Scenarios run concurrently on worker processes, each with its own client and token; verdicts do
# not depend on it, since each judges only messages carrying its own marker (bodies.py). What a
# scenario does to the whole target cannot share it, though: moving or holding the mock's clock
# (SENT-2, an expired token for FHIR-3, the UI rules' captions) changes every other request's
# clock and token expiry. Those scenarios are ``workers.TARGET_WIDE``: they go to one worker, one
# after another, and each runs while no other scenario of the run does, by the run's lock file
# (shared for every other scenario, exclusive for these). The browser part stays on that worker.
_TARGET_WIDE_STEPS = ("the target's clock", "an expired bearer token")


def _scenario_steps(item: pytest.Item) -> list[str]:
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))
    if template is None:
        return []
    example = getattr(getattr(item, "callspec", None), "params", {}).get("_pytest_bdd_example", {})
    return [step.name for step in template.render(example).steps]


def is_target_wide(item: pytest.Item) -> bool:
    """Whether the scenario changes something every request to the target sees (its clock)."""
    if item.get_closest_marker("ui") is not None:
        return True
    return any(phrase in text for text in _scenario_steps(item) for phrase in _TARGET_WIDE_STEPS)


def _run_profile() -> str:
    try:
        return for_suite().profile
    except ConfigError:  # the ``settings`` fixture says why and stops the session
        return catalogue.DEFAULT_PROFILE


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects: a scenario's kind marker is the profile's
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Scenarios of rules the run's profile does not have are deselected (not judged, not counted);
    the others get their rule's kind in that profile as a marker (``-m documented``)."""
    profile = _run_profile()
    kept, dropped = [], []
    for item in items:
        tags = {m.name for m in item.iter_markers()}
        (kept if catalogue.in_profile(tags, profile) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    for item in items:
        tags = {m.name for m in item.iter_markers()}
        for kind in sorted(catalogue.kind_tags(tags, profile) - tags):
            item.add_marker(kind)
        if is_target_wide(item):
            item.add_marker(workers.TARGET_WIDE)


@pytest.fixture(autouse=True)
def _target_wide_lock(request: pytest.FixtureRequest):
    """Under workers: a shared hold on the run's lock for an ordinary scenario, an exclusive one for a
    target-wide scenario, for the whole scenario (set-up and finalizers included). Without workers
    scenarios run one at a time anyway and nothing is locked."""
    path = getattr(request.config, "workerinput", {}).get(workers.LOCK_INPUT)
    if path is None:
        yield
        return
    with open(path, "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if is_target_wide(request.node) else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def settings() -> RunConfig:
    try:
        return for_suite()
    except ConfigError as err:
        pytest.exit(f"canvas-conformance: {err}", returncode=2)


@pytest.fixture(scope="session")
def allowed(settings: RunConfig) -> checks.Allowances:
    """What the run's profile leaves open to the target (checks.allowances): HTML-stored texts, extra
    recipients or payload elements refused, unlinked empty results, sent at creation (canvas-current)."""
    return checks.allowances(settings.profile)


@pytest.fixture(scope="session")
def target(settings: RunConfig, pytestconfig: pytest.Config):
    """The target of the run (the embedded mock when no base URL is given)."""
    __tracebackhide__ = True  # a traceback would print the settings, secret and token included
    embedded = None
    if settings.base_url is None:
        from canvas_conformance import embedded as embedded_mock

        embedded = embedded_mock.start(profile=settings.profile)
        client = Client(embedded.base_url, client_id=embedded.client_id, client_secret=embedded.client_secret,
                        timeout=settings.timeout, retry=settings.retry, max_answer_bytes=settings.max_answer_bytes)
        people = {"patients": settings.patients or embedded.patients,
                  "practitioners": settings.practitioners or embedded.practitioners}
    else:
        if not settings.allow_writes and not is_loopback(settings.base_url):
            pytest.exit(f"canvas-conformance: {settings.base_url} is not on this machine; the suite creates "
                        "messages in patients' charts, so set CANVAS_ALLOW_WRITES=1 to run it there", returncode=2)
        client = Client(settings.base_url, token_url=settings.token_url, client_id=settings.client_id,
                        client_secret=settings.client_secret, token=settings.token, timeout=settings.timeout,
                        retry=settings.retry, max_answer_bytes=settings.max_answer_bytes)
        people = {"patients": settings.patients, "practitioners": settings.practitioners}
    target = Target(client, embedded=embedded is not None, discover=settings.discover_people,
                    at_once=cases_at_once_for(settings), allowed=checks.allowances(settings.profile), **people)
    pytestconfig.stash[TARGET_KEY] = target
    try:
        try:
            target.start()
        except (TokenError, ExchangeError) as err:
            raise RuntimeError(f"the target cannot be used: {err}") from None
        yield target
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()


@pytest.fixture(autouse=True)
def evidence(request: pytest.FixtureRequest, _target_wide_lock, target: Target):
    """What this scenario sends and learns, kept for the results file."""
    gathered = Evidence()
    request.node.stash[EVIDENCE_KEY] = gathered
    target.client.evidence = gathered
    yield gathered
    target.client.evidence = None


@pytest.fixture
def rule(request: pytest.FixtureRequest) -> str:
    """The catalogue rule(s) this scenario checks, as failure messages name them."""
    ids = set(catalogue.all_rule_ids())
    tags = sorted({m.name for m in request.node.iter_markers() if m.name in ids})
    return "/".join(tags) or "unknown rule"


# -- the browser for the UI rules ----------------------------------------------------------
LENT_BROWSER = "canvas_conformance_browser"  # a plugin with this attribute lends its running browser


@pytest.fixture(scope="session")
def screenshot_dir(settings: RunConfig) -> Path:
    """Where UI screenshots go: the configuration's screenshot folder (the runner's <report dir>/screenshots),
    else a screenshots folder beside its results file, else a fresh temporary folder. Attachments name a
    screenshot relative to this folder's parent (the report folder). Created with the first screenshot."""
    if settings.screenshot_dir is not None:
        return settings.screenshot_dir
    if settings.results_file is not None:
        return settings.results_file.parent / "screenshots"
    return Path(tempfile.mkdtemp(prefix="canvas-conformance-")) / "screenshots"


@pytest.fixture(scope="session")
def chromium(pytestconfig: pytest.Config):
    """One headless Chromium for the whole run, started when the first UI scenario needs it and stopped
    at the end. If it cannot start, every scenario that needs it errors with the one-line reason.

    A process that runs the suite in-process (the harness's own tests) may lend its running browser
    through a plugin object with a ``canvas_conformance_browser`` attribute; a lent browser is not stopped.
    """
    for plugin in pytestconfig.pluginmanager.get_plugins():
        lent = getattr(plugin, LENT_BROWSER, None)
        if lent is not None:
            yield lent
            return
    running = browser.start()
    try:
        yield running
    finally:
        running.stop()
