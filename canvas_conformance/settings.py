"""The run's inputs, declared once: where the target is, how to get a token, who exists there.

Every input comes from a ``CANVAS_*`` environment variable, so ``canvas-conformance run``
(which sets them from its flags) and a plain ``pytest`` on the features read the same thing.
"""
from __future__ import annotations

import os
from typing import Mapping, NamedTuple
from urllib.parse import urlsplit

from .retry import RetryPolicy


class ConfigError(ValueError):
    """A bad configuration, said in one line."""


class Settings(NamedTuple):
    base_url: str | None  # None: start the embedded mock
    token_url: str | None  # None: <base_url>/auth/token/
    client_id: str | None
    client_secret: str | None
    token: str | None  # a ready bearer token instead of client credentials
    patients: tuple[str, ...]  # ids of patients that exist on the target
    practitioners: tuple[str, ...]
    timeout: float  # seconds per request
    retry: RetryPolicy  # how 429/503 answers are sent again (CANVAS_RETRIES, CANVAS_MAX_RETRY_WAIT)
    allow_writes: bool  # needed for any target that is not on loopback
    results_file: str | None  # where the results plugin writes the run's raw results

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        base_url = (env.get("CANVAS_BASE_URL") or "").strip().rstrip("/") or None
        if base_url:
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"CANVAS_BASE_URL {base_url!r} is not an http(s) URL")
        try:
            timeout = float(env.get("CANVAS_TIMEOUT") or 10)
        except ValueError:
            raise ConfigError(f"CANVAS_TIMEOUT {env.get('CANVAS_TIMEOUT')!r} is not a number of seconds") from None
        if timeout <= 0:
            raise ConfigError("CANVAS_TIMEOUT must be more than 0 seconds")
        try:
            retry = RetryPolicy.from_env(env)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        return cls(
            base_url=base_url,
            token_url=(env.get("CANVAS_TOKEN_URL") or "").strip() or None,
            client_id=env.get("CANVAS_CLIENT_ID") or None,
            client_secret=env.get("CANVAS_CLIENT_SECRET") or None,
            token=env.get("CANVAS_TOKEN") or None,
            patients=_ids(env.get("CANVAS_PATIENTS")),
            practitioners=_ids(env.get("CANVAS_PRACTITIONERS")),
            timeout=timeout,
            retry=retry,
            allow_writes=(env.get("CANVAS_ALLOW_WRITES") or "").lower() in ("1", "true", "yes"),
            results_file=env.get("CANVAS_RESULTS_FILE") or None,
        )

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a report, log or error message."""
        return tuple(s for s in (self.client_secret, self.token) if s)


def _ids(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())
