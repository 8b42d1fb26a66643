"""The built wheel is the whole tool: installed into a fresh virtualenv, it runs from any directory.

What a ``pipx install .`` gives: the wheel built from this checkout, installed into a virtualenv of
its own, used from a folder that has nothing of the checkout. The suite (features, steps), its
fixtures, the catalogue, schemas and the mock's templates must all come out of the wheel.

Offline by construction: the wheel is built with the setuptools already installed
(``--no-build-isolation``) and installed with ``--no-deps --no-index``; its dependencies are the
ones this virtualenv already holds, put on the new one's path by a ``.pth`` line. That line adds
their folder as a plain path, so the ``.pth`` files in it (this checkout's editable install among
them) are not processed: the harness and the mock are imported from the wheel only, which the
test checks.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import requests

from canvas_conformance.shipped import CHECKOUT

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "README.md", "canvas_conformance", "mock_server", "features", "steps", "fixtures")


def _run(argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel of this checkout installed; its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy, so the build's build/ and egg-info never land in the checkout
    for name in SOURCES:
        path = CHECKOUT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                  "--disable-pip-version-check", "-q", "-w", str(root / "dist"), str(source)])
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (root / "dist").glob("canvas_conformance-*.whl")
    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    Path(purelib, "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    done = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                 "--disable-pip-version-check", "-q", str(wheel)])
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin"


def _env() -> dict[str, str]:
    """The environment of a person's shell: nothing of this checkout or of the run's variables."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("CANVAS_")}


def test_the_wheel_carries_the_suite_and_is_imported_from_the_install(installed, tmp_path):
    found = _run([str(installed / "python"), "-c",
                  "import canvas_conformance, mock_server, canvas_conformance.shipped as s; "
                  "print(canvas_conformance.__file__); print(mock_server.DEFAULTS['PEOPLE_FILE']); "
                  "print(s.suite_root())"], cwd=tmp_path, env=_env())
    assert found.returncode == 0, found.stderr
    package, people, suite = found.stdout.split()
    venv = str(installed.parent)
    assert package.startswith(venv) and people.startswith(venv) and suite.startswith(venv)
    assert Path(suite, "steps", "conftest.py").is_file() and list(Path(suite, "features").glob("*.feature"))
    assert Path(suite, "fixtures", "communications.json").is_file() and Path(people).is_file()


def test_an_installed_run_from_another_folder_checks_the_embedded_mock(installed, tmp_path):
    listed = _run([str(installed / "canvas-conformance"), "run", "--list", "--tags", "api"], cwd=tmp_path, env=_env())
    assert listed.returncode == 0 and " 0 of 0 scenarios" not in listed.stdout, listed.stdout[-500:]
    done = _run([str(installed / "canvas-conformance"), "run", "--tags", "api", "-q"], cwd=tmp_path, env=_env())
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    doc = json.loads((tmp_path / "reports" / "latest" / "conformance.json").read_text(encoding="utf-8"))
    assert doc["summary"]["scenarios"]["passed"] > 50 and doc["summary"]["scenarios"]["failed"] == 0
    assert doc["summary"]["scenarios"]["error"] == 0
    rows = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text(encoding="utf-8"))["scenarios"]
    assert all(r["feature_file"].startswith("features/") for r in rows)


def test_an_installed_serve_answers_metadata(installed, tmp_path):
    server = subprocess.Popen([str(installed / "canvas-conformance"), "serve", "--port", "0", "--db", ":memory:"],
                              cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = []  # the access log may show serve's own readiness probe before the banner
        for _ in range(20):
            seen.append(server.stdout.readline())
            if seen[-1].startswith("Canvas mock server at http://127.0.0.1:") or not seen[-1]:
                break
        assert seen[-1].startswith("Canvas mock server at http://127.0.0.1:"), "".join(seen)
        url = seen[-1].split(" at ", 1)[1].strip()
        answer = requests.get(f"{url}/metadata", timeout=10)
        assert answer.status_code == 200 and answer.json()["resourceType"] == "CapabilityStatement"
        token = requests.post(f"{url}/auth/token/", timeout=10, data={
            "grant_type": "client_credentials", "client_id": "conformance-client",
            "client_secret": "conformance-secret"}).json()["access_token"]
        patients = requests.get(f"{url}/Patient", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert patients.status_code == 200 and patients.json()["entry"]  # the shipped people.json
    finally:
        server.terminate()
        server.wait(timeout=10)
