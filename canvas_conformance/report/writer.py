"""Write the whole report folder from results.json and the catalogue, secrets scrubbed.

Why scrub here again when the results plugin already did: defence in depth. The
runner knows secrets the suite may not have passed on (the credentials it was given,
the token it probed with), and credentials found in the exchanges themselves
(``redact.harvest``) are scrubbed wherever else they were echoed. Every file's final
text is scrubbed once more before it touches the disk.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, NamedTuple

from ..redact import harvest, redact
from . import conformance_json, cucumber, har, html_page, junit, testreport
from .rows import Run, build_run, failing

REPORT_FILES = ("conformance.json", "report.html", "junit.xml", "cucumber.json", "testreport.json", "exchanges.har")


class Written(NamedTuple):
    run: Run
    files: tuple[Path, ...]
    failing: tuple[str, ...]  # rule IDs (or scenario names) that fail the run


def write_all(results: dict, out_dir: Path, *, secrets: Iterable[str] = (), strict: bool = False) -> Written:
    """Build and write the report files (REPORT_FILES) into ``out_dir``; answer what was written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    known = set(s for s in secrets if s) | harvest(results)
    run = build_run(redact(results, known))
    texts = {
        "conformance.json": conformance_json.render(run, strict=strict),
        "report.html": html_page.render(run, strict=strict, base_dir=out_dir),
        "junit.xml": junit.render(run),
        "cucumber.json": cucumber.render(run, base_dir=out_dir),
        "testreport.json": testreport.render(run, strict=strict),
        "exchanges.har": har.render(run),
    }
    files = tuple(write_text(out_dir / name, texts[name], known) for name in REPORT_FILES)
    return Written(run, files, tuple(failing(run, strict=strict)))


def write_text(path: Path, text: str, secrets: Iterable[str]) -> Path:
    """Write ``text`` scrubbed of ``secrets``, atomically (a reader never sees half a file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(redact(text, secrets), encoding="utf-8")
    os.replace(tmp, path)
    return path


def scrub_file(path: Path, secrets: Iterable[str]) -> None:
    """Scrub a file someone else wrote (results.json, the pytest log) in place."""
    path = Path(path)
    if path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace")
        known = set(s for s in secrets if s)
        if path.suffix == ".json":
            try:
                known |= harvest(json.loads(text))
            except ValueError:
                pass
        write_text(path, text, known)
