"""Reference mock of Canvas's FHIR Communication API.

The mock knows nothing of the conformance harness: it is a Flask app built by
``create_app`` from a configuration mapping, and every concern is a blueprint.
Rule IDs from the project's catalogue (``RCPT-1``, ``FHIR-3``...) are named in
comments where each rule is enforced, so a ``grep`` for an ID finds it here.
"""
from __future__ import annotations

import inspect
import logging
from importlib import resources
from pathlib import Path
from types import FunctionType

from flask import Flask


class _MockFlask(Flask):
    """Flask, asking less per request about functions that are plainly synchronous."""

    def ensure_sync(self, func):
        # Flask calls this for the view and every hook of every request and asks inspect each
        # time; a plain ``def`` (all of the mock's) is handed back as Flask itself would.
        if type(func) is FunctionType and not func.__code__.co_flags & inspect.CO_COROUTINE:
            return func
        return super().ensure_sync(func)

def _people_file() -> str:
    """fixtures/people.json: the wheel's copy inside this package (``_fixtures``), else the checkout's.

    The mock has its own copy rather than asking the harness where the suite's fixtures are, so it
    stays a package of its own that knows nothing of the harness.
    """
    installed = resources.files(__name__) / "_fixtures" / "people.json"
    if installed.is_file():
        return str(installed)
    return str(Path(__file__).resolve().parent.parent / "fixtures" / "people.json")


DEFAULTS = {
    # ":memory:" or a file path; files are opened in WAL mode.
    "DATABASE": ":memory:",
    "CLIENT_ID": "conformance-client",
    "CLIENT_SECRET": "conformance-secret",
    # Seconds a bearer token lives (the answer's expires_in).
    "TOKEN_LIFETIME": 36000,
    # Absolute base URL used in Location headers and Bundle links; None: from the request.
    "BASE_URL": None,
    "PEOPLE_FILE": _people_file(),
    # Bodies above this many bytes are answered 413 before they are read (limits.py).
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Deepest JSON nesting accepted in a body (answered 400 above it).
    "MAX_JSON_DEPTH": 32,
    # Start from the real clock and the FAULTS rules (True), or join worker processes already
    # serving the same database file and keep their shared state (False: serve's workers).
    "RESET_SHARED_STATE": True,
    # Which edition of Canvas to behave as (profiles.py): canvas-2022 (v1, the 2022 page) or canvas-current (v2).
    "PROFILE": "canvas-2022",
}


def create_app(test_config: dict | None = None) -> Flask:
    """Build the mock. ``test_config`` overrides ``DEFAULTS`` (and nothing else is read)."""
    app = _MockFlask(__name__)
    app.config.from_mapping(DEFAULTS)
    if test_config:
        app.config.from_mapping(test_config)
    from .profiles import check as check_profile

    check_profile(app.config["PROFILE"])
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    from . import (auth, clock, communication, control, db, fastpath, faults, limits, metadata, openapi, outcome, people,
                   sessions, ui)

    app.session_interface = sessions.CookieOnlyWhenSent()

    db.init_app(app)
    if not app.config.get("SECRET_KEY"):
        # The sign-in cookie's signing key, made once per database and read by every process that
        # shares it: a cookie signed by one worker is honoured by the others (and after a restart).
        app.config["SECRET_KEY"] = db.get_store(app).shared_secret()
    clock.init_app(app)
    outcome.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(metadata.bp)
    app.register_blueprint(communication.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(ui.bp)
    app.register_blueprint(openapi.bp)
    fast = app.wsgi_app = fastpath.FastRoutes(app, app.wsgi_app)  # create, read, search as Flask answers them
    faults.init_app(app)  # off unless FAULTS or /_mock/faults set rules
    limits.init_app(app)  # outermost: no body over MAX_CONTENT_LENGTH is read, faulted or not
    fast.seal()
    return app
