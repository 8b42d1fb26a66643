"""Fixtures for the runner's tests: constructed results.json documents, and a throwaway suite.

Why construct results rather than only run the real suite: every status, every odd
shape (unknown status, a scenario tagged with no rule, an echoed secret) must be
shown in the reports on purpose, which a suite against a well-behaved mock never
produces. Why a throwaway suite (written into a tmp folder, never into steps/): the
runner's process handling, exit codes, progress and scrubbing are tested through a
real pytest-bdd child run whose outcomes the test decides.
"""
from __future__ import annotations

import contextlib
import io
import json
import socket
from pathlib import Path

import jsonschema
import pytest

from canvas_conformance import cli, config, embedded, runner, suite_process
from canvas_conformance.client import Exchange
from canvas_conformance.report import conformance_json, writer

CLIENT_SECRET = "planted-client-secret-7f3a9c"
BEARER = "planted-bearer-token-0b1e55d2c4"
BASE_URL = "http://127.0.0.1:5999"


# -- every report these tests write keeps the schema ------------------------------------------

def schema_validators() -> tuple[jsonschema.Draft202012Validator, jsonschema.Draft202012Validator]:
    """Validators of conformance.json, and of one scenario row of results.json (its $defs/scenario)."""
    schema = json.loads(conformance_json.SCHEMA_FILE.read_text(encoding="utf-8"))
    row = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/scenario"}
    return jsonschema.Draft202012Validator(schema), jsonschema.Draft202012Validator(row)


@pytest.fixture(scope="session", autouse=True)
def _reports_keep_the_schema():
    """Every conformance.json built in these tests, and every results.json row it was built from,
    is checked against canvas_conformance/schemas/conformance.schema.json as it is written."""
    document, row = schema_validators()
    build, write_all = conformance_json.build, writer.write_all

    def checked_build(run, *, strict=False):
        doc = build(run, strict=strict)
        document.validate(doc)
        return doc

    def checked_write_all(results, out_dir, **options):
        for scenario in results.get("scenarios") or ():
            row.validate(scenario)
        return write_all(results, out_dir, **options)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conformance_json, "build", checked_build)
        mp.setattr(writer, "write_all", checked_write_all)
        mp.setattr(runner, "write_all", checked_write_all)
        yield


# -- constructed results ------------------------------------------------------------------

@pytest.fixture
def exchange(message):
    """An Exchange dict as the suite's client records it (a create of a fixture message by default)."""
    def make(name="create the message", *, method="POST", url=f"{BASE_URL}/Communication", status=201,
             request_body=None, response_body="", response_headers=None, request_headers=None, error=None,
             duration_ms=12.5, correlation_id="corr-0001"):
        if request_body is None and method == "POST":
            request_body = json.dumps(message("practitioner_to_patient"))
        return Exchange(
            name=name, method=method, url=url,
            request_headers=request_headers if request_headers is not None else {
                "Authorization": f"Bearer {BEARER}", "Content-Type": "application/fhir+json"},
            request_body=request_body, status=None if error else status,
            response_headers=response_headers if response_headers is not None else {
                "fumage-correlation-id": correlation_id, "Location": f"{BASE_URL}/Communication/abc"},
            response_body=response_body, correlation_id=correlation_id,
            started="2026-11-25T12:00:00.100000+00:00", duration_ms=duration_ms, error=error,
        )._asdict()
    return make


@pytest.fixture
def scenario(exchange):
    """A scenario dict of results.json, with one exchange unless told otherwise."""
    def make(status, rules=("SENT-2",), *, name=None, message=None, exchanges=None, tags=None, notes=(),
             attachments=(), feature="Sent and received times", feature_file="features/sent_received.feature",
             observations=()):
        rules = list(rules)
        step_status = {"passed": "passed", "failed": "failed", "error": "error"}.get(status, "skipped")
        return {
            "nodeid": f"steps/test_conformance.py::test_{(name or status).replace(' ', '_')}",
            "feature_file": feature_file, "feature": feature,
            "name": name or f"a {status} scenario of {' '.join(rules) or 'no rule'}",
            "rules": rules,
            "tags": list(tags) if tags is not None else [*rules, "documented", "api"],
            "status": status, "message": message, "duration_s": 0.05,
            "steps": [{"keyword": "Given", "text": "a message from a practitioner to a patient",
                       "status": "passed", "duration_s": 0.001},
                      {"keyword": "Then", "text": "the stored sent time is the creation time",
                       "status": step_status, "duration_s": 0.002}],
            "exchanges": [exchange()] if exchanges is None else list(exchanges),
            "notes": list(notes), "attachments": list(attachments), "observations": list(observations),
        }
    return make


