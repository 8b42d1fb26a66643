"""The suite's child process: its command line, its environment, and the pipe its progress comes back on.

The child is ``python -m pytest`` on the suite's steps with the results, progress and workers
plugins; with more than one worker, ``--canvas-workers N`` forks that many copies of it once it has
collected the suite (``workers``; steps/conftest.py keeps the scenarios that hold the whole target
to one worker and to themselves).
Its configuration is the runner's resolved record in one variable (``config.RUN_CONFIG_ENV``);
the option variables of the runner's own environment are taken out of the child's, so nothing
in the child can read a value the record does not hold. Its output goes to pytest.log in the
report folder, scrubbed of the runner's secrets; its progress events come back, one JSON
object a line, on a pipe whose descriptor it finds in ``progress.FD_ENV``.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple

from . import config, cores
from .errors import UsageError
from .redact import redact
from . import progress
from .report.writer import write_text

RESULTS_PLUGIN = "canvas_conformance.results_plugin"
PROGRESS_PLUGIN = "canvas_conformance.progress"
WORKERS_PLUGIN = "canvas_conformance.workers"
PYTEST_INI = Path(__file__).with_name("suite_pytest.ini")
PYTEST_CONFIG_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
GRACE_S = 5.0  # an interrupted suite's time to finish its step and write results.json before it is killed


class Interrupted(BaseException):
    """SIGINT or SIGTERM reached the runner. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way swallows it; ``code`` is the shell's exit code for the signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.code = 128 + signum


