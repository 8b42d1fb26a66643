"""The live progress of a run: one event per scenario, from the suite's process to the runner's screen.

Two halves in one module because they speak one tiny protocol (a JSON object per line):
- ``Emitter``, a pytest plugin loaded into the suite's process (``-p
  canvas_conformance.progress``). It writes to the pipe whose file descriptor
  the runner passed in ``CANVAS_PROGRESS_FD``, and does nothing when that is unset,
  so a plain ``pytest steps`` run is untouched.
- ``Display``, in the runner: on a real terminal a Rich progress bar with the counts
  by status in colour (failures printed above it in colour); on anything else that
  says it is a terminal, one line rewritten in place; otherwise (a log, CI) one plain
  line per scenario with no escape codes; nothing when quiet. ``NO_COLOR`` or
  ``TERM=dumb`` turn the Rich display off.

With workers (``workers``) each worker's ``Emitter`` works out its scenarios' events, sends
nothing itself and attaches each to the scenario's teardown report; the controller, which holds the
pipe, sends them as the reports arrive, so the runner sees one whole stream at any number of
workers (in the order scenarios finish: it is live progress, not the report).

The statuses here are a live estimate; the report's verdicts come from results.json.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from typing import IO

import pytest

from . import catalogue, results, workers

FD_ENV = "CANVAS_PROGRESS_FD"
EVENT_ATTR = "canvas_progress"  # a teardown report's attribute carrying its scenario's event


class Emitter:
    """Sends ``collected`` then one ``scenario`` event per test as it finishes (in a worker, only
    attaches each event to the scenario's teardown report)."""

    def __init__(self, stream: IO[str], config: pytest.Config):
        self.stream = stream
        self.config = config
        self.seen: dict[str, dict] = {}
        self.rule_ids: frozenset[str] = frozenset()
        try:
            self.rule_ids = frozenset(catalogue.all_rule_ids())
        except Exception:  # the catalogue is optional here: progress must never break a run
            pass

    def _send(self, event: dict) -> None:
        if workers.is_worker(self.config):  # the controller sends it, from the teardown report
            return
        try:
            self.stream.write(json.dumps(event) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # the runner went away: keep testing, stop telling
            pass

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session) -> None:
        self._send({"event": "collected", "count": len(session.items)})

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        entry = self.seen.setdefault(item.nodeid, {
            "event": "scenario", "nodeid": item.nodeid, "name": _scenario_name(item),
            "rules": [m.name for m in item.iter_markers() if m.name in self.rule_ids],
            "status": "passed", "message": None,
        })
        exception = call.excinfo.value if call.excinfo is not None else None
        if report.failed:
            status = results.failure_status(exception, during_call=call.when == "call", rules=entry["rules"])
            seen = call.when == "call" and results.observation(exception, entry["rules"])
            text = results.not_checked(exception) if seen else \
                str(exception) if exception is not None else ""
            message = text.splitlines()[0][:200] if text else None
            if results.outranks(status, entry["status"]):  # teardown never hides a failure
                entry["status"], entry["message"] = status, message
        elif report.skipped:  # a skip happens once, before anything could fail
            reason = results.skip_reason(report, exception)
            entry["status"] = results.skip_status(reason)
            entry["message"] = reason.splitlines()[0][:200] if reason else None
        if call.when == "teardown":
            setattr(report, EVENT_ATTR, self.seen.pop(item.nodeid))
        return report

    def pytest_runtest_logreport(self, report) -> None:
        """The scenario's event, from this process or from a worker, once its teardown is reported."""
        event = getattr(report, EVENT_ATTR, None)
        if report.when == "teardown" and isinstance(event, dict):
            self._send(event)
        elif report.when == workers.LOST:  # its worker stopped while it held it (results.json has it as error)
            self._send({"event": "scenario", "nodeid": report.nodeid, "name": report.nodeid.split("::")[-1],
                        "rules": [k for k in (getattr(report, "keywords", None) or {}) if k in self.rule_ids],
                        "status": "error", "message": "the worker running this scenario stopped before it ended"})

    def pytest_unconfigure(self, config) -> None:
        try:
            self.stream.close()
        except OSError:
            pass


def _scenario_name(item) -> str:
    """The scenario's name as results.json gives it, falling back to the test's."""
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry
        template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))
        if template is None:
            return item.name
        example = getattr(getattr(item, "callspec", None), "params", {}).get("_pytest_bdd_example")
        return results.scenario_name(template, example)
    except Exception:
        return item.name


