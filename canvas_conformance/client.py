"""The harness's one HTTP client (the conformance steps and the pre-flight), recording every exchange.

Why one client: the run's inputs (base URL, token source, timeout, retry policy) are
declared once and every request goes through the same code, so each verdict in a report
can show exactly which requests it rests on, and a target misbehaving before the run is
met with the same retries, deadline and words as during it. Exchanges are kept unredacted
in memory; whatever writes them out (the results plugin, the report builders) redacts them
first.

Under faults (retry.py says why): a ``429`` or ``503`` is sent again after the wait its
``Retry-After`` asks (capped), each attempt recorded as its own exchange named
"<name> (attempt N)", and still ``429``/``503`` at the end raises ``TargetUnavailable``;
a timeout or a dropped connection raises ``ExchangeError`` at once and is never sent
again. Both end the scenario in ``error``, never in a verdict on the rule. ``timeout``
bounds each answer as a whole, its status line and headers included: a target that sends
them or its body a byte at a time is cut off at the deadline, not only one that says nothing.

Against a hostile target (README, "Hostile targets"):
- Credentials go only where they were configured to go. The bearer token (every request
  of ``request``) goes only to the base URL's origin (scheme, host, port); a URL on another
  origin, e.g. a ``next`` link naming another host, is not sent at all. The client secret
  goes only to the token URL (configured, or derived: on Canvas it is the EHR instance's host,
  another origin than the FHIR base), which never gets the bearer token. No redirect is ever followed (``allow_redirects=False``),
  so nothing is re-sent to a ``Location`` the target names. A URL carrying a user name or
  password is not sent, and ``requests`` is given an explicit no-op ``auth`` so it never
  replaces the bearer token with Basic auth from a URL or from ``~/.netrc``. No cookie is kept,
  so none set by one origin is sent to another.
- Every answer is bounded: ``max_answer_bytes`` after decoding (the client asks for gzip or
  deflate only and inflates them itself, a bounded amount at a time, so a small compressed
  body cannot become gigabytes in memory), ``timeout`` for the whole exchange, and the
  evidence keeps at most ``MAX_BODY_CHARS`` of each body.
"""
from __future__ import annotations

import contextlib
import heapq
import json
import math
import os
import socket
import threading
import time
import zlib
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError, ReadTimeoutError

from .canvas_hosts import default_token_url
from .config import MAX_ANSWER_BYTES
from .retry import RETRY_STATUSES, RetryPolicy

FHIR_JSON = "application/fhir+json"
CORRELATION_HEADERS = ("fumage-correlation-id", "x-correlation-id", "x-request-id")
MAX_BODY_CHARS = 64 * 1024  # evidence keeps this much of any body; a report is no archive
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
ACCEPT_ENCODING = "gzip, deflate"  # the codings the client inflates itself, within the bound
READ_CHUNK = 64 * 1024
MAX_TOKEN_LIFETIME = 10 * 365 * 24 * 3600  # an expires_in beyond ten years is not a lifetime


class Exchange(NamedTuple):
    """One request and its answer (or the error that stood in for an answer)."""

    name: str  # what the request was for, e.g. "create message without sent"
    method: str
    url: str
    request_headers: dict
    request_body: str | None
    status: int | None  # None when no answer came (then ``error`` says why)
    response_headers: dict
    response_body: str | None
    correlation_id: str | None
    started: str  # UTC ISO 8601
    duration_ms: float
    error: str | None

    def __repr__(self) -> str:  # short, and without the headers that carry the token
        return f"Exchange({self.name!r}: {self.method} {self.url} -> {self.status or self.error})"


class Answer(NamedTuple):
    """What a step sees of an answer: status, headers (case-insensitive), text."""

    status: int
    headers: Mapping[str, str]
    text: str
    exchange: Exchange

    def __repr__(self) -> str:
        return f"Answer({self.status} to {self.exchange.name!r})"

    def json(self) -> Any:
        """The body as JSON; a ValueError names the request when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            raise ValueError(f"{self.exchange.name}: the answer ({self.status}) is not JSON: "
                             f"{self.text[:200]!r}") from None


class Evidence:
    """What one scenario gathered: its exchanges, notes for the reader, attachments (screenshots)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.notes: list[str] = []
        self.attachments: list[dict] = []

    def note(self, text: str) -> None:
        self.notes.append(text)

    def take(self, other: "Evidence") -> None:
        """``other``'s exchanges and notes after this one's (what a call on another thread gathered)."""
        self.exchanges.extend(other.exchanges)
        self.notes.extend(other.notes)

    def attach(self, *, kind: str, path: str, title: str) -> None:
        self.attachments.append({"kind": kind, "path": path, "title": title})