@contextlib.contextmanager
def interruptible():
    """While in force, SIGINT (Ctrl-C) and SIGTERM (a CI cancel) raise ``Interrupted`` in this thread.

    Why SIGTERM too: its default ends the runner at once, before it can stop the suite, write the
    report of what ran and point reports/latest at it. Signal handlers can only be set from the main
    thread; elsewhere (a test calling the runner in a thread) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Finished(NamedTuple):
    """How the suite's process ended: pytest's exit code, and the signal that cut the run short, if any."""

    rc: int
    interrupted: Interrupted | None = None


def command(steps_dir: Path, tags: str | None, nodeids: list[str] | None = None, *,
            workers: int = 1) -> list[str]:
    """The child's command line. Its rootdir is the suite folder (feature paths in results.json are
    relative to it). A suite folder with a pytest configuration of its own (the checkout's
    pyproject.toml, a --suite folder's pytest.ini) keeps it; one without (the installed suite) gets
    this package's, since pytest would otherwise take the first one above it, which for an
    installed tool is whatever project happens to hold the virtualenv. ``nodeids`` (relative to the
    suite folder, as results.json has them) run only those scenarios instead of the whole steps folder."""
    suite = steps_dir.resolve().parent
    targets = [str(steps_dir)] if not nodeids else [f"{suite / path}::{rest}" if rest else str(suite / path)
                                                    for path, _, rest in (n.partition("::") for n in nodeids)]
    argv = [sys.executable, "-m", "pytest", *targets, "--rootdir", str(suite)]
    if not any((suite / name).is_file() for name in PYTEST_CONFIG_FILES):
        argv += ["-c", str(PYTEST_INI)]
    # no:unraisableexception: that plugin runs a full garbage collection as the session ends, over
    # every exchange the run recorded (about 0.3 s of a default run), to find exceptions raised in
    # finalizers; the run's verdicts and report do not come from pytest's warnings.
    # the workers plugin first: the other two import it, and a module named by -p after it was
    # imported draws pytest's warning that it cannot be rewritten
    argv += ["-p", "pytest_bdd.plugin", "-p", WORKERS_PLUGIN, "-p", RESULTS_PLUGIN, "-p", PROGRESS_PLUGIN,
             "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-q", "--color=no"]
    if workers > 1:
        argv += ["--canvas-workers", str(workers)]
    return argv + ["-m", tags] if tags else argv


REMOTE_WORKERS = 16  # a target across a network: exchanges wait on its latency, so they overlap
LOOPBACK_WORKERS = 2  # a target on this machine: one worker a core, the target sharing them


def workers_for(record: config.RunConfig) -> int:
    """The number of workers: as configured, else ``REMOTE_WORKERS`` for a target elsewhere, and on
    loopback (the embedded mock answers in about a millisecond, so workers only help while they have
    a core each) ``LOOPBACK_WORKERS`` or the cores this process may use, the fewer. A worker is a fork
    of the suite's process once it has collected the suite (``workers``), so it costs little to start."""
    if record.workers is not None:
        return record.workers
    from .preflight import is_loopback

    if record.base_url is None or is_loopback(record.base_url):
        return min(LOOPBACK_WORKERS, cores.available())
    return REMOTE_WORKERS


REMOTE_CASES_AT_ONCE = 4  # explored cases whose requests overlap, in each worker, against a distant target


def cases_at_once_for(record: config.RunConfig) -> int:
    """Explored cases sent ahead at once: as configured, else 1 on loopback (the embedded mock answers in
    about a millisecond on one thread: threads would only take turns) and ``REMOTE_CASES_AT_ONCE`` elsewhere."""
    if record.cases_at_once is not None:
        return record.cases_at_once
    from .preflight import is_loopback

    return 1 if record.base_url is None or is_loopback(record.base_url) else REMOTE_CASES_AT_ONCE


def child_env(record: config.RunConfig) -> dict[str, str]:
    """This process's environment with ``record`` as the child's one configuration."""
    env = {name: value for name, value in os.environ.items()
           if name not in {o.var for o in config.OPTIONS}}
    env[config.RUN_CONFIG_ENV] = record.to_json()
    # Only the plugins the suite needs (pytest-bdd, named on the command line, and what steps/conftest.py
    # declares): other installed plugins (hypothesis, schemathesis...) cost over a second to import
    # at every start (bench/RESULTS-suite.md) and have no business in a conformance run.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # the suite's folder makes its ``steps`` importable as a package, also where pytest would not
    # put it on the path itself; this package's parent makes the harness importable from a checkout
    package_parent = str(Path(__file__).resolve().parent.parent)
    paths = dict.fromkeys(p for p in (str(record.suite), package_parent, env.get("PYTHONPATH")) if p)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run(record: config.RunConfig, *, steps_dir: Path, log_file: Path, display,
        secrets: tuple[str, ...], nodeids: list[str] | None = None) -> Finished:
    """Run the suite on ``record``; feed its progress events to ``display``; how it ended.

    On ``Interrupted`` (or a KeyboardInterrupt) the child is sent one SIGINT: pytest stops the
    scenario it is in, tears down and writes results.json of what ran, so the runner can still
    write the report. It is killed if it has not ended within GRACE_S, or at a second signal.
    The child runs in a session of its own, so a Ctrl-C on the terminal reaches the runner only
    and the child is asked exactly once.
    """
    env = child_env(record)
    read_fd, write_fd = os.pipe()
    env[progress.FD_ENV] = str(write_fd)
    log = tempfile.TemporaryFile(mode="w+b")
    try:
        child = subprocess.Popen(command(steps_dir, record.tags, nodeids, workers=workers_for(record)), cwd=record.suite, env=env,
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 pass_fds=(write_fd,), start_new_session=True)
    except OSError as err:
        os.close(read_fd)
        raise UsageError(f"cannot start the suite ({sys.executable} -m pytest): {err.strerror or err}") from None
    finally:
        os.close(write_fd)
    interrupted: Interrupted | None = None
    killer: threading.Timer | None = None
    try:
        with os.fdopen(read_fd, "r", encoding="utf-8", errors="replace") as events:
            while True:
                try:
                    for line in events:
                        _feed(display, line, secrets)
                    rc = child.wait()
                    break
                except (Interrupted, KeyboardInterrupt) as signalled:
                    if interrupted is None:
                        interrupted = signalled if isinstance(signalled, Interrupted) else Interrupted(signal.SIGINT)
                        display.interrupted(interrupted.name)
                        _signal(child, signal.SIGINT)
                        killer = threading.Timer(GRACE_S, _signal, (child, signal.SIGKILL))
                        killer.daemon = True
                        killer.start()
                    else:  # asked again: stop now
                        _signal(child, signal.SIGKILL)
    finally:
        if killer is not None:
            killer.cancel()
        if child.poll() is None:  # only if something above failed unexpectedly
            _signal(child, signal.SIGKILL)
            child.wait()
        display.close()
        log.seek(0)
        text = log.read().decode("utf-8", errors="replace")
        log.close()
        write_text(log_file, text, secrets)
    return Finished(rc, interrupted)


def _feed(display, line: str, secrets: tuple[str, ...]) -> None:
    try:
        event = json.loads(line)
    except ValueError:
        return
    # the suite scrubs its own tokens from what it reports; these are the runner's
    display.feed(redact(event, secrets))


def _signal(child: subprocess.Popen, sig: int) -> None:
    """SIGINT to the suite's process (it passes it on to its workers); SIGKILL to its whole process
    group, its forked workers with it (the child leads a session and group of its own)."""
    try:
        if sig == signal.SIGKILL:
            os.killpg(child.pid, sig)
        else:
            child.send_signal(sig)
    except OSError:  # it has already ended
        pass


def first_problem(log_file: Path) -> str:
    """The most telling line of the pytest log, for the one-line error."""
    try:
        lines = [ln.strip() for ln in log_file.read_text(encoding="utf-8").splitlines()]
    except OSError:
        return "no output"
    for prefix in ("E   ", "ERROR", "ImportError", "ModuleNotFoundError"):
        for ln in lines:
            if ln.startswith(prefix):
                return ln.removeprefix("E").strip()[:160]
    lines = [ln for ln in lines if ln]
    return lines[-1][:160] if lines else "no output"