@pytest.fixture
def results():
    """A results.json document around the given scenarios."""
    def make(scenarios, *, base_url=BASE_URL, embedded_mock=False):
        return {
            "tool_version": "0.1.0",
            "target": {"base_url": base_url, "embedded_mock": embedded_mock, "mock_controls": embedded_mock},
            "started": "2026-11-25T12:00:00+00:00", "finished": "2026-11-25T12:00:02.500000+00:00",
            "scenarios": list(scenarios),
        }
    return make


@pytest.fixture
def every_status(scenario):
    """One scenario per status, each on its own rule, plus a scenario tagged with no catalogue rule."""
    return [
        scenario("passed", ["SENT-1"]),
        scenario("failed", ["SENT-2"], message="sent was 2020-01-01T00:00:00Z, not the creation time"),
        scenario("error", ["RCPT-1"], message="ConnectionError: connection dropped", exchanges=[]),
        scenario("skipped", ["RCPT-3"], message="needs two patients, only one given", exchanges=[]),
        scenario("manual", ["UI-1"], message="MANUAL: 1. open the chart 2. find the message", exchanges=[],
                 tags=["UI-1", "documented", "ui"]),
        scenario("failed", [], name="a scenario tagged with no rule", tags=["api"], message="boom"),
    ]


# -- running the command ------------------------------------------------------------------

class Outcome:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    @property
    def err_lines(self):
        return [ln for ln in self.err.splitlines() if ln.strip()]


def invoke(argv) -> Outcome:
    """``canvas-conformance ARGV`` in this process, with stdout/stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except SystemExit as exit_:  # argparse
            code = exit_.code
    return Outcome(code, out.getvalue(), err.getvalue())


@pytest.fixture
def run_command():
    return invoke


@pytest.fixture
def free_port():
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the throwaway suite --------------------------------------------------------------------

FEATURE = """\
@api
Feature: Throwaway checks for the runner's own tests

  @SENT-2 @documented
  Scenario: the target is there
    Given the target's base URL
    Then its metadata answers

  @RCPT-1 @documented
  Scenario: a check that fails
    Given the target's base URL
    Then a check of the answer fails

  @FHIR-2 @inferred
  Scenario: a check that cannot finish
    Given the target's base URL
    Then the check cannot finish

  @RCPT-3 @documented
  Scenario: a check without its inputs
    Given two patients are needed

  @UI-1 @documented @ui
  Scenario: a check for a person
    Given a person must look at the chart

  @PAY-1 @documented
  Scenario: the target echoes the credentials
    Given the target's base URL
    Then a token is fetched and the answers are recorded
"""

STEPS = '''\
"""Throwaway steps: each scenario ends the way its name says."""
import json
import os
import warnings
from pathlib import Path

import pytest
import requests
from pytest_bdd import given, scenarios, then

from canvas_conformance import results
from canvas_conformance.client import Exchange
from canvas_conformance.config import for_suite

scenarios("../features")


@pytest.fixture
def record(request):
    def add(name, answer, **extra):
        request.node.user_properties.append(("exchange", Exchange(
            name=name, method=answer.request.method, url=answer.request.url,
            request_headers=dict(answer.request.headers), request_body=answer.request.body,
            status=answer.status_code, response_headers=dict(answer.headers),
            response_body=answer.text, correlation_id=answer.headers.get("fumage-correlation-id"),
            started="2026-11-25T12:00:00+00:00", duration_ms=answer.elapsed.total_seconds() * 1000,
            error=None)._replace(**extra)._asdict()))
    return add


@given("the target's base URL", target_fixture="base_url")
def base_url():
    return for_suite().base_url


@then("its metadata answers")
def metadata_answers(base_url, record):
    answer = requests.get(f"{base_url}/metadata", timeout=for_suite().timeout)
    record("read the capability statement", answer)
    assert answer.status_code == 200


@then("a check of the answer fails")
def check_fails():
    assert 200 == 201, "the target answered 200 where the rule wants 201"


@then("the check cannot finish")
def check_errors():
    raise ConnectionError("the connection dropped mid-answer")


@given("two patients are needed")
def needs_two():
    pytest.skip("needs two patients, only one given")


@given("a person must look at the chart")
def by_hand():
    results.manual("open the patient's chart", "find the message on the timeline")


@then("a token is fetched and the answers are recorded")
def echo(base_url, record):
    cfg = for_suite()
    secret = cfg.client_secret
    answer = requests.post(cfg.token_url, timeout=5, data={
        "grant_type": "client_credentials", "client_id": cfg.client_id, "client_secret": secret})
    token = answer.json()["access_token"]
    Path(os.environ["THROWAWAY_TOKEN_FILE"]).write_text(token)
    warnings.warn(f"echoed token {token}")  # lands in pytest's own output, hence in pytest.log
    record("get a token", answer)
    read = requests.get(f"{base_url}/Communication", timeout=5, headers={"Authorization": f"Bearer {token}"})
    record(f"search, echoing {token} and {secret}", read,
           response_body=json.dumps({"echo": f"token={token} secret={secret}"}),
           response_headers={"X-Echo": f"Bearer {token}", "X-Secret": secret})
    assert read.status_code == 200
'''

STANDIN_PLUGIN = '''\
"""A stand-in results plugin for the runner's tests: results.json per the contract, unredacted.

