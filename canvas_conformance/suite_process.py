"""The suite's child process: its command line, its environment, and the pipe its progress comes back on.

The child is ``python -m pytest`` on the suite's steps with the results and progress plugins.
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
PYTEST_INI = Path(__file__).with_name("suite_pytest.ini")


def command(steps_dir: Path, tags: str | None) -> list[str]:
    """The child's command line; its rootdir is the suite folder (feature paths in results.json are
    relative to it) and its configuration this package's, wherever the suite is installed."""
    suite = steps_dir.resolve().parent
    argv = [sys.executable, "-m", "pytest", str(steps_dir), "-c", str(PYTEST_INI), "--rootdir", str(suite),
            "-p", "pytest_bdd.plugin", "-p", RESULTS_PLUGIN, "-p", PROGRESS_PLUGIN, "-p", "no:cacheprovider",
            "-q", "--color=no"]
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
    # the suite's folder makes its ``steps`` importable as a package, also where pytest would not
    # put it on the path itself; this package's parent makes the harness importable from a checkout
    package_parent = str(Path(__file__).resolve().parent.parent)
    paths = dict.fromkeys(p for p in (str(record.suite), package_parent, env.get("PYTHONPATH")) if p)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run(record: config.RunConfig, *, steps_dir: Path, log_file: Path, display, secrets: tuple[str, ...]) -> int:
    """Run the suite on ``record``; feed its progress events to ``display``; pytest's exit code."""
    env = child_env(record)
    read_fd, write_fd = os.pipe()
    env[progress.FD_ENV] = str(write_fd)
    log = tempfile.TemporaryFile(mode="w+b")
    try:
        child = subprocess.Popen(command(steps_dir, record.tags), cwd=record.suite, env=env,
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