class ExchangeError(Exception):
    """No answer came (connection refused, timeout...). Not an assertion: the verdict is "error".

    The message names the request, its method and URL; ``why`` is only the few words saying why,
    for a line that names the URL its own way (the pre-flight's "cannot reach <url>: <why>").
    """

    def __init__(self, message: str, *, why: str) -> None:
        super().__init__(message)
        self.why = why


class TargetUnavailable(ExchangeError):
    """Still ``429``/``503`` when the retries ran out (or the wait asked was above the cap): the target
    never answered the question, so the verdict is "error", not a failed check."""


class _IncompleteAnswer(requests.Timeout):
    """The answer began but did not end within the timeout (a body trickling in, or stalled)."""


class _AnswerTooLarge(requests.RequestException):
    """The answer's body, decoded, is larger than the client keeps."""


class TokenError(Exception):
    """The target would not give a bearer token for the configured client credentials."""


T = TypeVar("T")

# After this many requests in a row get no answer, the client stops sending for the rest of the run.
GIVE_UP_AFTER = 3


class Client:
    """Requests to one target, authorised with one bearer token, each recorded under a name.

    ``evidence`` is where the current scenario's exchanges go (set by the suite per
    scenario); every exchange is also kept in ``history`` for the whole run.
    """

    def __init__(self, base_url: str, *, token_url: str | None = None, client_id: str | None = None,
                 client_secret: str | None = None, token: str | None = None, timeout: float = 10.0,
                 session: requests.Session | None = None, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = origin(self.base_url)
        self.max_answer_bytes = max_answer_bytes
        self.token_url = token_url or default_token_url(self.base_url)
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy()  # the suite passes RunConfig.retry
        self._sleep = sleep if sleep is not None else time.sleep  # looked up when made, so a patch of it holds
        self.session = session or requests.Session()
        # no cookies kept or sent: the API needs none, and a cookie the token host sets for its parent
        # domain (Domain=.canvasmedical.com) would otherwise ride along to the FHIR base's origin
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=()))
        self.session.headers["Accept-Encoding"] = ACCEPT_ENCODING
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, _DeadlineAdapter())
        self.history: list[Exchange] = []
        self.evidence: Evidence | None = None
        self._token_lock = threading.Lock()
        self._gathered = threading.local()  # .evidence: where this thread's exchanges go (``gathering``)
        self._given_token = token
        self._token: str | None = token
        self._obtained: list[str] = []
        self.token_lifetime: int | None = None  # expires_in of the grant, when the client made one
        self._unanswered = 0  # requests in a row that got no answer (timeout, refused, dropped)
        self._proxy_cache: dict = {}

    def close(self) -> None:
        """Close kept-alive connections (a server stopping after the run need not wait for them)."""
        self.session.close()

    # -- secrets and tokens ---------------------------------------------------------------
    def secrets(self) -> tuple[str, ...]:
        """Everything this client knows that must never be written out: secret, given and obtained tokens."""
        return tuple(s for s in (self.client_secret, self._given_token, *self._obtained) if s)

    @property
    def has_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def token(self) -> str:
        """The run's bearer token: the one given, or one granted for the client credentials (once)."""
        __tracebackhide__ = True  # pytest would print arguments that carry the token or secret
        if self._token is None:
            with self._token_lock:  # cases sent at once ask for it once
                return self._token or self._grant_token()
        return self._token

    def _grant_token(self) -> str:
        __tracebackhide__ = True  # pytest would print arguments that carry the token or secret
        if not self.has_credentials:
            raise TokenError("no bearer token and no client credentials were given")
        answer = self.grant("obtain a bearer token for the run")
        try:
            body = answer.json()
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            token = None
        if answer.status != 200 or not isinstance(token, str) or not token:
            raise TokenError(f"the token URL {self.token_url} refused the client credentials "
                             f"(status {answer.status})")
        self.token_lifetime = _lifetime(body.get("expires_in"))
        self._token = token
        return self._token

    def grant(self, name: str) -> Answer:
        """A client-credentials grant at the token URL (FHIR-3); any token it gives is kept secret."""
        __tracebackhide__ = True  # pytest would print arguments that carry the token or secret
        answer = self._send(name, "POST", self.token_url, headers={"Accept": "application/json"},
                            data={"grant_type": "client_credentials", "client_id": self.client_id or "",
                                  "client_secret": self.client_secret or ""})
        try:
            token = answer.json().get("access_token")
        except (ValueError, AttributeError):
            token = None
        if isinstance(token, str) and token:
            self._obtained.append(token)
        return answer

    # -- requests -------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """An absolute URL for ``path`` (relative to the base, or already absolute, on any origin:
        ``request`` decides whether it may be sent)."""
        if path.lower().startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def on_target(self, url: str) -> bool:
        """True when ``url`` is on the base URL's origin (scheme, host, port) and carries no user info:
        the only URLs the run's requests, and its bearer token, go to."""
        return self.origin is not None and origin(url) == self.origin and not _has_userinfo(url)

    def request(self, name: str, method: str, path: str, *, json_body: Any = None, raw_body: str | None = None,
                content_type: str = FHIR_JSON, params: Mapping[str, Any] | None = None,
                bearer: str | None = None, authorize: bool = True) -> Answer:
        """Send one request to the target and record it as ``name``.

        ``bearer`` replaces the run's token for this request; ``authorize=False`` sends none.
        """
        __tracebackhide__ = True  # pytest would print arguments that carry the token or secret
        headers = {"Accept": FHIR_JSON}
        body = None
        if json_body is not None or raw_body is not None:
            body = raw_body if raw_body is not None else json.dumps(json_body)
            headers["Content-Type"] = content_type
        url = self.url(path)
        if self.origin is not None and origin(url) != self.origin and not _has_userinfo(url):
            # not the target: nothing is sent there, credentials or not (the target may name any
            # host in a link; following it would hand that host the run's bearer token)
            shown = without_userinfo(url)
            why = f"not sent: {shown} is not on the target's origin {_origin_text(self.origin)}"
            self.note(f"{name}: {why}")
            raise ExchangeError(f"{name}: {method} {shown}: {why}", why=why)
        if authorize:
            headers["Authorization"] = f"Bearer {bearer if bearer is not None else self.token()}"
        return self._send(name, method, url, headers=headers, params=params,
                          data=body.encode("utf-8") if body is not None else None)

    def _send(self, name: str, method: str, url: str, *, headers: dict, params=None, data=None) -> Answer:
        """Send, and send again after a 429/503 as the retry policy allows; every attempt is recorded."""
        __tracebackhide__ = True  # pytest would print arguments that carry the token or secret
        if _has_userinfo(url):  # requests would send it as Basic auth, in place of the bearer token
            why = ("not sent: the URL holds a user name or password (user:password@host), which the harness "
                   "never sends; give credentials with --client-id and --client-secret, or --token")
            raise ExchangeError(f"{name}: {method} {without_userinfo(url)}: {why}", why=why)
        try:
            # auth=_no_auth: requests adds no credentials of its own (from the URL, from ~/.netrc)
            prepared = self.session.prepare_request(requests.Request(method, url, headers=headers,
                                                                     params=params, data=data, auth=_no_auth))
        except (requests.RequestException, ValueError) as err:  # no URL that can be sent to: nothing was sent
            why = why_no_answer(err, timeout=self.timeout) if isinstance(err, requests.RequestException) \
                else NoAnswer("not a valid URL", "not a valid URL")
            raise ExchangeError(f"{name}: {method} {url}: {why.detail}", why=why.brief) from None
        if self._unanswered >= GIVE_UP_AFTER:
            # A target that stopped answering would cost a full timeout per remaining request
            # (minutes for the whole suite); the rest of the run errors at once instead.
            self.note(f"{name}: not sent: the target gave no answer to the last {self._unanswered} requests")
            why = f"not sent, the target stopped answering ({self._unanswered} requests in a row got no answer)"
            raise ExchangeError(f"{name}: {method} {prepared.url}: {why}", why=why)
        attempt = 1
        while True:
            started = datetime.now(timezone.utc)
            clock = time.perf_counter()
            label = name if attempt == 1 else f"{name} (attempt {attempt})"
            try:
                response = self._fetch(prepared.copy())
            except requests.RequestException as err:
                self._unanswered += 1
                why = why_no_answer(err, timeout=self.timeout)
                error = why.detail if method.upper() in IDEMPOTENT \
                    else f"{why.detail}; not sent again, as the target may have acted on it"
                self._record(label, prepared, started, clock, error=error)
                raise ExchangeError(f"{label}: {method} {prepared.url}: {error}", why=why.brief) from None
            self._unanswered = 0
            decision = self.retry.decide(response.status_code, response.headers, attempt)
            if attempt == 1 and decision.retry:
                label = f"{name} (attempt 1)"
            if response.encoding is None and _json_media_type(response.headers.get("Content-Type")):
                # JSON without a charset is UTF-8 (RFC 8259 8.1); requests would otherwise guess one
                # from the bytes (charset_normalizer), at about a third of a millisecond an answer
                response.encoding = "utf-8"
            text = response.text  # decoded once: requests guesses a charset anew at every read
            exchange = self._record(label, prepared, started, clock, response=response, text=text)
            if decision.retry:
                self.note(f"{label}: {decision.why}")
                self._sleep(decision.wait_s)
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES:
                raise TargetUnavailable(f"{label}: {method} {prepared.url}: {decision.why}", why=decision.why)
            return Answer(response.status_code, response.headers, text, exchange)

    def _fetch(self, prepared: requests.PreparedRequest) -> requests.Response:
        """One request whose whole answer (status line, headers, body) must arrive within ``timeout``,
        and whose body, decoded, is at most ``max_answer_bytes``.

        ``requests``' own timeout bounds each wait for a byte, not the answer: headers or a
        body sent a byte every second would never trip a 10 s timeout. So a watchdog
        (``_Deadline``) shuts the connection's socket down at the deadline, whatever is being
        read, and the body is read here with ``read1`` (whatever has arrived, never waiting
        to fill a buffer), still compressed, and inflated here a bounded amount at a time.
        """
        deadline = _Deadline(self.timeout)
        _watched.deadline = deadline
        try:
            try:
                response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False, stream=True,
                                             proxies=self._proxies(prepared))
            except requests.RequestException:
                if deadline.expired:  # status line and headers not whole by the deadline: no answer
                    raise requests.Timeout(f"no answer within {self.timeout:g} s") from None
                raise
            except HTTPError as err:  # urllib3 errors requests does not wrap (an invalid Content-Length...)
                raise requests.ConnectionError(err) from None
            try:
                response._content = self._read_body(response, deadline)
            except requests.RequestException:  # too large, or not whole in time: said as it is
                raise
            except HTTPError as err:  # cut off mid-body (IncompleteRead...), the socket shut at the deadline
                if deadline.expired:
                    raise _IncompleteAnswer(f"the answer was not complete within {self.timeout:g} s") from None
                raise requests.ConnectionError(err) from None
            except (OSError, zlib.error) as err:  # a reset, a body that does not inflate
                if deadline.expired:
                    raise _IncompleteAnswer(f"the answer was not complete within {self.timeout:g} s") from None
                raise requests.ConnectionError(err) from None
            finally:
                response.close()
            if deadline.expired:  # the socket was shut mid-body and the read took that for the end
                raise _IncompleteAnswer(f"the answer was not complete within {self.timeout:g} s")
            return response
        finally:
            deadline.cancel()
            _watched.deadline = None

    def _proxies(self, prepared: requests.PreparedRequest) -> dict[str, str]:
        """The proxies ``requests`` would pick for this URL from the session and the environment
        (``HTTPS_PROXY``, ``NO_PROXY``...), worked out once per origin: requests reads the whole
        environment anew for every request otherwise, which cost more than a mock's answer."""
        key = origin(prepared.url or "")
        if key not in self._proxy_cache:
            self._proxy_cache[key] = requests.utils.resolve_proxies(prepared, self.session.proxies,
                                                                    self.session.trust_env)
        return dict(self._proxy_cache[key])

    def _read_body(self, response: requests.Response, deadline: "_Deadline") -> bytes:
        """The body, decoded, or ``_AnswerTooLarge`` as soon as it passes ``max_answer_bytes``.

        .content and .text read the attribute this fills (``_content``, private in requests, but
        what its own non-streamed path fills); once set, the answer reads as if it was not streamed.
        """
        limit = self.max_answer_bytes
        inflate = _Inflater.for_coding(response.headers.get("Content-Encoding"))
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                raw = response.raw.read1(READ_CHUNK, decode_content=False)
                piece = inflate.feed(raw, limit - size + 1) if inflate else raw
                if not raw and not piece:
                    break
                while piece:
                    size += len(piece)
                    if size > limit:
                        raise _AnswerTooLarge(f"the answer is larger than {limit} bytes")
                    chunks.append(piece)
                    piece = inflate.more(limit - size + 1) if inflate else b""
                if not raw:
                    break
                if deadline.expired or time.perf_counter() > deadline.at:
                    raise _IncompleteAnswer(f"the answer was not complete within {self.timeout:g} s")
        except ReadTimeoutError:
            raise _IncompleteAnswer(f"the answer stalled for {self.timeout:g} s") from None
        return b"".join(chunks)

    @contextlib.contextmanager
    def gathering(self, evidence: Evidence) -> Iterator[Evidence]:
        """This thread's exchanges and notes go to ``evidence`` rather than the scenario's, while the
        block runs: an explored case sent ahead, on a thread of its own, keeps what it gathered apart
        (steps/explore_steps.py), and its scenario takes it in the order the cases are judged."""
        before = getattr(self._gathered, "evidence", None)
        self._gathered.evidence = evidence
        try:
            yield evidence
        finally:
            self._gathered.evidence = before

    def overlapped(self, calls: Sequence[Callable[[], T]], *, at_once: int) -> list[T]:
        """Each call's result, in order, the calls running up to ``at_once`` at a time on threads of their
        own: for requests that do not depend on each other (the searches of a message's parties), so
        their waits on a distant target overlap. What each call gathers joins the current evidence in the
        order of ``calls``, as if they had run one after another; the first call (in that order) that
        raised raises here, after its evidence, and what the later ones gathered is not shown."""
        if at_once <= 1 or len(calls) <= 1:
            return [call() for call in calls]
        here = self._evidence_now()
        with ThreadPoolExecutor(max_workers=min(at_once, len(calls)), thread_name_prefix="overlapped") as pool:
            done = list(pool.map(self.gathered_call, calls))
        results = []
        for gathered, result, error in done:
            if here is not None:
                here.take(gathered)
            if error is not None:
                raise error
            results.append(result)
        return results

    def gathered_call(self, call: Callable[[], T]) -> tuple[Evidence, T | None, BaseException | None]:
        """``call`` run with its exchanges and notes kept apart (``gathering``): what it gathered, what it
        returned, and what it raised (None when it returned), for a caller to take in its own order."""
        with self.gathering(Evidence()) as gathered:
            try:
                return gathered, call(), None
            except BaseException as err:  # noqa: BLE001 -- handed to the caller, who raises it in its turn
                return gathered, None, err

    def note(self, text: str) -> None:
        """A note for the reader of the current scenario (or of the case being gathered)."""
        gathered = self._evidence_now()
        if gathered is not None:
            gathered.note(text)

    def _evidence_now(self) -> Evidence | None:
        gathered = getattr(self._gathered, "evidence", None)
        return gathered if gathered is not None else self.evidence

    def _record(self, name: str, prepared, started: datetime, clock: float, *, response=None,
                text: str | None = None, error: str | None = None) -> Exchange:
        __tracebackhide__ = True  # pytest would print arguments that carry the token or secret
        body = prepared.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        headers = dict(response.headers) if response is not None else {}
        exchange = Exchange(
            name=name, method=prepared.method, url=prepared.url,
            request_headers=dict(prepared.headers), request_body=_clip(body),
            status=response.status_code if response is not None else None,
            response_headers=headers,
            response_body=_clip(text if text is not None else response.text) if response is not None else None,
            correlation_id=_correlation_id(headers),
            started=started.isoformat(), duration_ms=round((time.perf_counter() - clock) * 1000, 3),
            error=error,
        )
        self.history.append(exchange)
        gathered = self._evidence_now()
        if gathered is not None:
            gathered.exchanges.append(exchange)
        return exchange