def pytest_configure(config) -> None:
    fd = os.environ.get(FD_ENV)
    if fd and fd.isdigit():
        try:
            stream = os.fdopen(int(fd), "w", buffering=1, encoding="utf-8")
        except OSError:
            return
        config.pluginmanager.register(Emitter(stream, config), "canvas-conformance-progress")


class Display:
    """What the person running the suite sees while it runs (on stderr)."""

    SYMBOL = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "manual": "manual", "skipped": "skip"}

    def __init__(self, stream: IO[str] | None = None, *, quiet: bool = False, live: bool | None = None,
                 rich: bool | None = None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = _isatty(self.stream) if live is None else live
        self.total: int | None = None
        self.done = 0
        self.tally: dict[str, int] = {s: 0 for s in results.PRECEDENCE}
        self._dirty = False
        use_rich = (self.live and _real_terminal(self.stream)) if rich is None else rich
        self._rich = _RichBar(self.stream) if use_rich and not quiet else None

    def feed(self, event: dict) -> None:
        if event.get("event") == "collected":
            self.total = int(event.get("count") or 0)
            if self._rich is not None:
                self._rich.collected(self.total)
            return
        if event.get("event") != "scenario":
            return
        self.done += 1
        status = event.get("status") if event.get("status") in self.tally else "error"
        self.tally[status] += 1
        if self.quiet:
            return
        width = len(str(self.total or self.done))
        counter = f"[{self.done:>{width}}/{self.total}]" if self.total else f"[{self.done}]"
        rules = " ".join(event.get("rules") or []) or "-"
        line = f"{counter} {self.SYMBOL[status]:<6} {rules}  {event.get('name') or event.get('nodeid')}"
        if status in results.FAILING and event.get("message"):
            line += f"  ({event['message']})"
        if self._rich is not None:
            self._rich.scenario(status, line, self.tally, event.get("name") or "")
            return
        if not self.live:
            self.stream.write(line + "\n")
        elif status in results.FAILING:
            self._clear()
            self.stream.write(line + "\n")
            self._status_line(event)
        else:
            self._status_line(event)
        self.stream.flush()

    def _status_line(self, event: dict) -> None:
        cols = shutil.get_terminal_size((100, 20)).columns
        counts = " ".join(f"{n} {s}" for s, n in self.tally.items() if n)
        text = f"{self.done}/{self.total or '?'} scenarios: {counts} | {event.get('name') or ''}"
        self.stream.write("\r\x1b[2K" + text[: max(cols - 1, 10)])
        self._dirty = True

    def _clear(self) -> None:
        if self._dirty:
            self.stream.write("\r\x1b[2K")
            self._dirty = False

    def interrupted(self, signal_name: str) -> None:
        """The runner got SIGINT/SIGTERM: say so at once, since the suite takes a moment to stop."""
        if self._rich is not None:
            self._rich.note(f"{signal_name}: stopping the suite after its current step; writing the report "
                            "of what ran")
            return
        self._clear()
        self.stream.write(f"{signal_name}: stopping the suite after its current step; writing the report "
                          "of what ran\n")
        self.stream.flush()

    def close(self) -> None:
        if self._rich is not None:
            self._rich.close()
            self._rich = None
            return
        if self.live and self._dirty:
            self.stream.write("\n")
            self.stream.flush()
            self._dirty = False


class _RichBar:
    """The Rich view: a progress bar with the counts by status, failures printed above it."""

    STYLE = {"passed": "green", "failed": "bold red", "error": "bold yellow", "manual": "cyan", "skipped": "dim"}

    def __init__(self, stream: IO[str]):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(file=stream, highlight=False)
        self.bar = Progress(TextColumn("[bold]scenarios"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
                            TextColumn("[dim]{task.fields[current]}"), console=self.console)
        self.task = self.bar.add_task("scenarios", total=None, counts="", current="")
        self.bar.start()

    def collected(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def scenario(self, status: str, line: str, tally: dict[str, int], name: str) -> None:
        from rich.markup import escape
        from rich.text import Text

        if status in results.FAILING:
            self.bar.console.print(Text(line, style=self.STYLE[status]))
        counts = " ".join(f"[{self.STYLE[s]}]{n} {s}[/]" for s, n in tally.items() if n)
        self.bar.update(self.task, advance=1, counts=counts, current=escape(name[:60]))

    def note(self, text: str) -> None:
        from rich.text import Text

        self.bar.console.print(Text(text, style="bold"))

    def close(self) -> None:
        self.bar.update(self.task, current="")
        self.bar.stop()


def _real_terminal(stream) -> bool:
    """A terminal a person looks at: a tty file descriptor, colour not refused (NO_COLOR, TERM=dumb)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