Unredacted on purpose: the runner must scrub what it gets. Statuses, rows and their
classification are the contract's (canvas_conformance.results), as the real plugin's are.
"""
import json
import os
from datetime import datetime, timezone

import pytest

from canvas_conformance import catalogue, results
from canvas_conformance.config import for_suite

IDS = {r.id for r in catalogue.rules()}


class Recorder:
    def __init__(self):
        self.started = datetime.now(timezone.utc).isoformat()
        self.scenarios = {}

    def entry(self, item):
        if item.nodeid not in self.scenarios:
            self.scenarios[item.nodeid] = results.as_json(results.Scenario(
                nodeid=item.nodeid, name=item.name, status="passed",
                rules=tuple(m.name for m in item.iter_markers() if m.name in IDS),
                tags=tuple(sorted({m.name for m in item.iter_markers()} - {"parametrize", "usefixtures"}))))
        return self.scenarios[item.nodeid]

    def step(self, request, step, status):
        self.entry(request.node)["steps"].append(
            results.Step(keyword=step.keyword, text=step.name, status=status, duration_s=0.001)._asdict())

    def pytest_bdd_before_scenario(self, request, feature, scenario):
        e = self.entry(request.node)
        e.update(feature=feature.name, feature_file="features/" + os.path.basename(feature.filename),
                 name=scenario.name)

    def pytest_bdd_after_step(self, request, feature, scenario, step, step_func, step_func_args):
        self.step(request, step, "passed")

    def pytest_bdd_step_error(self, request, feature, scenario, step, step_func, step_func_args, exception):
        self.step(request, step, results.failure_status(exception))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        e = self.entry(item)
        e["duration_s"] += report.duration
        e["exchanges"] = [v for k, v in item.user_properties if k == "exchange"]
        exception = call.excinfo.value if call.excinfo is not None else None
        if report.failed:
            status = results.failure_status(exception, during_call=call.when == "call")
            if results.outranks(status, e["status"]):
                e["status"], e["message"] = status, str(exception)
        elif report.skipped:
            e["message"] = results.skip_reason(report, exception)
            e["status"] = results.skip_status(e["message"])
        return report

    def pytest_sessionfinish(self, session):
        cfg = for_suite()
        path = cfg.results_file
        if path:
            doc = {"tool_version": "0.1.0",
                   "target": {"base_url": cfg.base_url, "embedded_mock": False,
                              "mock_controls": False},
                   "started": self.started, "finished": datetime.now(timezone.utc).isoformat(),
                   "scenarios": list(self.scenarios.values())}
            with open(path, "w", encoding="utf-8") as f:
                json.dump(doc, f)


def pytest_configure(config):
    config.pluginmanager.register(Recorder(), "standin-results")
'''


PYTEST_INI = """\
[pytest]
addopts = --strict-markers
markers =
    api
    ui
    documented
    inferred
    SENT-2
    RCPT-1
    RCPT-3
    FHIR-2
    UI-1
    PAY-1
