"""The embedded target: the reference mock served on a free loopback port for one run.

The one place the harness side touches the mock package: the runner (or a plain
pytest session) starts it here and then talks to it only over HTTP, like any target.
"""
from __future__ import annotations

import secrets
from typing import Callable, NamedTuple

from mock_server import create_app
from mock_server.serve import start_per_connection


class EmbeddedMock(NamedTuple):
    base_url: str
    client_id: str
    client_secret: str
    patients: tuple[str, ...]
    practitioners: tuple[str, ...]
    stop: Callable[[], None]


def start(*, profile: str = "canvas-2022") -> EmbeddedMock:
    """A fresh in-memory mock behaving as ``profile``, with a one-off client secret, on 127.0.0.1 and a free port."""
    secret = secrets.token_urlsafe(24)
    app = create_app({"DATABASE": ":memory:", "CLIENT_SECRET": secret, "PROFILE": profile})
    # A thread per connection: a run's requests come one at a time per connection, and each is
    # answered in the thread that read it (mock_server/serve.py says why not waitress)
    running = start_per_connection(app)
    store = app.extensions["mock_store"]
    return EmbeddedMock(
        base_url=running.base_url,
        client_id=app.config["CLIENT_ID"],
        client_secret=secret,
        patients=tuple(p["id"] for p in store.list_people("Patient")),
        practitioners=tuple(p["id"] for p in store.list_people("Practitioner")),
        stop=running.stop,
    )
