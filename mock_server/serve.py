"""Serving the mock: granian worker processes for ``serve``, waitress in a thread for embedding.

``serve`` (``serve_workers``): granian, a WSGI server whose sockets, HTTP parsing and
keep-alive live in Rust (hyper on tokio) outside the GIL, with N worker processes sharing one
SQLite WAL file. Why: measured side by side in one run (bench/RESULTS.md), waitress's single
I/O thread and its worker threads convoy on the GIL, so its CPU per request rose several times
with concurrency; one process can only ever use one core. Granian with one process per core
beat gunicorn's sync workers at 32 connections, and (unlike sync workers, which hold a process
per connection) a slow or idle client costs it a tokio task, not a worker: it has a header read
deadline of its own (``HEADER_READ_TIMEOUT_MS``).

Embedding, in a background thread of the caller's process on a free loopback port, two ways:
``start_in_thread``, waitress (the tests' servers), and ``start_per_connection``, a thread per
connection (Werkzeug's threaded server, which Flask brings), which is how the conformance runner
embeds its mock. Why the runner's differs: its requests come a few at a time, each on a
connection of its own (``_QuietHandler``), and waitress hands each one from its I/O thread to a worker thread and the answer back,
two switches under the GIL and an event loop polling every channel; a thread per connection
reads, answers and writes in the one thread, at about a third of the CPU on a default API run
(bench/RESULTS-suite.md).
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Callable, NamedTuple

from flask import Flask
from waitress.server import create_server
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler


class RunningServer(NamedTuple):
    """A mock served in a background thread; ``stop()`` closes it."""

    base_url: str
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        """Stop serving and close every connection; for waitress see ``_stop_waitress``."""
        if isinstance(self.server, ConnectionThreads):
            self.server.stop()
        else:
            self._stop_waitress()

    def _stop_waitress(self) -> None:
        """Let the workers finish, close the sockets from inside the server's own loop, wait for it.

        Order matters twice. Workers first: a worker finishing a request wakes the loop through
        waitress's trigger pipe, so closing the trigger while one still runs made it fail with
        EBADF. Then the sockets, from the loop thread: closing them from this thread raced the
        loop's ``select()`` on the same descriptors. A thunk passed to the trigger runs in the loop
        thread; once every socket is closed the map is empty and the loop ends.
        """
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        if self.thread.is_alive():
            from waitress import wasyncore

            try:
                self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
            except OSError:
                # The trigger is closed already: the loop is ending (or died on that descriptor).
                # Waiting for the thread is all that is left.
                pass
            self.thread.join(timeout=10)
        if self.thread.is_alive():  # the loop did not stop in time: close from here after all
            self.server.close()


def make_server(app: Flask, *, host: str = "127.0.0.1", port: int = 8000, threads: int = 8,
                loop_timeout: float = 1.0):
    """A waitress server bound to ``host:port`` (port 0: a free one); not yet serving.

    ``loop_timeout`` is how long the event loop sleeps when idle, which is also how long
    ``close()`` from another thread may wait for the loop to notice.
    """
    return create_server(app, host=host, port=port, threads=threads, ident="canvas-mock",
                         clear_untrusted_proxy_headers=True, channel_timeout=30,
                         asyncore_loop_timeout=loop_timeout)


def bound_url(server) -> str:
    host, port = server.socket.getsockname()[:2]
    return f"http://{host}:{port}"


def start_in_thread(app: Flask, *, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> RunningServer:
    """Serve ``app`` on a free loopback port in a daemon thread, for embedding and tests.

    ``threads``: waitress's worker threads. Each request is handed from its I/O thread to one of
    them; when requests come one at a time, one thread takes every hand-off with the least
    switching between threads under the GIL (bench/RESULTS-suite.md).
    """
    server = make_server(app, host=host, port=port, loop_timeout=0.05, threads=threads)  # stop() returns at once
    url = bound_url(server)
    thread = threading.Thread(target=server.run, name="canvas-mock", daemon=True)
    thread.start()
    return RunningServer(url, server, thread)


IDLE_TIMEOUT_S = 30  # a connection that sends nothing for this long is closed (waitress's channel_timeout)


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler, HTTP/1.1, without its line per request on stderr.

    Werkzeug answers every request with "Connection: close" and, after the answer, reads whatever
    the client sent within 10 ms and discards it (``WSGIRequestHandler.run_wsgi``): it cannot tell
    where an unread body ends. So each request costs the client a new TCP connection and this
    server a new thread. Keeping connections open would need a handler that reads a body to its
    Content-Length in place of that discard; suppressing the header alone loses the next request.
    """

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S

    def log_request(self, code="-", size="-") -> None:
        pass


