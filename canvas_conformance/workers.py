"""Workers: the suite's scenarios run in forked copies of the one pytest process that collected them.

Load it with ``-p canvas_conformance.workers``; ``--canvas-workers N`` (N > 1) turns it on. The
process collects the suite once, as a run with one worker does, and then forks N workers. Each
worker starts with the imports, the parsed feature files and the collected items already in
memory (copy-on-write), so a worker costs a fork, not an interpreter that imports pytest,
pytest-bdd, requests and Hypothesis and collects every scenario again, as a pytest-xdist worker
did (bench/RESULTS-suite.md has the CPU figures).

How the work is shared: the controller (the process that forked) keeps a queue of units, each a
list of item indices: every scenario a unit of its own, the ``LONG_FIRST`` ones (explored
scenarios, many cases each) ahead of the others so that none of them starts last and runs on
alone, each group in collection order; and last, every ``TARGET_WIDE`` scenario together in one
unit. Those hold the target to themselves (steps/conftest.py's lock: exclusive for them, shared
for the others), so they go one after another on one worker, and only once nothing else is left
to give: a lock taken exclusively while other scenarios keep starting could wait until the whole
run is over. A worker holds one unit at a time and asks for the next when pytest needs to know
it, in the teardown of its scenario (``_Next``): pytest tears down only the fixtures the next item
does not share, so a worker's session fixtures (its client, its token) last until its last
scenario, whose teardown ends them.

What comes back: after each test phase a worker sends its report, serialized by pytest's own
``pytest_report_to_serializable`` (every attribute a plugin set on the report travels with it: the
results plugin's row, the progress plugin's event), and the controller hands it to
``pytest_runtest_logreport`` as if it had run the test itself: the terminal summary, the exit
code, the results file and the live progress all see one run. The results and progress plugins
ask ``is_worker`` and ``is_controller`` which part they play.

A worker that dies (a crash, a kill) loses only what it held: each such scenario comes back as a
report of phase ``LOST`` (the results plugin makes it an ``error`` row), and the rest of the queue
goes to the other workers. On SIGINT the controller passes the signal on to every worker, gathers
what they send until they have ended, and stops the run as interrupted. Workers share the
controller's process group: a runner that kills the group stops them all.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import tempfile
import traceback
from collections import deque

import pytest

OPTION = "--canvas-workers"
TARGET_WIDE = "target_wide"  # the marker of scenarios that change what every request to the target sees
LONG_FIRST = "explored"  # the feature tag of scenarios that try many cases: given out first
LOCK_INPUT = "canvas_conformance_lock"  # a worker's ``workerinput`` key: the run's lock file
LOST = "???"  # the phase of a report standing for a scenario whose worker stopped before it ended
INTERRUPTED = "the run was interrupted before this scenario finished"  # a LOST report's text after SIGINT


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OPTION, type=int, default=1, dest="canvas_workers",
                     help="run the scenarios in N forked worker processes (canvas_conformance.workers)")


def count(config: pytest.Config) -> int:
    return config.getoption("canvas_workers", 1) or 1


def is_worker(config: pytest.Config) -> bool:
    """A worker has a ``workerinput`` (as pytest-xdist's workers do): the lock file's path, its id."""
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    return not is_worker(config) and count(config) > 1


def units(items: list[pytest.Item]) -> list[list[int]]:
    """The queue: each scenario alone, the long ones first; then the target-wide ones in one unit."""
    wide = [n for n, item in enumerate(items) if item.get_closest_marker(TARGET_WIDE) is not None]
    rest = [n for n, item in enumerate(items) if item.get_closest_marker(TARGET_WIDE) is None]
    rest.sort(key=lambda n: items[n].get_closest_marker(LONG_FIRST) is None)  # stable: collection order within
    return [[n] for n in rest] + ([wide] if wide else [])


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session):
    config = session.config
    if not is_controller(config) or not session.items or config.option.collectonly:
        return None  # pytest's own loop
    if session.testsfailed and config.option.continue_on_collection_errors is False:
        raise session.Interrupted(f"{session.testsfailed} error(s) during collection")
    Controller(session, min(count(config), len(session.items))).run()
    return True


def lock_file(config: pytest.Config) -> str:
    """The run's lock file (made once, removed when the run ends): shared by an ordinary scenario, held
    alone by a target-wide one (steps/conftest.py's ``_target_wide_lock``)."""
    path = getattr(config, "_canvas_lock_path", None)
    if path is None:
        handle, path = tempfile.mkstemp(prefix="canvas-conformance-", suffix=".lock")
        os.close(handle)
        config._canvas_lock_path = path
        config.add_cleanup(lambda: os.unlink(path) if os.path.exists(path) else None)
    return path


class _Worker:
    """The controller's side of one worker: its pid, its two pipes, what it holds."""

    def __init__(self, number: int, pid: int, commands, replies) -> None:
        self.number = number
        self.pid = pid
        self.commands = commands  # a binary file: the controller writes units here
        self.replies = replies  # a binary file: the worker's messages, one JSON object a line
        self.unread = bytearray()  # what has been read of them past the last whole line
        self.held: list[int] = []  # item indices given and not yet finished, in the order given
        self.ended = False


class Controller:
    def __init__(self, session: pytest.Session, n: int) -> None:
        self.session = session
        self.config = session.config
        self.items = session.items
        self.n = n
        self.queue = deque(units(self.items))
        self.workers: list[_Worker] = []
        self.started: set[int] = set()

    # -- forking ------------------------------------------------------------------------------
    def run(self) -> None:
        lock = lock_file(self.config)
        capman = self.config.pluginmanager.getplugin("capturemanager")
        if capman is not None:  # the workers start from the real stdout/stderr, not the capture's files
            capman.suspend_global_capture(in_=True)
        try:
            for number in range(self.n):
                self._fork(number, lock)
        finally:
            if capman is not None:
                capman.resume_global_capture()
        try:
            self._serve()
        except KeyboardInterrupt:
            for worker in self.workers:
                if not worker.ended:
                    _kill(worker.pid, signal.SIGINT)
            self.queue.clear()
            self._serve(interrupted=True)
            raise

    def _fork(self, number: int, lock: str) -> None:
        from_controller, to_worker = os.pipe()  # (read end, write end)
        from_worker, to_controller = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                os.close(to_worker)
                os.close(from_worker)
                for other in self.workers:  # so that each pipe's end is held by its own two processes
                    other.commands.close()
                    other.replies.close()
                _work(self.session, number, lock, os.fdopen(from_controller, "rb"), os.fdopen(to_controller, "wb"))
                code = 0
            except KeyboardInterrupt:  # the controller passed on a SIGINT: what this worker held is reported lost
                pass
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(from_controller)
        os.close(to_controller)
        self.workers.append(_Worker(number, pid, os.fdopen(to_worker, "wb"), os.fdopen(from_worker, "rb")))

    # -- serving --------------------------------------------------------------------------------
    def _serve(self, *, interrupted: bool = False) -> None:
        selector = selectors.DefaultSelector()
        for worker in self.workers:
            if not worker.ended:
                selector.register(worker.replies, selectors.EVENT_READ, worker)
        try:
            while selector.get_map():
                for key, _ in selector.select():
                    worker = key.data
                    # what the pipe holds now, unbuffered: a buffered readline could keep a second
                    # line in its buffer, which select() would never report again
                    chunk = os.read(worker.replies.fileno(), 1 << 20)
                    if not chunk:
                        selector.unregister(worker.replies)
                        self._ended(worker, interrupted=interrupted)
                        continue
                    worker.unread += chunk
                    while (end := worker.unread.find(b"\n")) >= 0:
                        line = bytes(worker.unread[:end])
                        del worker.unread[:end + 1]
                        self._reply(worker, json.loads(line))
        finally:
            selector.close()

    def _reply(self, worker: _Worker, message: dict) -> None:
        kind = message["kind"]
        if kind == "ask":  # answered at once: a unit, or None when the queue is empty
            unit = self.queue.popleft() if self.queue and not (self.session.shouldstop or self.session.shouldfail) else None
            worker.held.extend(unit or ())
            self._send(worker, {"unit": unit})
        elif kind == "start":
            index = message["index"]
            self.started.add(index)
            item = self.items[index]
            self.config.hook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        elif kind == "report":
            report = self.config.hook.pytest_report_from_serializable(config=self.config, data=message["data"])
            self.config.hook.pytest_runtest_logreport(report=report)
        elif kind == "finish":
            index = message["index"]
            worker.held.remove(index)
            item = self.items[index]
            self.config.hook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)

    def _send(self, worker: _Worker, message: dict) -> None:
        try:
            worker.commands.write(json.dumps(message).encode() + b"\n")
            worker.commands.flush()
        except (BrokenPipeError, ValueError):  # it has died: its end is reported when its replies end
            pass

    def _ended(self, worker: _Worker, *, interrupted: bool) -> None:
        """The worker's replies have ended: reap it. What it still held is lost (an ``error`` row each),
        except, after SIGINT, what it had not begun (not run); when no worker is left, so is the queue."""
        worker.ended = True
        try:
            _, status = os.waitpid(worker.pid, 0)
        except ChildProcessError:
            status = None
        why = INTERRUPTED if interrupted else f"worker {worker.number} stopped (process {worker.pid}, " \
            f"{'exit code %d' % os.waitstatus_to_exitcode(status) if status is not None else 'not its child'})"
        for index in worker.held:
            if index in self.started or not interrupted:
                self._lost(index, why)
        worker.held.clear()
        if all(w.ended for w in self.workers) and not interrupted:
            while self.queue:
                for index in self.queue.popleft():
                    self._lost(index, why)

    def _lost(self, index: int, why: str) -> None:
        from _pytest.reports import TestReport

        item = self.items[index]
        if index not in self.started:
            self.config.hook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        report = TestReport(item.nodeid, item.location, {name: 1 for name in item.keywords}, "failed", why, LOST)
        self.config.hook.pytest_runtest_logreport(report=report)
        self.config.hook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# -- the worker ------------------------------------------------------------------------------------
class _Relay:
    """Registered in a worker: every report goes to the controller, serialized, as it is made."""

    def __init__(self, config: pytest.Config, replies) -> None:
        self.config = config
        self.replies = replies

    def send(self, message: dict) -> None:
        self.replies.write(json.dumps(message).encode() + b"\n")
        self.replies.flush()

    @pytest.hookimpl(trylast=True)  # after the results and progress plugins have set their attributes
    def pytest_runtest_logreport(self, report) -> None:
        self.send({"kind": "report", "data": self.config.hook.pytest_report_to_serializable(
            config=self.config, report=report)})


def _work(session: pytest.Session, number: int, lock: str, commands, replies) -> None:
    config = session.config
    config.workerinput = {"workerid": f"w{number}", LOCK_INPUT: lock}
    manager = config.pluginmanager
    for name in ("terminalreporter", "canvas-conformance-results-controller"):  # the controller's to do
        plugin = manager.get_plugin(name)
        if plugin is not None:
            manager.unregister(plugin)
    capman = manager.getplugin("capturemanager")
    if capman is not None and capman._global_capturing is not None:
        capman._global_capturing = None  # the controller's capture files are its own
        capman.start_global_capturing()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    relay = _Relay(config, replies)
    manager.register(relay, "canvas-conformance-worker-relay")
    items = session.items
    given: deque[int] = deque()  # given and not yet run, in the order given
    done = False

    def next_index() -> int | None:
        """The next item to run: the rest of the unit in hand, else a new unit asked of the controller."""
        nonlocal done
        while not given and not done:
            relay.send({"kind": "ask"})
            line = commands.readline()
            unit = json.loads(line)["unit"] if line else None  # no line: the controller has gone
            if unit is None:
                done = True
            else:
                given.extend(unit)
        return given[0] if given else None

    while next_index() is not None:
        index = given.popleft()
        item = items[index]
        relay.send({"kind": "start", "index": index})
        following = _Next(lambda: None if next_index() is None else items[given[0]])
        item.ihook.pytest_runtest_protocol(item=item, nextitem=following)
        relay.send({"kind": "finish", "index": index})


class _Next:
    """The ``nextitem`` of a worker's scenario: the item it will run next, asked of the controller only
    when pytest first looks at it, in the scenario's teardown (to keep the fixtures the two share).

    Why not ask sooner: a worker that held its next scenario while it ran this one would keep it from
    every other worker, idle or not, for as long as this one takes. False when there is none: the
    scenario is the worker's last, and its teardown ends the session fixtures too.
    """

    _UNSET = object()

    def __init__(self, resolve) -> None:
        self._resolve = resolve
        self._item = self._UNSET

    def _get(self):
        if self._item is self._UNSET:
            self._item = self._resolve()
        return self._item

    def __bool__(self) -> bool:
        return self._get() is not None

    def __getattr__(self, name):
        return getattr(self._get(), name)
