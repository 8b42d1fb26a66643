"""Serving the mock with waitress, a production WSGI server.

Why waitress: pure Python (nothing to compile), a thread pool that suits a
SQLite-backed app, and a server object that can be created on port 0 and run in
a background thread, which is how the conformance runner embeds the mock.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

from flask import Flask
from waitress.server import create_server


class RunningServer(NamedTuple):
    """A mock served in a background thread; ``stop()`` closes it."""

    base_url: str
    server: object
    thread: threading.Thread

    def stop(self) -> None:
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


def start_in_thread(app: Flask, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve ``app`` on a free loopback port in a daemon thread, for embedding and tests."""
    server = make_server(app, host=host, port=port, loop_timeout=0.05)  # stop() returns at once
    url = bound_url(server)
    thread = threading.Thread(target=server.run, name="canvas-mock", daemon=True)
    thread.start()
    return RunningServer(url, server, thread)
