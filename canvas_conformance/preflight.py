"""Before a run: is writing to this target allowed, does it answer, does it accept our credentials?

Why check before the suite starts: a run against a wrong URL or with a refused
token would otherwise turn every rule into an ``error`` after minutes of timeouts.
A CI pipeline wants exit code 2 and one clear line within seconds instead. Why the
loopback rule: creating messages on a real system writes into patients' charts,
so a target off this machine needs ``--allow-writes`` before anything is sent.

Every message here is one line and carries no secret (the caller redacts it again).

Under faults: the whole pre-flight ends within ``DEADLINE_S`` whatever the target does
(hangs, trickles, drops); a token endpoint answering ``429``/``503`` is asked again as
the run's retry policy allows (a refused grant changes nothing, so asking again is safe),
and one still unavailable is said to be unavailable, not to have refused the credentials.
"""
from __future__ import annotations

import ipaddress
import re
import threading
import time
from typing import NamedTuple
from urllib.parse import urlsplit

import requests

from .retry import RETRY_STATUSES, RetryPolicy

DEADLINE_S = 25.0  # the whole pre-flight, so "could not start" is said within 30 s
CONNECT_S = 5.0
READ_S = 10.0


class Refusal(Exception):
    """The run cannot start; the message is the one line a person reads."""


class Credentials(NamedTuple):
    base_url: str
    token_url: str
    client_id: str | None
    client_secret: str | None
    token: str | None
    timeout: float
    retry: RetryPolicy = RetryPolicy()


def is_loopback(url: str) -> bool:
    """True for localhost, *.localhost, 127.0.0.0/8 and ::1, decided from the URL alone (no DNS)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_writes_allowed(base_url: str, *, allow_writes: bool) -> None:
    if not allow_writes and not is_loopback(base_url):
        host = urlsplit(base_url).hostname
        raise Refusal(f"refusing to run against {host}: it is not a loopback address and the suite creates "
                      "messages in patients' charts; pass --allow-writes (or CANVAS_ALLOW_WRITES=1) "
                      "if this target may be written to")


def check_credentials_given(creds: Credentials) -> None:
    if creds.token:
        return
    if not creds.client_id and not creds.client_secret:
        raise Refusal(f"no credentials for {creds.base_url}: give --client-id and --client-secret "
                      "(CANVAS_CLIENT_ID, CANVAS_CLIENT_SECRET) or a ready bearer token with --token (CANVAS_TOKEN)")
    if not creds.client_id:
        raise Refusal("--client-secret was given without --client-id (CANVAS_CLIENT_ID)")
    if not creds.client_secret:
        raise Refusal("--client-id was given without --client-secret (CANVAS_CLIENT_SECRET)")


def probe(creds: Credentials, *, deadline_s: float = DEADLINE_S) -> str | None:
    """Reach the target and its token endpoint; answer the token obtained (for redaction), or Refusal.

    Read-only: GET <base>/metadata, POST to the token endpoint (client credentials)
    or, with a ready token, GET <base>/Communication?_count=1.
    """
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["token"] = _probe(creds)
        except Refusal as err:
            outcome["refusal"] = err
        except Exception as err:  # noqa: BLE001 - anything unforeseen is still one line, exit 2
            outcome["refusal"] = Refusal(f"cannot check {creds.base_url}: {type(err).__name__}")

    worker = threading.Thread(target=work, name="canvas-preflight", daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive():
        raise Refusal(f"{creds.base_url} did not answer the pre-flight checks within {deadline_s:.0f} s")
    if "refusal" in outcome:
        raise outcome["refusal"]
    return outcome.get("token")


def _probe(creds: Credentials) -> str | None:
    timeout = (min(creds.timeout, CONNECT_S), min(creds.timeout, READ_S))
    metadata = f"{creds.base_url}/metadata"
    try:
        requests.get(metadata, timeout=timeout, headers={"Accept": "application/fhir+json"})
    except requests.RequestException as err:
        raise Refusal(f"cannot reach the target at {metadata}: {_why(err, timeout[1])}") from None
    if creds.token:
        return _check_token(creds, timeout)
    answer = _grant(creds, timeout)
    token = _access_token(answer)
    if answer.status_code != 200 or not token:
        raise Refusal(f"the token endpoint {creds.token_url} refused the client credentials: "
                      f"HTTP {answer.status_code}{_oauth_error(answer)}")
    return token


def _grant(creds: Credentials, timeout) -> requests.Response:
    """The client-credentials grant, asked again after a 429/503 as the retry policy allows."""
    attempt = 1
    while True:
        try:
            answer = requests.post(creds.token_url, timeout=timeout, data={
                "grant_type": "client_credentials", "client_id": creds.client_id,
                "client_secret": creds.client_secret})
        except requests.RequestException as err:
            raise Refusal(f"cannot reach the token endpoint {creds.token_url}: {_why(err, timeout[1])}") from None
        decision = creds.retry.decide(answer.status_code, answer.headers, attempt)
        if decision.retry:
            time.sleep(decision.wait_s)
            attempt += 1
            continue
        if answer.status_code in RETRY_STATUSES:
            raise Refusal(f"the token endpoint {creds.token_url} is unavailable: {decision.why}")
        return answer


def _check_token(creds: Credentials, timeout) -> str:
    url = f"{creds.base_url}/Communication?_count=1"
    try:
        answer = requests.get(url, timeout=timeout, headers={
            "Authorization": f"Bearer {creds.token}", "Accept": "application/fhir+json"})
    except requests.RequestException as err:
        raise Refusal(f"cannot reach the target at {url}: {_why(err, timeout[1])}") from None
    if answer.status_code in (401, 403):
        raise Refusal(f"the target refused the bearer token given with --token: HTTP {answer.status_code} "
                      "on GET /Communication")
    return creds.token


def _access_token(answer: requests.Response) -> str | None:
    try:
        token = answer.json().get("access_token")
    except (ValueError, AttributeError):
        return None
    return token if isinstance(token, str) and token else None


def _oauth_error(answer: requests.Response) -> str:
    """The OAuth ``error`` code (e.g. invalid_client), only if it looks like one: never free text."""
    try:
        code = answer.json().get("error")
    except (ValueError, AttributeError):
        return ""
    return f" {code}" if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,40}", code) else ""


def _why(err: Exception, read_s: float) -> str:
    text = str(err)
    if isinstance(err, requests.Timeout):
        return f"no answer within {read_s:g} s"
    if isinstance(err, requests.exceptions.SSLError):
        return "TLS handshake failed (certificate or protocol)"
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused (nothing listens there)"
    if any(s in text for s in ("RemoteDisconnected", "Connection aborted", "Connection reset", "ConnectionReset")):
        return "the connection was closed without an answer"
    if any(s in text for s in ("Name or service not known", "nodename nor servname", "getaddrinfo failed",
                               "Failed to resolve", "NameResolutionError", "Temporary failure in name resolution")):
        return "host name not found"
    if isinstance(err, requests.exceptions.InvalidURL) or isinstance(err, requests.exceptions.MissingSchema):
        return "not a valid URL"
    return type(err).__name__
