"""Which edition of Canvas the mock behaves as: ``PROFILE`` in its configuration.

- ``canvas-2022``: the mid-2022 "Communication Create" page (Canvas's v1 API), the default;
- ``canvas-current``: Canvas's v2 ("Fumage") API as its docs describe it today.

Code that differs between the editions asks ``current()`` (inside a request) or ``of(app)``.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, current_app

CANVAS_2022 = "canvas-2022"
CANVAS_CURRENT = "canvas-current"
PROFILES = (CANVAS_2022, CANVAS_CURRENT)


def check(name: str) -> str:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: one of {', '.join(PROFILES)}")
    return name


def of(app: Flask) -> str:
    return app.config["PROFILE"]


def current() -> str:
    return current_app.config["PROFILE"]


def is_current(config: Mapping | None = None) -> bool:
    """Whether the mock behaves as today's v2 API (canvas-current): the request's app, or the app whose
    ``config`` is given (code that is handed its configuration rather than reading Flask's globals)."""
    return (current_app.config if config is None else config)["PROFILE"] == CANVAS_CURRENT