class ConnectionThreads(ThreadedWSGIServer):
    """One daemon thread per connection, each reading, answering and writing its own requests.

    ``stop()`` ends the accept loop, closes the listening socket and shuts every open connection
    down, so a client's thread that is still reading or writing ends at once rather than at its timeout.
    """

    def __init__(self, app: Flask, *, host: str, port: int) -> None:
        super().__init__(host, port, app, handler=_QuietHandler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        # the handler writes the status line and headers, then the body: without TCP_NODELAY the
        # body could wait for the client's delayed ACK of the headers
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        with self._open_lock:
            still_open = list(self._open)
        for conn in still_open:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:  # the client closed it meanwhile
                pass


def start_per_connection(app: Flask, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve ``app`` on ``host:port`` (0: a free port) with a thread per connection, in a daemon thread."""
    server = ConnectionThreads(app, host=host, port=port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="canvas-mock", daemon=True)
    thread.start()
    return RunningServer(f"http://{host}:{server.server_port}", server, thread)


# -- serve: granian worker processes --------------------------------------------------------------
HEADER_READ_TIMEOUT_MS = 10_000  # a client must have sent its request headers within this
BACKLOG = 2048                   # connections the kernel holds before accept
MAX_IN_FLIGHT = 256              # requests a worker has in hand at once; more wait in Rust, cheaply
START_TIMEOUT = 60


def default_workers() -> int:
    """One worker process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def free_port(host: str) -> socket.socket:
    """A socket bound to a free port on ``host`` with SO_REUSEPORT, not listening.

    Granian binds each worker's listening socket itself (SO_REUSEPORT on Linux), so it cannot be
    given port 0; holding this socket keeps the chosen port from other programs until the workers
    have bound it too. A socket that does not listen is never handed a connection.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    probe.bind((host, 0))
    return probe


def check_port(host: str, port: int) -> None:
    """Raise ``OSError`` if ``host:port`` cannot be bound (taken, or not an address of this machine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as trial:
        trial.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        trial.bind((host, port))


WORKER_KILL_TIMEOUT = 3  # seconds a stopping worker gets before it is killed


def serve_workers(config: dict, *, host: str, port: int, workers: int, threads: int,
                  on_ready: Callable[[str], None], on_failure: Callable[[str], None],
                  target: str = "mock_server.wsgi:from_environment") -> None:
    """Serve the mock with granian on ``host:port`` in ``workers`` processes until SIGINT/SIGTERM.

    The caller has prepared the shared database (schema, clock, fault rules); every worker builds
    the app from ``config`` with ``target`` (``mock_server.wsgi.from_environment``; bench/ gives
    its bare Flask app, to measure it on the very same settings). ``on_ready(url)`` is called
    once a worker answers; ``on_failure(reason)`` when none did within ``START_TIMEOUT``.
    """
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    from .wsgi import CONFIG_VARIABLE

    probe = free_port(host) if port == 0 else None
    if probe is not None:
        port = probe.getsockname()[1]
    else:
        check_port(host, port)  # granian would fail on a busy port with a panic's backtrace
    display_host = f"[{host}]" if ":" in host else host
    url = f"http://{display_host}:{port}"
    os.environ[CONFIG_VARIABLE] = json.dumps(config)
    server = Server(target, address=host, port=port,
                    interface=Interfaces.WSGI, factory=True, workers=workers,
                    blocking_threads=threads, backlog=BACKLOG, backpressure=MAX_IN_FLIGHT,
                    http=HTTPModes.http1, websockets=False,
                    http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
                    log_level=LogLevels.warning, respawn_failed_workers=True,
                    # a worker still busy WORKER_KILL_TIMEOUT s after SIGINT/SIGTERM is killed, so
                    # stopping serve ends in bounded time (a worker has been seen not to exit at all)
                    workers_kill_timeout=WORKER_KILL_TIMEOUT)
    # granian forks its workers while the announcing thread runs. A fork copies the import locks as
    # they are at that instant, so a module the thread is importing then stays locked in every
    # worker (seen: ``encodings.idna``, which the first ``getaddrinfo`` of a str host imports, and
    # which Werkzeug needs for every request: the workers hung). So whatever the thread will
    # import is imported here, before it starts.
    socket.getaddrinfo(_connect_host(host), port, type=socket.SOCK_STREAM)
    "localhost".encode("idna")
    threading.Thread(target=_announce, args=(host, port, url, probe, on_ready, on_failure),
                     name="mock-ready", daemon=True).start()
    server.serve()


def _connect_host(host: str) -> str:
    """Where a client on this machine reaches a server bound to ``host``."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def _announce(host, port, url, probe, on_ready, on_failure) -> None:
    """Wait until a worker answers, then release the probe socket and say so.

    The probe asks ``/_mock/faults`` without a token (answered 401): the one path no fault rule
    ever matches, so it moves no rule's counter; it shows in the access log as that 401.
    """
    deadline = time.monotonic() + START_TIMEOUT
    connect_host = _connect_host(host)
    try:
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((connect_host, port), timeout=2) as conn:
                    conn.sendall(b"GET /_mock/faults HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if conn.recv(12).startswith(b"HTTP/1.1 "):
                        on_ready(url)
                        return
            except OSError:
                pass
            time.sleep(0.05)
        on_failure(f"no worker answered on {url} within {START_TIMEOUT} s")
    finally:
        if probe is not None:
            probe.close()
