"""The suite's child process: its command line, its environment, and the pipe its progress comes back on.

The child is ``python -m pytest`` on the suite's steps with the results and progress plugins,
and with more than one worker pytest-xdist's ``-n N --dist loadgroup`` (steps/conftest.py keeps
the scenarios that hold the whole target to one worker and to themselves).
Its configuration is the runner's resolved record in one variable (``config.RUN_CONFIG_ENV``);
the option variables of the runner's own environment are taken out of the child's, so nothing
in the child can read a value the record does not hold. Its output goes to pytest.log in the
report folder, scrubbed of the runner's secrets; its progress events come back, one JSON
object a line, on a pipe whose descriptor it finds in ``progress.FD_ENV``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import config
from .errors import UsageError
from .redact import redact
from . import progress
from .report.writer import write_text

RESULTS_PLUGIN = "canvas_conformance.results_plugin"
PROGRESS_PLUGIN = "canvas_conformance.progress"


REMOTE_WORKERS = 8  # a target across a network: exchanges wait on its latency, so they overlap


def workers_for(record: config.RunConfig) -> int:
    """The number of workers: as configured, else 1 on loopback (the embedded mock answers in about a
    millisecond, so more processes only add their start-up) and ``REMOTE_WORKERS`` elsewhere."""
    if record.workers is not None:
        return record.workers
    from .preflight import is_loopback

    return 1 if record.base_url is None or is_loopback(record.base_url) else REMOTE_WORKERS


def command(steps_dir: Path, tags: str | None, workers: int = 1) -> list[str]:
    argv = [sys.executable, "-m", "pytest", str(steps_dir), "-p", "pytest_bdd.plugin", "-p", RESULTS_PLUGIN,
            "-p", PROGRESS_PLUGIN, "-p", "no:cacheprovider", "-q", "--color=no"]
    if workers > 1:
        argv += ["-p", "xdist.plugin", "-n", str(workers), "--dist", "loadgroup"]
    return argv + ["-m", tags] if tags else argv


def child_env(record: config.RunConfig) -> dict[str, str]:
    """This process's environment with ``record`` as the child's one configuration."""
    env = {name: value for name, value in os.environ.items()
           if name not in {o.var for o in config.OPTIONS}}
    env[config.RUN_CONFIG_ENV] = record.to_json()
    # Only the plugins the suite needs (pytest-bdd, named on the command line, and what steps/conftest.py
    # declares): other installed plugins (hypothesis, schemathesis...) cost over a second to import
    # at every start (bench/RESULTS-suite.md) and have no business in a conformance run.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    package_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


def run(record: config.RunConfig, *, steps_dir: Path, log_file: Path, display, secrets: tuple[str, ...]) -> int:
    """Run the suite on ``record``; feed its progress events to ``display``; pytest's exit code."""
    env = child_env(record)
    read_fd, write_fd = os.pipe()
    env[progress.FD_ENV] = str(write_fd)
    log = tempfile.TemporaryFile(mode="w+b")
    try:
        child = subprocess.Popen(command(steps_dir, record.tags, workers_for(record)), cwd=record.suite, env=env,
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 pass_fds=(write_fd,))
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
                display.feed(redact(event, secrets))
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
        write_text(log_file, text, secrets)
    return rc


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
