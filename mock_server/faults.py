"""Fault injection: the mock misbehaves on purpose, so clients can test their retry and error paths.

Off by default. Rules are set at start-up (``serve --fault ...``, config ``FAULTS``) or at run
time through the token-protected control ``/_mock/faults`` (GET, PUT, POST, DELETE; JSON).

Why a WSGI middleware and not a Flask hook: a fault must look like a sick server, not like the
app answering. The middleware runs outside Flask, so an injected ``503`` skips routing and the
bearer check just as a proxy in front of a real server would, and a dropped connection can end
the exchange before anything is written (the app's error handlers would turn an exception into
an answer).

Kinds of fault (``kind``):

- ``latency``: wait ``ms`` milliseconds, then answer normally (later rules still apply);
- ``503`` / ``429``: an OperationOutcome with a ``Retry-After: <retry_after>`` header;
- ``drop``: close the connection without an answer (the client sees a connection error);
- ``html500``: a ``500`` whose body is an HTML page, as a crashed framework would send.

When a rule fires (deterministic, so tests are not flaky):

- ``every: N`` fires on the Nth, 2Nth... request the rule matches (default: every request);
- ``share: p`` with ``seed: s`` fires on a pseudo-random share ``p`` of matched requests; the
  same seed and the same order of requests give the same decisions;
- ``times: K`` stops the rule after it has fired K times ("fail twice, then recover").

``after: true`` (not for latency) lets the mock handle the request first and then throws its
answer away for the fault: a create is stored although the client saw a ``503``, an HTML ``500``
or no answer at all, which is how a client's retry logic ends up sending a message twice.
Without it the fault comes first and nothing is stored.

Which requests a rule sees: ``path`` (an ``fnmatch`` pattern on the path, default ``*``) and
``methods`` (default all). ``/auth/token/`` and the ``/_mock/`` control surface are faulted only
by a rule whose ``path`` names them literally (``/auth/token/``, ``/_mock/reset``...), never by
``*``; ``/_mock/faults`` itself is never faulted, so faults can always be switched off.

State lives in the database (``FaultSet``): every worker of ``serve --workers N``, and every process
sharing the database file, applies the same rules and moves the same counters. A mock started
with ``RESET_SHARED_STATE`` (the default; ``serve`` itself, not its workers) replaces the rules
with its ``FAULTS``.
"""
from __future__ import annotations

import fnmatch
import json
import random
import secrets
import threading
import time
from typing import Any, NamedTuple

from flask import Blueprint, Flask, Response, current_app, request

from .auth import check_bearer
from .outcome import CORRELATION_HEADER, FhirError, Issue, correlation_ids, fhir_response, outcome_response
from .profiles import CANVAS_CURRENT

KINDS = ("latency", "503", "429", "drop", "html500")
# Paths a wildcard rule leaves alone; a rule must name them to fault them.
PROTECTED_PREFIXES = ("/_mock/", "/auth/token")
# The switch itself: never faulted, or a fault could lock the client out of removing it.
NEVER_FAULTED = "/_mock/faults"
FAULT_HEADER = "x-mock-fault"
MAX_LATENCY_MS = 600_000
_FIELDS = ("kind", "path", "methods", "ms", "retry_after", "every", "share", "seed", "times", "after")

bp = Blueprint("faults", __name__, url_prefix=NEVER_FAULTED)


class FaultRule(NamedTuple):
    """One fault, as given (validated); the counters live in ``FaultSet``."""

    kind: str
    path: str = "*"
    methods: tuple[str, ...] = ()
    ms: int = 0
    retry_after: int = 1
    every: int | None = None
    share: float | None = None
    seed: int = 0
    times: int | None = None
    after: bool = False

    def as_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self._asdict().items()
                if v is not None}

    def applies_to(self, method: str, path: str) -> bool:
        if path == NEVER_FAULTED or path.startswith(NEVER_FAULTED + "/"):
            return False
        if self.methods and method not in self.methods:
            return False
        for prefix in PROTECTED_PREFIXES:
            if path.startswith(prefix) and not self.path.startswith(prefix):
                return False
        return fnmatch.fnmatchcase(path, self.path)


class FaultError(ValueError):
    """A rule that cannot be used; the message names the field."""


