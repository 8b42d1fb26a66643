"""Write the whole report folder from results.json and the catalogue, secrets scrubbed.

Why scrub here again when the results plugin already did: defence in depth. The
runner knows secrets the suite may not have passed on (the credentials it was given,
the token it probed with), and credentials found in the exchanges themselves
(``redact.harvest``) are scrubbed wherever else they were echoed. Every file's final
text is scrubbed once more before it touches the disk.

Why no file is written through a link: a report folder may be shared (a CI workspace, a
folder given with --report-dir), and a symlink planted at ``report.html`` or at the writer's
temporary file must not turn the write into one somewhere else. So each file is written to a
new temporary file the writer creates itself (``O_CREAT | O_EXCL``: never an existing name,
never through a link) and renamed over the name, which replaces a link rather than following
it; a file to scrub is opened with ``O_NOFOLLOW``.
"""
from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

from .. import cores
from ..redact import harvest, redact
from . import conformance_json, cucumber, har, html_page, junit, testreport
from .rows import Run, build_run, failing

REPORT_FILES = ("conformance.json", "report.html", "junit.xml", "cucumber.json", "testreport.json", "exchanges.har")


class Written(NamedTuple):
    run: Run
    files: tuple[Path, ...]
    failing: tuple[str, ...]  # rule IDs (or scenario names) that fail the run


def write_all(results: dict, out_dir: Path, *, secrets: Iterable[str] = (), strict: bool = False,
              harvested: bool = False) -> Written:
    """Build and write the report files (REPORT_FILES) into ``out_dir``; answer what was written.
    ``harvested``: ``secrets`` already hold what ``redact.harvest`` finds in ``results`` (the runner's)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    known = set(s for s in secrets if s) | (set() if harvested else harvest(results))
    run = build_run(redact(results, known))
    renderers = {
        "conformance.json": lambda: conformance_json.render(run, strict=strict),
        "report.html": lambda: html_page.render(run, strict=strict, base_dir=out_dir),
        "junit.xml": lambda: junit.render(run),
        "cucumber.json": lambda: cucumber.render(run, base_dir=out_dir),
        "testreport.json": lambda: testreport.render(run, strict=strict),
        "exchanges.har": lambda: har.render(run),
    }
    # the page takes about as long as every other file together: a copy of this process writes it
    # meanwhile, on another core; had it failed, it is written here, so its error is this process's
    aside = _in_a_fork(lambda: write_text(out_dir / ASIDE, renderers[ASIDE](), known))
    for name in REPORT_FILES:
        if name != ASIDE:
            write_text(out_dir / name, renderers[name](), known)
    if not aside():
        write_text(out_dir / ASIDE, renderers[ASIDE](), known)
    return Written(run, tuple(out_dir / name for name in REPORT_FILES), tuple(failing(run, strict=strict)))


ASIDE = "report.html"  # the file written by a fork of the process while it writes the others


def _in_a_fork(job) -> Callable[[], bool]:
    """Start ``job`` in a forked copy of this process; answer a wait that tells whether it succeeded.
    Where there is no fork, or it fails, nothing runs and the wait answers False at once."""
    if not hasattr(os, "fork") or cores.available() < 2:
        return lambda: False
    try:
        pid = os.fork()
    except OSError:
        return lambda: False
    if pid == 0:
        code = 1
        try:
            job()
            code = 0
        except BaseException:  # said again by the parent, which does the job itself
            pass
        finally:
            os._exit(code)

    def wait() -> bool:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return False
        return os.waitstatus_to_exitcode(status) == 0

    return wait



def write_text(path: Path, text: str, secrets: Iterable[str]) -> Path:
    """Write ``text`` scrubbed of ``secrets``, atomically (a reader never sees half a file), never through a
    link (the module's docstring says why)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(redact(text, secrets))
        os.chmod(tmp, 0o666 & ~_umask())  # as an ordinary write would make it (mkstemp makes 0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _read_no_follow(path: Path) -> str | None:
    """The text of the regular file at ``path``; None when there is none or it is a link."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # missing, or a link (ELOOP)
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read().decode("utf-8", errors="replace")


def scrub_file(path: Path, secrets: Iterable[str], *, harvested: bool = False) -> None:
    """Scrub a file someone else wrote (results.json, the pytest log) in place; a JSON file is searched for
    credentials too, unless ``harvested`` says ``secrets`` hold those of its parsed content already. A file
    with nothing to scrub is left as it is."""
    path = Path(path)
    text = _read_no_follow(path)
    if text is not None:
        known = set(s for s in secrets if s)
        if path.suffix == ".json" and not harvested:
            try:
                known |= harvest(json.loads(text))
            except ValueError:
                pass
        scrubbed = redact(text, known)
        if scrubbed != text:
            write_text(path, scrubbed, ())  # scrubbed already: one pass over the text, not two
