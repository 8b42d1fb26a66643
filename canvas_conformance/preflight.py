"""Before a run: is writing to this target allowed, does it answer, does it accept our credentials?

Why check before the suite starts: a run against a wrong URL or with a refused
token would otherwise turn every rule into an ``error`` after minutes of timeouts.
Why the CapabilityStatement: a base URL with a wrong path still answers (a 404 page, a
web app's index), and a run against it would skip or error every rule and say little;
``GET <base>/metadata`` answering 200 with a CapabilityStatement whose ``rest`` names
``Communication`` is what a FHIR endpoint for this suite says about itself.
A CI pipeline wants exit code 2 and one clear line within seconds instead. Why the
loopback rule: creating messages on a real system writes into patients' charts,
so a target off this machine needs ``--allow-writes`` before anything is sent.

Every message here is one line and carries no secret (the caller redacts it again).

Every request goes through the harness's one HTTP client (client.py's ``Client``), one made
for the pre-flight with the run's timeout (capped at ``ANSWER_S``) and retry policy. So, as
for every request of the run: a token endpoint answering ``429``/``503`` is asked again as
the policy allows (a refused grant changes nothing, so asking again is safe) and one still
unavailable is said to be unavailable, not to have refused the credentials; an answer that
does not come whole within the timeout is cut off; and why no answer came is worded by the
client. Its exchanges go nowhere: the pre-flight gives no verdict, so it has no evidence to
show. On top, the whole pre-flight ends within ``DEADLINE_S`` whatever the target does.
"""
from __future__ import annotations

import ipaddress
import json
import re
import threading
from typing import Callable, NamedTuple
from urllib.parse import urlsplit

from .canvas_hosts import profile_mismatch
from .client import Answer, Client, ExchangeError, TargetUnavailable
from .config import MAX_ANSWER_BYTES
from .retry import RetryPolicy

DEADLINE_S = 25.0  # the whole pre-flight, so "could not start" is said within 30 s
ANSWER_S = 10.0  # the longest any one pre-flight answer is given, whatever the run's timeout


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
    max_answer_bytes: int = MAX_ANSWER_BYTES


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


def check_profile_fits(base_url: str, profile: str) -> None:
    """A Canvas FHIR host judged by the profile of Canvas's other API is refused before anything is sent
    (a profile left unchosen is the host's own: config.resolve picks it)."""
    mismatch = profile_mismatch(base_url, profile)
    if mismatch:
        raise Refusal(mismatch)


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
    client = Client(creds.base_url, token_url=creds.token_url, client_id=creds.client_id,
                    client_secret=creds.client_secret, token=creds.token, timeout=min(creds.timeout, ANSWER_S),
                    retry=creds.retry, max_answer_bytes=creds.max_answer_bytes)
    try:
        metadata = client.url("metadata")
        check_capabilities(metadata, _ask("the target at", metadata, lambda: client.request(
            "reach the target", "GET", metadata, authorize=False)))
        if creds.token:
            return _check_token(client, creds.token)
        answer = _ask("the token endpoint", client.token_url, lambda: client.grant("the pre-flight's token grant"))
    finally:
        client.close()
    token = _access_token(answer)
    if answer.status == 404:  # nothing is there: a wrong URL, not wrong credentials
        raise Refusal(f"the token endpoint {creds.token_url} was not found (HTTP 404): check --base-url "
                      "and --token-url")
    if answer.status != 200 or not token:
        raise Refusal(f"the token endpoint {creds.token_url} refused the client credentials: "
                      f"HTTP {answer.status}{_oauth_error(answer)}")
    return token


def _ask(where: str, url: str, send: Callable[[], Answer]) -> Answer:
    """``send()``'s answer, or the Refusal that says why none came from ``where`` ``url``."""
    try:
        return send()
    except TargetUnavailable as err:
        raise Refusal(f"{where} {url} is unavailable: {err.why}") from None
    except ExchangeError as err:
        raise Refusal(f"cannot reach {where} {url}: {err.why}") from None


def check_capabilities(url: str, answer: Answer) -> None:
    """``answer`` (to GET ``url``) is a CapabilityStatement serving Communication, or the Refusal
    that says what was found instead: the status, the content type, the resourceType."""
    media = (answer.headers.get("Content-Type") or "no content type").split(";", 1)[0].strip()
    found = f"HTTP {answer.status}, {media}"
    try:
        body = json.loads(answer.text or "")
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        kind = body.get("resourceType")
        found += f", resourceType {kind!r}" if isinstance(kind, str) and len(kind) <= 64 else ", no resourceType"
    else:
        found += ", not a JSON object"
    if answer.status == 200 and isinstance(body, dict) and body.get("resourceType") == "CapabilityStatement":
        if "Communication" in _served_types(body):
            return
        found += " not listing Communication among its rest resources"
    raise Refusal(f"{url} is not a FHIR endpoint serving Communication (expected HTTP 200 with a "
                  f"CapabilityStatement; got {found}): is --base-url the FHIR base?")


def _served_types(capabilities: dict) -> set[str]:
    """The resource types a CapabilityStatement's ``rest`` entries name (any shape read without raising)."""
    rests = capabilities.get("rest")
    types = set()
    for rest in rests if isinstance(rests, list) else ():
        resources = rest.get("resource") if isinstance(rest, dict) else None
        for resource in resources if isinstance(resources, list) else ():
            if isinstance(resource, dict) and isinstance(resource.get("type"), str):
                types.add(resource["type"])
    return types


def _check_token(client: Client, token: str) -> str:
    url = client.url("Communication?_count=1")
    answer = _ask("the target at", url, lambda: client.request("check the bearer token", "GET", url))
    if answer.status in (401, 403):
        raise Refusal(f"the target refused the bearer token given with --token: HTTP {answer.status} "
                      "on GET /Communication")
    return token


def _access_token(answer: Answer) -> str | None:
    try:
        token = answer.json().get("access_token")
    except (ValueError, AttributeError):
        return None
    return token if isinstance(token, str) and token else None


def _oauth_error(answer: Answer) -> str:
    """The OAuth ``error`` code (e.g. invalid_client), only if it looks like one: never free text."""
    try:
        code = answer.json().get("error")
    except (ValueError, AttributeError):
        return ""
    return f" {code}" if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,40}", code) else ""