def rule_from_json(data: Any) -> FaultRule:
    """A ``FaultRule`` from its JSON form, refusing unknown fields and out-of-range values."""
    if not isinstance(data, dict):
        raise FaultError("a fault rule must be a JSON object such as {\"kind\": \"503\", \"every\": 2}")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise FaultError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(_FIELDS)}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise FaultError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    path = data.get("path", "*")
    if not isinstance(path, str) or not path or path[0] not in "/*":
        raise FaultError(f"path must be a pattern starting with / or *, got {path!r}")
    methods = data.get("methods", [])
    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, list) or not all(isinstance(m, str) and m.isalpha() for m in methods):
        raise FaultError("methods must be a list of HTTP methods such as [\"POST\"]")
    ms = _int(data, "ms", 0, low=0, high=MAX_LATENCY_MS)
    if kind == "latency" and ms <= 0:
        raise FaultError("a latency fault needs ms, a positive number of milliseconds")
    every = _int(data, "every", None, low=1, high=10**9)
    share = data.get("share")
    if share is not None:
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise FaultError(f"share must be a number above 0 and at most 1, got {share!r}")
        if every is not None:
            raise FaultError("give either every or share, not both")
        share = float(share)
    after = data.get("after", False)
    if not isinstance(after, bool) or (after and kind == "latency"):
        raise FaultError("after must be true or false, and only for 503, 429, drop or html500")
    return FaultRule(kind=kind, path=path, after=after, methods=tuple(m.upper() for m in methods), ms=ms,
                     retry_after=_int(data, "retry_after", 1, low=0, high=86_400),
                     every=every, share=share, seed=_int(data, "seed", 0, low=-2**63, high=2**63),
                     times=_int(data, "times", None, low=1, high=10**9))


def rule_from_spec(spec: str) -> FaultRule:
    """The command-line form: ``KIND[:key=value,...]`` or a JSON object.

    Examples: ``503:share=0.2,seed=7,retry_after=2``, ``latency:ms=300,path=/Communication*``,
    ``drop:every=5,methods=POST``, ``html500:times=1``. Several methods: ``methods=GET+POST``.
    """
    spec = spec.strip()
    if spec.startswith("{"):
        try:
            return rule_from_json(json.loads(spec))
        except json.JSONDecodeError as err:
            raise FaultError(f"not a JSON object: {err}") from None
    kind, _, rest = spec.partition(":")
    data: dict[str, Any] = {"kind": kind.strip()}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq:
            raise FaultError(f"{item!r} is not key=value")
        value = value.strip()
        if key == "methods":
            data[key] = [m for m in value.split("+") if m]
        elif key in ("path", "kind"):
            data[key] = value
        else:
            try:
                data[key] = json.loads(value)
            except json.JSONDecodeError:
                raise FaultError(f"{key} must be a number, got {value!r}") from None
    return rule_from_json(data)


def _int(data: dict, name: str, default, *, low: int, high: int):
    value = data.get(name, default)
    if value is default:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return value


class _Rngs:
    """This process's pseudo-random generators for ``share`` rules, one per rule (by its uid).

    The shared counters say how many draws the rule has made in all processes (``matched``); a
    generator here that has made fewer draws catches up before drawing, so the decisions are
    those of one ``random.Random(seed)`` drawn once per matched request, whichever worker draws.
    """

    def __init__(self) -> None:
        self._by_uid: dict[str, list] = {}  # uid -> [Random, draws made]

    def draw(self, uid: str, seed: int, drawn: int) -> float:
        entry = self._by_uid.get(uid)
        if entry is None or entry[1] > drawn:
            entry = self._by_uid[uid] = [random.Random(seed), 0]
        rng = entry[0]
        for _ in range(drawn - entry[1]):
            rng.random()
        entry[1] = drawn + 1
        return rng.random()

    def forget(self, keep: set[str]) -> None:
        for uid in set(self._by_uid) - keep:
            del self._by_uid[uid]


