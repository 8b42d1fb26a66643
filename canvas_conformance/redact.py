"""Secrets out of everything the harness writes: reports, logs, error lines.

Why by value rather than by field: a misbehaving target may echo a token or the
client secret anywhere (a body, a header, an error text), so every string that
leaves the process is scrubbed of every known secret, in its plain, URL-encoded
and form-encoded spellings. Authorization and cookie headers are masked whatever
they hold.
"""
from __future__ import annotations

from typing import Any, Iterable
from urllib.parse import quote, quote_plus

MASK = "[REDACTED]"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def _spellings(secrets: Iterable[str]) -> list[str]:
    out = set()
    for secret in secrets:
        if secret and len(secret) >= 4:  # a secret of 1-3 characters would mask ordinary text
            out.update({secret, quote(secret, safe=""), quote_plus(secret)})
    return sorted(out, key=len, reverse=True)


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of ``value`` (str, dict, list, tuple, scalars) with every secret replaced by MASK."""
    return _redact(value, _spellings(secrets))


def _redact(value: Any, spellings: list[str]) -> Any:
    if isinstance(value, str):
        for s in spellings:
            if s in value:
                value = value.replace(s, MASK)
        return value
    if isinstance(value, dict):
        return {k: (_mask_header(v) if isinstance(k, str) and k.lower() in SENSITIVE_HEADERS
                    else _redact(v, spellings))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact(v, spellings) for v in value) if isinstance(value, list) else \
            tuple(_redact(v, spellings) for v in value)
    return value


def _mask_header(value: Any) -> Any:
    if not isinstance(value, str):
        return MASK
    scheme, _, rest = value.partition(" ")
    return f"{scheme} {MASK}" if rest else MASK
