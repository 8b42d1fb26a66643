"""``canvas-conformance run`` against a remote target never loads the mock (Flask, waitress, mock_server).

Why it matters: the mock is a separate peer, imported only when a run has no base URL; a run
against a real target must not pay for it, nor depend on it being importable.
"""
import subprocess
import sys

MOCK_MODULES = ("flask", "waitress", "mock_server")

PROBE = """\
import sys
from canvas_conformance import cli
try:
    code = cli.main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
print(sorted(name for name in {mods!r} if name in sys.modules))
sys.exit(code)
"""


def run_probe(argv, env):
    return subprocess.run([sys.executable, "-c", PROBE.format(mods=MOCK_MODULES), *argv],
                          capture_output=True, text=True, env=env, timeout=60)


def test_a_run_against_a_remote_target_imports_no_mock(free_port, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = run_probe(["run", "--base-url", f"http://127.0.0.1:{free_port}", "--token", "t",
                      "--report-dir", str(tmp_path / "r")], env)
    assert done.returncode == 2, done.stderr
    assert "cannot reach" in done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_the_probe_sees_the_mock_when_a_command_needs_it(tmp_path):
    """The same probe, on ``serve`` with a bad option: the handler imported the mock before refusing."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = run_probe(["serve", "--token-lifetime", "0", "--db", ":memory:"], env)
    assert done.returncode == 2, done.stderr
    assert done.stdout.strip() == str(sorted(MOCK_MODULES)), done.stdout