class FaultSet:
    """The rules in force and their counters, kept in the database (``mock_state``, key ``faults``).

    Why there: every worker process of ``serve --workers N`` must see the same rules and move the
    same counters, so ``times: 2`` fires twice in all, not twice per worker, and ``every: 3``
    counts every request whichever worker answers it. Each decision is one write transaction.
    Stored form: a JSON list of ``{"uid", "rule", "matched", "fired"}``.
    """

    def __init__(self, store, rules: list[FaultRule] | None = None, *, reset: bool = True) -> None:
        self._store = store
        self._lock = threading.Lock()  # this process's generators and rule cache
        self._rngs = _Rngs()
        self._rules: dict[str, FaultRule] = {}  # stored JSON text of a rule -> the rule
        if reset:
            self.replace(rules or [])

    @property
    def active(self) -> bool:
        raw = self._store.get_state(_KEY)
        return raw is not None and raw != "[]"

    def replace(self, rules: list[FaultRule]) -> None:
        """Every rule replaced; counters start again from zero."""
        self._store.set_state(_KEY, json.dumps([_fresh(r) for r in rules]))

    def add(self, rule: FaultRule) -> None:
        self._store.update_state(_KEY, lambda raw: (json.dumps([*json.loads(raw or "[]"), _fresh(rule)]), None))

    def describe(self) -> list[dict]:
        states = json.loads(self._store.get_state(_KEY) or "[]")
        return [{**self._rule(s["rule"]).as_json(), "matched": s["matched"], "fired": s["fired"]} for s in states]

    def decide(self, method: str, path: str) -> tuple[int, int | None, FaultRule | None]:
        """(latency ms to add, index of the answering rule, that rule) for one request.

        Rules are looked at in order: every firing latency rule adds its delay; the first firing
        rule of another kind answers instead of the app, and the rules after it are not consulted.
        """
        def change(raw):
            states = json.loads(raw or "[]")
            delay, answer, moved = 0, (None, None), False
            with self._lock:
                for index, state in enumerate(states):
                    rule = self._rule(state["rule"])
                    if not rule.applies_to(method, path):
                        continue
                    moved = True
                    if not self._should_fire(state, rule):
                        continue
                    if rule.kind == "latency":
                        delay += rule.ms
                    else:
                        answer = (index, rule)
                        break
                self._rngs.forget({s["uid"] for s in states})
            return (json.dumps(states) if moved else None), (delay, *answer)

        return self._store.update_state(_KEY, change)

    def _should_fire(self, state: dict, rule: FaultRule) -> bool:
        """Count one matched request and say whether the rule fires on it."""
        drawn = state["matched"]
        state["matched"] = drawn + 1
        if rule.share is not None:
            # drawn on every match, so decisions replay exactly
            hit = self._rngs.draw(state["uid"], rule.seed, drawn) < rule.share
        else:
            hit = state["matched"] % (rule.every or 1) == 0
        if not hit or (rule.times is not None and state["fired"] >= rule.times):
            return False
        state["fired"] += 1
        return True

    def _rule(self, data: dict) -> FaultRule:
        key = json.dumps(data, sort_keys=True)
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rules[key] = rule_from_json(data)
        return rule


_KEY = "faults"


def _fresh(rule: FaultRule) -> dict:
    return {"uid": secrets.token_hex(8), "rule": rule.as_json(), "matched": 0, "fired": 0}


class FaultMiddleware:
    """WSGI middleware around the Flask app that applies the ``FaultSet``."""

    def __init__(self, wsgi_app, faults: FaultSet, *, profile: str) -> None:
        self.wsgi_app = wsgi_app
        self.faults = faults
        self.profile = profile  # how a faulted answer is worded (profiles.py)

    def __call__(self, environ, start_response):
        if not self.faults.active:  # the usual case costs one attribute read
            return self.wsgi_app(environ, start_response)
        delay, index, rule = self.faults.decide(environ.get("REQUEST_METHOD", "GET"),
                                                environ.get("PATH_INFO", "") or "/")
        if delay:
            time.sleep(delay / 1000)
        if rule is None:
            return self.wsgi_app(environ, start_response)
        if rule.after:
            _serve_and_discard(self.wsgi_app, environ)
        if rule.kind == "drop":
            return _drop(environ, start_response)
        return _fault_answer(rule, index, profile=self.profile)(environ, start_response)


def _serve_and_discard(wsgi_app, environ) -> None:
    """Let the app handle the request to the end (its commit included) and forget its answer."""
    result = wsgi_app(environ, lambda status, headers, exc_info=None: (lambda data: None))
    try:
        for _ in result:
            pass
    finally:
        if hasattr(result, "close"):
            result.close()


