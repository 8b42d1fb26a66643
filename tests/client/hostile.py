"""Hostile targets on loopback: a front of the mock that answers some requests in bad faith.

``Front`` listens on 127.0.0.1 (a free port), reads each request whole, and either hands it to
an attack (a function writing raw bytes to the socket: bombs, endless bodies, headers a byte
at a time) or forwards it to the mock behind it, one request per connection. Every request
it saw is kept (``seen``), so a test can say what a host received: a front that only forwards
is the "other host" a hostile ``next`` link or redirect names. Every connection ends within
``ATTACK_S`` and the front stops with its test (``stop``), so nothing outlives the test.

``run_measured`` runs ``canvas-conformance run`` in a fresh Python that reports the peak RSS
of everything it waited for (the runner and the suite's process), for the size attacks.
"""
from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, NamedTuple

ATTACK_S = 20.0  # no attack keeps a connection longer than this


class Seen(NamedTuple):
    method: str
    path: str
    headers: dict  # lower-cased names
    body: bytes


Attack = Callable[[socket.socket, Seen, threading.Event], None]


class Front:
    def __init__(self, backend: str | None, pick: Callable[[Seen], Attack | None] = lambda seen: None) -> None:
        self.backend = backend  # http://127.0.0.1:port of the mock, or None: answer 404 to anything not attacked
        self.pick = pick
        self.seen: list[Seen] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(32)
        self._listener.settimeout(0.1)
        host, port = self._listener.getsockname()
        self.base_url = f"http://{host}:{port}"
        self._start(self._accept_loop)

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self._start(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                seen = _read_request(conn)
                if seen is None:
                    return
                self.seen.append(seen)
                attack = self.pick(seen)
                if attack is not None:
                    attack(conn, seen, self._stop)
                elif self.backend is not None:
                    self._forward(conn, seen)
                else:
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                return

    def _forward(self, conn: socket.socket, seen: Seen) -> None:
        host, port = self.backend.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as up:
            head = [f"{seen.method} {seen.path} HTTP/1.1"]
            head += [f"{k}: {v}" for k, v in seen.headers.items() if k != "connection"]
            head.append("connection: close")
            up.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + seen.body)
            while chunk := up.recv(65536):
                conn.sendall(chunk)

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=ATTACK_S + 5)


def _read_request(conn: socket.socket) -> Seen | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Seen(method, path, headers, body)


# -- attacks ----------------------------------------------------------------------------------

def gzip_bomb(inflated_bytes: int) -> Attack:
    """A 200 whose gzip body is small (about a thousandth) and inflates to ``inflated_bytes``."""
    piece = gzip.compress(b"\0" * (8 << 20), 9)
    copies = max(1, inflated_bytes // (8 << 20))
    body = piece * copies  # gzip members one after another inflate to one body

    def attack(conn, seen, stop) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Encoding: gzip\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    return attack


def endless_body(most_bytes: int) -> Attack:
    """A chunked 200 that sends as fast as the client reads, for up to ``most_bytes`` (or ``ATTACK_S``)."""
    chunk = b" " * 65536
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"

    def attack(conn, seen, stop) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n"
                     b"Connection: close\r\n\r\n")
        sent, ends = 0, time.monotonic() + ATTACK_S
        while sent < most_bytes and time.monotonic() < ends and not stop.is_set():
            conn.sendall(framed)
            sent += len(chunk)
        conn.sendall(b"0\r\n\r\n")
    return attack


def padded(backend: str, extra_bytes: int) -> Attack:
    """The mock's own answer, its JSON object padded with a field of ``extra_bytes`` spaces."""
    def attack(conn, seen, stop) -> None:
        status, headers, body = _ask_backend(backend, seen)
        doc = json.loads(body)
        doc["padding"] = ""
        text = json.dumps(doc).encode()
        cut = text.rindex(b'""') + 1
        total = len(text) + extra_bytes
        conn.sendall(f"HTTP/1.1 {status} OK\r\nContent-Type: application/fhir+json\r\n"
                     f"Content-Length: {total}\r\nConnection: close\r\n\r\n".encode() + text[:cut])
        block = b" " * (1 << 20)
        left = extra_bytes
        while left > 0 and not stop.is_set():
            conn.sendall(block[:min(left, len(block))])
            left -= min(left, len(block))
        conn.sendall(text[cut:])
    return attack


def slow_headers(interval_s: float, most_s: float = 15.0) -> Attack:
    """The status line at once, then a header one byte every ``interval_s`` for ``most_s``, then a body."""
    def attack(conn, seen, stop) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        ends = time.monotonic() + min(most_s, ATTACK_S)
        while time.monotonic() < ends:
            if stop.wait(interval_s):
                return
            conn.sendall(b"a")
        conn.sendall(b"\r\nContent-Type: application/fhir+json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    return attack


def raw_answer(head: bytes, body: bytes = b"") -> Attack:
    def attack(conn, seen, stop) -> None:
        conn.sendall(head + b"\r\n\r\n" + body)
    return attack


def _ask_backend(backend: str, seen: Seen) -> tuple[int, dict, bytes]:
    host, port = backend.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as up:
        head = [f"{seen.method} {seen.path} HTTP/1.1"]
        head += [f"{k}: {v}" for k, v in seen.headers.items() if k not in ("connection", "accept-encoding")]
        head.append("connection: close")
        up.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + seen.body)
        data = b""
        while chunk := up.recv(65536):
            data += chunk
    head_text, _, body = data.partition(b"\r\n\r\n")
    status = int(head_text.split(b" ", 2)[1])
    return status, {}, body


# -- a run, measured ----------------------------------------------------------------------------

MEASURE = """
import resource, subprocess, sys, json
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "out": done.stdout, "err": done.stderr, "peak_kib": peak_kib}))
"""


class Measured(NamedTuple):
    code: int
    out: str
    err: str
    report: Path
    elapsed_s: float
    peak_mib: float  # the largest resident set of the runner or the suite's process

    @property
    def err_lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.strip()]

    def results(self) -> dict:
        return json.loads((self.report / "results.json").read_text(encoding="utf-8"))


def run_measured(command: str, base_url: str, client_id: str, client_secret: str, report: Path,
                 *args: str) -> Measured:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANVAS_")}
    env["CANVAS_CLIENT_SECRET"] = client_secret
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", MEASURE, command, "run", "--base-url", base_url,
                           "--client-id", client_id, "--report-dir", str(report), *args],
                          capture_output=True, text=True, env=env, timeout=150)
    outcome = json.loads(done.stdout)
    return Measured(outcome["code"], outcome["out"], outcome["err"], report, time.monotonic() - started,
                    outcome["peak_kib"] / 1024)
