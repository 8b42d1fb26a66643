"""What every benchmark needs: servers in subprocesses on loopback, wrk runs, RSS, the machine's description.

Numbers come from wrk (a C load generator: it costs the machine far less than the Python server
it measures, and reports latency percentiles from every request). Each run is bounded twice:
by wrk's ``-d`` duration and by a request count after which the Lua script stops each thread.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WRK_SCRIPT = BENCH / "wrk" / "request.lua"
SERVE = str(Path(sys.executable).with_name("canvas-conformance"))
URL_LINE = re.compile(r"at (http://127\.0\.0\.1:\d+)")
CLIENT = {"client_id": "conformance-client", "client_secret": "conformance-secret"}


class WrkResult(NamedTuple):
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors_status: int
    errors_socket: int


class Server(NamedTuple):
    """A server process started by a benchmark; ``stop()`` ends it (SIGTERM, then SIGKILL)."""

    base_url: str
    process: subprocess.Popen

    def pids(self) -> list[int]:
        """The server process and its descendants (granian's and gunicorn's workers)."""
        return process_tree(self.process.pid)

    def rss_kib(self) -> int:
        """Resident memory of the server and its workers, summed."""
        return sum(_status_field(pid, "VmRSS") for pid in self.pids())

    def peak_rss_kib(self) -> int:
        return sum(_status_field(pid, "VmHWM") for pid in self.pids())

    def cpu_seconds(self) -> float:
        """User + system CPU the server process and its workers have used so far (all their threads)."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def process_tree(root: int) -> list[int]:
    """``root`` and every process descending from it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_on_port(command: list[str], port: int, *, timeout: float = 60, env: dict | None = None,
                  ready_path: str = "/metadata") -> Server:
    """Start a server told to listen on ``port``; returns once it answers ``ready_path``."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            requests.get(base_url + ready_path, timeout=2)
            return Server(base_url, process)
        except requests.RequestException:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{command[0]} did not start")


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's package when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print("installing Debian's wrk (the load generator)", flush=True)
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def start(command: list[str], *, timeout: float = 60, env: dict | None = None) -> Server:
    """Start a server that prints ``... at http://127.0.0.1:PORT`` on its first lines."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = URL_LINE.search(line)
        if match:
            return Server(match.group(1), process)
    process.kill()
    raise RuntimeError(f"{command[0]} did not start")


def start_mock(db: str, *extra: str, env: dict | None = None) -> Server:
    return start([SERVE, "serve", "--host", "127.0.0.1", "--port", "0", "--db", db, *extra], env=env)


def start_bare_flask(*extra: str) -> Server:
    """bench/bare_flask.py: a Flask app that does no work, on serve's granian settings."""
    return start([sys.executable, str(BENCH / "bare_flask.py"), "--port", "0", *extra])


def start_gunicorn_mock(db: str, workers: int = 3) -> Server:
    """The mock's own app under gunicorn's sync workers (the database prepared first, as serve does)."""
    from mock_server import create_app

    create_app({"DATABASE": db}).extensions["mock_store"].close()
    port = free_port()
    env = {**os.environ, "CANVAS_MOCK_CONFIG": json.dumps({"DATABASE": db})}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    return start_on_port([gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                          "mock_server.wsgi:from_environment()"], port, env=env)


def wrk_with_cpu(server: Server, url: str, **options) -> dict:
    """One ``wrk`` run against ``server`` (see ``wrk``), plus the server's CPU per answered request.

    Why: on a small box shared with other work, requests/s moves with the load average; the CPU
    the server spent per request moves far less (it is what the code costs, plus what sharing the
    cores with wrk costs it).
    """
    before = server.cpu_seconds()
    result = wrk(url, **options)._asdict()
    result["server_cpu_us"] = (server.cpu_seconds() - before) / max(result["requests"], 1) * 1e6
    return result


def token(base_url: str) -> str:
    answer = requests.post(f"{base_url}/auth/token/", data={"grant_type": "client_credentials", **CLIENT}, timeout=10)
    answer.raise_for_status()
    return answer.json()["access_token"]


def wrk(url: str, *, method: str = "GET", path: str = "/", token_value: str = "", body_file: str = "",
        connections: int = 1, seconds: float = 3, max_requests: int = 200_000) -> WrkResult:
    """One bounded wrk run: ``connections`` keep-alive connections on one wrk thread.

    ``max_requests`` is a safety bound above what the server can reach in ``seconds`` (wrk counts
    requests/s over the whole duration, so a run the cap stopped early would understate it).
    """
    env = {**os.environ, "BENCH_METHOD": method, "BENCH_PATH": path, "BENCH_TOKEN": token_value,
           "BENCH_BODY_FILE": body_file, "BENCH_MAX_REQUESTS": str(max_requests)}
    done = subprocess.run([ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
                           "-s", str(WRK_SCRIPT), url], env=env, capture_output=True, text=True,
                          timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return WrkResult(**json.loads(line[len("BENCH_JSON "):]))
    raise RuntimeError(f"wrk gave no result: {done.stdout[-500:]} {done.stderr[-500:]}")


def machine() -> dict:
    """Cores, memory, CPU model, Python and the date, for the top of RESULTS.md."""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total_kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) if meminfo else 0
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    wrk_version = subprocess.run([ensure_wrk(), "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    import sqlite3

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": model.group(1).strip() if model else platform.processor() or "unknown",
        "memory_gib": round(total_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
        "wrk": wrk_version.strip(),
        "load": load_average(),
    }


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on the box makes every figure here slower."""
    path = Path("/proc/loadavg")
    return " / ".join(path.read_text().split()[:3]) if path.exists() else "unknown"


def _status_field(pid: int, name: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{name}:\s+(\d+)", text).group(1))


def fixture_message(name: str = "practitioner_to_patient") -> dict:
    data = json.loads((ROOT / "fixtures" / "communications.json").read_text())
    return data[name]


def people() -> dict:
    return json.loads((ROOT / "fixtures" / "people.json").read_text())