def _drop(environ, start_response):
    """End the exchange with no answer at all.

    Under waitress (the embedded mock) ``ClientDisconnected`` makes the channel close the socket
    without writing a byte: the client reads EOF ("connection closed without response"). Any
    other exception would be turned into waitress's own ``500`` answer. Under granian (``serve``)
    an exception from the app is answered ``500``, and the app never sees its socket; the body
    raises before its first chunk instead, and granian aborts the connection: either before the
    status line (the client reads EOF) or, as it mostly does, right after the status line and
    headers (the client reads a truncated answer: requests raises ``ChunkedEncodingError``).
    A connection closed with no answer every time: ``serve --server waitress``.
    """
    environ["mock.dropped"] = True
    if "waitress.client_disconnected" in environ:
        from waitress.channel import ClientDisconnected

        raise ClientDisconnected("fault injection: dropped connection")
    start_response("500 Dropped", [(FAULT_HEADER, "drop")])
    return _DroppedBody()


class DroppedConnection(ConnectionAbortedError):
    """Raised by the body of a dropped exchange (the server closes the connection on it)."""


class _DroppedBody:
    def __iter__(self):
        return self

    def __next__(self):
        raise DroppedConnection("fault injection: dropped connection")


def _fault_answer(rule: FaultRule, index: int, *, profile: str):
    # FHIR-9 in canvas-current: a faulted answer's correlation id is a fresh UUID like any other's.
    correlation = (correlation_ids(profile)() if profile == CANVAS_CURRENT
                   else f"fault-{index}-{time.monotonic_ns():x}")
    headers = {FAULT_HEADER: rule.kind, CORRELATION_HEADER: correlation}
    if rule.kind == "html500":
        body = ("<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
                "<body><h1>Internal Server Error</h1>\n<p>The server encountered an internal error "
                "(injected by the mock's fault rule %d).</p></body></html>\n" % index)
        return Response(body, status=500, headers=headers, content_type="text/html; charset=utf-8")
    headers["Retry-After"] = str(rule.retry_after)
    if rule.kind == "503":
        issue = Issue("transient", "FAULT", f"service unavailable (injected by fault rule {index}); "
                                            f"retry after {rule.retry_after} s")
        return outcome_response(503, [issue], headers, profile=profile)
    issue = Issue("throttled", "FAULT", f"too many requests (injected by fault rule {index}); "
                                        f"retry after {rule.retry_after} s")
    return outcome_response(429, [issue], headers, profile=profile)


def get_faults() -> FaultSet:
    return current_app.extensions["mock_faults"]


# -- the control surface ------------------------------------------------------------------
@bp.before_request
def _token():
    check_bearer()


@bp.get("")
def show():
    return fhir_response({"rules": get_faults().describe()})


@bp.put("")
def replace():
    """``{"rules": [rule, ...]}`` replaces every rule (counters start again from zero)."""
    body = _json_body()
    rules = body.get("rules") if isinstance(body, dict) else None
    if not isinstance(rules, list):
        raise FhirError(400, Issue("structure", "FAULT", 'send {"rules": [{"kind": "503", "every": 2}, ...]}'))
    get_faults().replace([_checked(rule, f"rules[{i}]") for i, rule in enumerate(rules)])
    return fhir_response({"rules": get_faults().describe()})


@bp.post("")
def add():
    """One rule object, appended after the rules in force."""
    get_faults().add(_checked(_json_body(), "rule"))
    return fhir_response({"rules": get_faults().describe()}, 201)


@bp.delete("")
def clear():
    get_faults().replace([])
    return fhir_response({"rules": []})


def _json_body() -> Any:
    try:
        return json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise FhirError(400, Issue("structure", "FAULT", "the body is not JSON")) from None


def _checked(data: Any, where: str) -> FaultRule:
    try:
        return rule_from_json(data)
    except FaultError as err:
        raise FhirError(400, Issue("value", "FAULT", f"{where}: {err}")) from None


def init_app(app: Flask) -> None:
    """Install the middleware and the control; ``FAULTS`` in the config lists start-up rules."""
    rules = []
    for item in app.config.get("FAULTS") or ():
        rules.append(item if isinstance(item, FaultRule)
                     else rule_from_spec(item) if isinstance(item, str) else rule_from_json(item))
    faults = FaultSet(app.extensions["mock_store"], rules, reset=app.config.get("RESET_SHARED_STATE", True))
    app.extensions["mock_faults"] = faults
    app.wsgi_app = FaultMiddleware(app.wsgi_app, faults, profile=app.config["PROFILE"])
    app.register_blueprint(bp)