# -- origins --------------------------------------------------------------------------------

def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, the port filled in from the scheme; None for any other."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or (443 if scheme == "https" else 80)


def _origin_text(where: tuple[str, str, int] | None) -> str:
    if where is None:
        return "(none)"
    scheme, host, port = where
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def _has_userinfo(url: str) -> bool:
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return False


def without_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` taken out, for a message or a note."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _no_auth(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    return prepared


def _lifetime(value: Any) -> int | None:
    """A token answer's ``expires_in`` in whole seconds, if it is a sane one (not bool, NaN, negative, huge)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_TOKEN_LIFETIME:
        return None
    return int(value)


# -- the whole-exchange deadline ----------------------------------------------------------------

class _Deadline:
    """Shuts the watched connection's socket down when ``seconds`` have passed.

    Why a watchdog: the status line and headers are read inside ``requests``' ``send``, with a
    socket timeout that bounds each wait for a byte, not the whole; only shutting the socket
    ends a read that keeps getting a byte just in time. The connection registers its socket
    (``_WatchedConnection.getresponse``) through the thread-local ``_watched``, so the watchdog
    only ever touches the socket of the request it was started for. Every deadline of the
    process is kept by one ``_Watchdog`` thread: a thread started per request cost more than
    the request itself against a mock on this machine.
    """

    def __init__(self, seconds: float) -> None:
        self.at = time.perf_counter() + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._done = False
        _WATCHDOG.add(self)

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            _shut(self._sock)

    def cancel(self) -> None:
        with self._lock:
            self._done = True
            self._sock = None


class _Watchdog:
    """One daemon thread that expires every ``_Deadline`` of the process at its time.

    Deadlines wait in a heap by their time; a cancelled one is dropped when the thread next looks
    at the heap, so adding and cancelling cost a lock and a heap push, never a thread. The
    thread is started at the first deadline (and again in a child after a fork, where threads do
    not survive), and only woken early when a deadline comes before every one it waits for.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._seq = 0
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, deadline: _Deadline) -> None:
        with self._cond:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._heap = [entry for entry in self._heap if not entry[2]._done]
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="canvas-client-deadlines", daemon=True)
                self._thread.start()
            self._seq += 1
            earliest = not self._heap or deadline.at < self._heap[0][0]
            heapq.heappush(self._heap, (deadline.at, self._seq, deadline))
            if earliest:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                at, _, deadline = self._heap[0]
                wait = at - time.perf_counter()
                if deadline._done:  # answered in time: nothing to do at its time
                    heapq.heappop(self._heap)
                    continue
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            deadline._expire()  # outside the heap's lock: it takes the deadline's own


_WATCHDOG = _Watchdog()


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_watched = threading.local()


class _Watched:
    """A urllib3 connection that hands its socket to the current request's deadline before it reads
    the answer (a kept-alive connection too: this runs for every request it carries)."""

    def getresponse(self, *args, **kwargs):
        deadline = getattr(_watched, "deadline", None)
        if deadline is not None:
            deadline.watch(getattr(self, "sock", None))
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter, with connections whose socket the current request's ``_Deadline`` watches."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


# -- bounded inflation ----------------------------------------------------------------------------

class _Inflater:
    """Inflates a gzip or deflate body at most ``room`` bytes at a time (``zlib``'s ``max_length``),
    so memory holds what is kept, never what a small compressed body could grow into."""

    def __init__(self, wbits: int, *, deflate: bool = False) -> None:
        self._wbits = wbits
        self._deflate = deflate  # "deflate" is zlib-wrapped by the standard, raw by some servers
        self._first = True  # deflate: whether it is zlib-wrapped is learnt from the first bytes
        self._z = zlib.decompressobj(wbits)

    @classmethod
    def for_coding(cls, coding: str | None) -> "_Inflater | None":
        name = (coding or "").strip().lower()
        if name in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS)
        if name == "deflate":
            return cls(zlib.MAX_WBITS, deflate=True)
        return None  # identity, or a coding not asked for: the bytes as sent (bounded all the same)

    def feed(self, data: bytes, room: int) -> bytes:
        if not self._deflate and self._z.eof and self._z.unused_data:  # a gzip body of several members
            data = self._z.unused_data + data
            self._z = zlib.decompressobj(self._wbits)
        if self._deflate and self._first and data:
            self._first = False
            try:
                return self._z.decompress(data, room)
            except zlib.error:  # not zlib-wrapped: a raw deflate stream
                self._wbits = -zlib.MAX_WBITS
                self._z = zlib.decompressobj(self._wbits)
        return self._z.decompress(data, room)

    def more(self, room: int) -> bytes:
        """What is still held back of the last input (it gave more than ``room``)."""
        if self._z.unconsumed_tail:
            return self._z.decompress(self._z.unconsumed_tail, room)
        if not self._deflate and self._z.eof and self._z.unused_data:
            return self.feed(b"", room)
        return b""


def _json_media_type(content_type: str | None) -> bool:
    """``application/json``, ``application/fhir+json`` or any other ``+json`` type, whatever its parameters."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _correlation_id(headers: Mapping[str, str]) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in CORRELATION_HEADERS:
        if lowered.get(name):
            return lowered[name]
    return None


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_BODY_CHARS:
        return text
    return text[:MAX_BODY_CHARS] + f"... [{len(text) - MAX_BODY_CHARS} more characters not kept]"


class NoAnswer(NamedTuple):
    """Why a request got no answer, read once from what ``requests`` raised, said for two readers."""

    brief: str  # ends a line that names the URL: "cannot reach <url>: no answer within 5 s"
    detail: str  # an exchange's ``error``: also how it failed ("(timeout)", "connection failed: ...")


_REFUSED = ("Connection refused", "ConnectionRefused")
_DROPPED = ("RemoteDisconnected", "Connection aborted", "ConnectionReset", "Connection reset", "IncompleteRead",
            "ProtocolError")
_NO_HOST = ("Name or service not known", "nodename nor servname", "getaddrinfo failed", "Failed to resolve",
            "NameResolutionError", "Temporary failure in name resolution")


def why_no_answer(err: requests.RequestException, *, timeout: float) -> NoAnswer:
    """Why ``err`` stood in for an answer, ``timeout`` being the seconds the answer was given."""
    if isinstance(err, _AnswerTooLarge):
        return NoAnswer(str(err), f"{err} (not kept)")
    if isinstance(err, _IncompleteAnswer):
        brief = f"no complete answer within {timeout:g} s"
        return NoAnswer(brief, f"{brief} (timeout: the body was still coming)")
    if isinstance(err, requests.Timeout):
        brief = f"no answer within {timeout:g} s"
        return NoAnswer(brief, f"{brief} (timeout)")
    if isinstance(err, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return NoAnswer("not a valid URL", "not a valid URL")
    if not isinstance(err, requests.ConnectionError):
        return NoAnswer(type(err).__name__, type(err).__name__)
    text = repr(err)
    if isinstance(err, requests.exceptions.SSLError):
        brief = how = "TLS handshake failed (certificate or protocol)"
    elif any(s in text for s in _REFUSED):
        brief, how = "connection refused (nothing listens there)", "refused (nothing listens there)"
    elif any(s in text for s in _DROPPED):
        brief, how = "the connection was closed without an answer", "closed by the target without a complete answer"
    elif any(s in text for s in _NO_HOST):
        brief = how = "host name not found"
    else:
        brief = "the connection failed (refused, reset or unreachable)"
        return NoAnswer(brief, "connection failed (refused, reset or unreachable)")
    return NoAnswer(brief, f"connection failed: {how}")
