"""OAuth 2.0 client-credentials tokens and the bearer check on FHIR endpoints (FHIR-3).

Tokens are random strings handed out once; the database keeps only their SHA-256,
so neither the database nor a log ever holds a usable token.

Expiry: a token lives ``TOKEN_LIFETIME`` seconds from its grant, on real time moved by the
token's own moves of the mock clock (``PUT /_mock/clock``) and by no one else's. So a client
expires its own token by moving the clock on past its lifetime (how FHIR-3 is tested), while
every other client's token is untouched, and a fresh grant always works whatever the clock says.
While the clock reads real time (as after ``DELETE /_mock/clock``, which also forgets every
token's moves) every token is on real time.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote_plus

from flask import Blueprint, current_app, g, jsonify, request

from .clock import get_clock
from .db import get_db
from .outcome import FhirError, Issue

bp = Blueprint("auth", __name__)

SCOPE = "system/Communication.read system/Communication.write system/Patient.read system/Practitioner.read"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _oauth_error(error: str, description: str, status: int):
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


class _BadBasic(ValueError):
    """An Authorization: Basic header that does not decode to client_id:client_secret."""


def _basic_credentials() -> tuple[str, str] | None:
    """The client id and secret of an ``Authorization: Basic`` header (RFC 6749 section 2.3.1:
    each form-urlencoded, then joined by ':' and base64-encoded); None without such a header."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _BadBasic("the Basic credentials are not base64 of client_id:client_secret") from None
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise _BadBasic("the Basic credentials have no ':' between client_id and client_secret")
    return unquote_plus(client_id), unquote_plus(client_secret)


@bp.post("/auth/token/")
def token():
    """Client-credentials grant: form field grant_type, and the client's id and secret either as the
    form fields client_id and client_secret or in an ``Authorization: Basic`` header (RFC 6749
    section 2.3.1), not both."""
    form = request.form
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "grant_type must be client_credentials", 400)
    try:
        basic = _basic_credentials()
    except _BadBasic as err:
        return _oauth_error("invalid_request", str(err), 400)
    if basic is not None and ("client_secret" in form or "client_id" in form):
        return _oauth_error("invalid_request", "the client authenticated twice (Basic header and form fields); "
                            "use one method", 400)
    client_id, client_secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
    if not client_id or not client_secret:
        return _oauth_error("invalid_request", "client_id and client_secret are required", 400)
    id_ok = hmac.compare_digest(client_id.encode(), current_app.config["CLIENT_ID"].encode())
    secret_ok = hmac.compare_digest(client_secret.encode(), current_app.config["CLIENT_SECRET"].encode())
    if not (id_ok and secret_ok):
        refused = _oauth_error("invalid_client", "unknown client or wrong secret", 401)
        if basic is not None:  # section 5.2: a client that tried the header is told the scheme
            refused.headers["WWW-Authenticate"] = 'Basic realm="canvas-mock"'
        return refused
    lifetime = int(current_app.config["TOKEN_LIFETIME"])
    access_token = secrets.token_urlsafe(32)
    expires_at = _later(_real_now(), lifetime)
    get_db().add_token(_token_hash(access_token), client_id, expires_at.isoformat())
    response = jsonify(access_token=access_token, token_type="Bearer", expires_in=lifetime, scope=SCOPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def check_bearer() -> None:
    """Raise a 401 OperationOutcome unless the request carries a valid, unexpired token."""
    g.token_hash = bearer_token_hash(request.environ, get_db(), get_clock())


def bearer_token_hash(environ, store, clock) -> str:
    """The hash of the request's valid, unexpired bearer token; else a 401 OperationOutcome is raised.

    Given its storage and clock rather than reading Flask's globals, so a request answered outside
    Flask's dispatch (fastpath.py) is checked by this very code.
    """
    header = environ.get("HTTP_AUTHORIZATION", "")  # what request.headers.get gives, without its wrapper
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise FhirError(401, Issue("login", "FHIR-3", "a bearer token is required (Authorization: Bearer <token>)"),
                        headers=_CHALLENGE)
    token_hash = _token_hash(value.strip())
    expiry = store.token_expiry(token_hash)
    if expiry is None:
        raise FhirError(401, Issue("login", "FHIR-3", "the bearer token is not known to this server"),
                        headers=_CHALLENGE)
    if _expired(_instant(expiry), token_hash, store, clock):
        raise FhirError(401, Issue("expired", "FHIR-3", "the bearer token has expired"), headers=_CHALLENGE)
    return token_hash


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="canvas-mock"'}


def count_clock_move(seconds: float) -> None:
    """The request's token has just moved the mock clock by ``seconds``: its expiry comes that much nearer."""
    token_hash = g.get("token_hash")
    if token_hash:
        get_db().add_clock_move(token_hash, seconds)


def _expired(expires_at: datetime, token_hash: str, store, clock) -> bool:
    real_now = _real_now()
    if expires_at <= real_now:
        return True
    if abs(clock.now() - real_now) < timedelta(seconds=1):
        return False  # the clock reads real time: nobody's moves count (storage is not asked)
    moved = store.clock_moves(token_hash)
    # In seconds, not as an instant: a token's moves may add up past the years a datetime holds.
    return moved is not None and (expires_at - real_now).total_seconds() <= moved


# A token's stored expiry, parsed once: a token is asked about on every request it makes.
_instant = functools.lru_cache(maxsize=4096)(datetime.fromisoformat)


def _real_now() -> datetime:
    return datetime.now(timezone.utc)


def _later(instant: datetime, seconds: int) -> datetime:
    """``instant`` plus ``seconds``, or the last instant ``datetime`` holds (a lifetime of 10**12 s)."""
    try:
        return instant + timedelta(seconds=seconds)
    except OverflowError:
        return datetime.max.replace(tzinfo=timezone.utc)


def require_token(view):
    """Decorator for views that need a bearer token (every FHIR endpoint but /metadata)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        check_bearer()
        return view(*args, **kwargs)

    return wrapper