"""


@pytest.fixture(scope="session")
def throwaway_suite(tmp_path_factory) -> Path:
    """A tiny suite (features/, steps/, a stand-in results plugin) in a tmp folder."""
    root = tmp_path_factory.mktemp("throwaway_suite")
    (root / "features").mkdir()
    (root / "steps").mkdir()
    (root / "features" / "throwaway.feature").write_text(FEATURE)
    (root / "steps" / "test_throwaway.py").write_text(STEPS)
    (root / "standin_results.py").write_text(STANDIN_PLUGIN)
    (root / "pytest.ini").write_text(PYTEST_INI)
    return root


@contextlib.contextmanager
def standin_plugin(suite: Path, token_file: Path):
    """Point the runner at the stand-in results plugin of the throwaway suite."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(suite_process, "RESULTS_PLUGIN", "standin_results")
        mp.setenv("PYTHONPATH", str(suite))
        mp.setenv("THROWAWAY_TOKEN_FILE", str(token_file))
        for var in ("CANVAS_BASE_URL", "CANVAS_CLIENT_ID", "CANVAS_CLIENT_SECRET", "CANVAS_TOKEN", "CANVAS_TAGS",
                    "CANVAS_REPORT_DIR", "CANVAS_STRICT", "CANVAS_LIST", "CANVAS_SUITE", "CANVAS_QUIET"):
            mp.delenv(var, raising=False)
        # one worker: the stand-in writes the rows of its own process, and with workers the scenarios
        # run in forks of it (the real results plugin sends theirs to the controller, workers.py)
        mp.setenv("CANVAS_WORKERS", "1")
        yield


class EmbeddedSpy:
    """Records every embedded mock the runner starts (to know its secret) and that it was stopped."""

    def __init__(self):
        self.started = []
        self.stopped = 0

    def __call__(self, **options):
        mock = self.real(**options)
        self.started.append(mock)

        def stop():
            self.stopped += 1
            mock.stop()
        return mock._replace(stop=stop)


@pytest.fixture
def use_standin(throwaway_suite, tmp_path):
    """The runner uses the stand-in results plugin; answers the file where the echo step puts its token."""
    token_file = tmp_path / "token.txt"
    with standin_plugin(throwaway_suite, token_file):
        yield token_file


@pytest.fixture(scope="module")
def throwaway_runs(throwaway_suite, tmp_path_factory):
    """Run the throwaway suite through ``canvas-conformance run`` (embedded mock) once per selection.

    Module-scoped and memoised: each distinct argument list runs once, shared by the assertions.
    """
    cache = {}
    spy = EmbeddedSpy()
    spy.real = embedded.start
    token_file = tmp_path_factory.mktemp("token") / "token.txt"

    def run(*extra):
        if extra not in cache:
            report = tmp_path_factory.mktemp("report")
            with standin_plugin(throwaway_suite, token_file), pytest.MonkeyPatch.context() as mp:
                mp.setattr(embedded, "start", spy)
                outcome = invoke(["run", "--suite", str(throwaway_suite), "--report-dir", str(report), *extra])
            outcome.report = report
            outcome.mock = spy.started[-1] if spy.started else None
            outcome.token = token_file.read_text() if token_file.exists() else None
            cache[extra] = outcome
        return cache[extra]
    run.spy = spy
    return run




@pytest.fixture(autouse=True)
def _no_outer_canvas_env(clean_canvas_env):
    """No CANVAS_* variable of the outer shell leaks into the runner's tests (see tests/conftest.py)."""


@pytest.fixture(scope="module")
def real_suite_run(tmp_path_factory):
    """ONE ``canvas-conformance run`` of the real suite against the embedded mock, shared by a module."""
    import os
    if not (config.ROOT / "steps" / "test_conformance.py").is_file():
        pytest.skip("the conformance suite (steps/) is not on this branch yet")
    spy = EmbeddedSpy()
    spy.real = embedded.start
    report = tmp_path_factory.mktemp("e2e") / "report"
    with pytest.MonkeyPatch.context() as mp:
        for var in [v for v in os.environ if v.startswith("CANVAS_")]:
            mp.delenv(var)
        mp.setattr(embedded, "start", spy)
        outcome = invoke(["run", "--report-dir", str(report)])
    outcome.report = report
    outcome.spy = spy
    return outcome
