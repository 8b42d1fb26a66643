r"""Secrets out of everything the harness writes: reports, logs, error lines.

Why by value rather than by field: a misbehaving target may echo a token or the
client secret anywhere (a body, a header, an error text), so every string that
leaves the process is scrubbed of every known secret, in every spelling a writer
of this harness or the target can give it (``spellings``): plain, URL- and
form-encoded (upper and lower case hex), HTML/XML-escaped, JSON-escaped (with
``\/`` and ``\uXXXX``), Python-escaped (``repr``, as pytest and junit.xml show
values), and the escaped ones HTML-escaped again. A JSON text is also redacted as
what it decodes to (a secret spelt with escapes no list foresees, ``\u0061...``),
since every reader (the report's pretty-printer included) sees the decoded text.
Authorization and cookie headers are masked whatever they hold.

Why ``harvest``: the writer of a report knows the secrets it was given, but not
every token the suite obtained during the run. The recorded exchanges themselves
say where tokens travelled (a bearer header, a token answer, a form body), so
those values are collected and then scrubbed everywhere else they were echoed.
"""
from __future__ import annotations

import functools
import html
import json
import re
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

MASK = "[REDACTED]"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# Keys whose values are credentials wherever they appear: JSON bodies, form bodies, query strings.
SECRET_KEYS = frozenset({"access_token", "refresh_token", "id_token", "client_secret", "password",
                         "client_assertion", "token"})
MIN_SECRET = 4  # a secret of 1-3 characters would mask ordinary text
MIN_HARVESTED = 8  # found values are masked everywhere; a short one ("test") would eat ordinary words


_PERCENT = re.compile(r"%[0-9A-F]{2}")
MAX_DECODED = 4 * 1024 * 1024  # a JSON text longer than this is redacted by its spellings only


def _escapes(text: str) -> set[str]:
    r"""``text`` as a JSON string's inside (ASCII or not, ``/`` or ``\/``) and as a Python string's (``repr``,
    either quote escaped, or all of it ``unicode_escape``d)."""
    out = set()
    for ascii_only in (False, True):
        as_json = json.dumps(text, ensure_ascii=ascii_only)[1:-1]
        out |= {as_json, as_json.replace("/", "\\/")}
    backslashed = text.replace("\\", "\\\\")
    out |= {repr(text)[1:-1], backslashed.replace("'", "\\'"), backslashed.replace('"', '\\"'),
            text.encode("unicode_escape").decode("ascii")}
    return out


def spellings(secret: str) -> set[str]:
    """Every spelling of ``secret`` that a report, a log or an echoing target may write: escaped up to
    twice (a JSON body quoted by Python in a check's message), each also HTML/XML-escaped, and URL-encoded."""
    escaped = {secret} | _escapes(secret)
    escaped |= {twice for once in escaped for twice in _escapes(once)}
    out = set()
    for form in escaped:
        out |= {form, html.escape(form), html.escape(form, quote=False),
                html.escape(form, quote=False).replace('"', "&quot;")}
    for url in (quote(secret, safe=""), quote(secret), quote_plus(secret)):
        out |= {url, _PERCENT.sub(lambda m: m.group(0).lower(), url)}
    return out


def _spellings(secrets: Iterable[str]) -> list[str]:
    return _spellings_of(tuple(sorted({s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET})))


@functools.lru_cache(maxsize=64)  # a stream asks at every write, with the same few secrets
def _spellings_of(secrets: tuple[str, ...]) -> list[str]:
    out = set()
    for secret in secrets:
        out |= spellings(secret)
    out = {s for s in out if len(s) >= MIN_SECRET}
    out.discard(MASK)
    return sorted(out, key=len, reverse=True)


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of ``value`` (str, dict, list, tuple, scalars) with every secret replaced by MASK."""
    return _redact(value, _spellings(secrets), {})


def _redact(value: Any, spellings: list[str], done: dict[str, str]) -> Any:
    # ``done``: each distinct string is redacted once per call (a run's evidence repeats the same
    # search answers many times over, and a text with escapes is decoded to be redacted)
    if isinstance(value, str):
        if not spellings:
            return value
        cleaned = done.get(value)
        if cleaned is None:
            cleaned = value
            for s in spellings:
                if s in cleaned:
                    cleaned = cleaned.replace(s, MASK)
            if "\\" in cleaned:
                cleaned = _redact_decoded(cleaned, spellings)
            done[value] = cleaned
        return cleaned
    if isinstance(value, dict):
        return {k: (_mask_header(v) if isinstance(k, str) and k.lower() in SENSITIVE_HEADERS
                    else _redact(v, spellings, done))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, spellings, done) for v in value]
    if isinstance(value, tuple):
        return tuple(_redact(v, spellings, done) for v in value)
    return value


def _redact_decoded(text: str, spellings: list[str]) -> str:
    """A JSON text holding a secret only in an escaped spelling, written again without it.

    Only texts with an escape in them can hide a secret from the plain spellings; such a text
    is decoded, redacted as data, and, when that changed anything, written again (as compact
    JSON: the exact bytes of an answer that echoed a secret are not worth keeping).
    """
    stripped = text.strip()
    if stripped[:1] not in ("{", "[", '"') or len(stripped) > MAX_DECODED:
        return text
    try:
        decoded = json.loads(stripped)
    except (ValueError, RecursionError):
        return text
    cleaned = _redact_data(decoded, spellings, depth=0)
    if cleaned == decoded:
        return text
    return json.dumps(cleaned, ensure_ascii=False)


def _redact_data(value: Any, spellings: list[str], *, depth: int) -> Any:
    if depth > 64:
        return value
    if isinstance(value, str):
        for s in spellings:
            if s in value:
                value = value.replace(s, MASK)
        return value
    if isinstance(value, dict):
        return {_redact_data(k, spellings, depth=depth + 1): _redact_data(v, spellings, depth=depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_data(v, spellings, depth=depth + 1) for v in value]
    return value


def _mask_header(value: Any) -> Any:
    if not isinstance(value, str):
        return MASK
    scheme, _, rest = value.partition(" ")
    return f"{scheme} {MASK}" if rest else MASK


def harvest(value: Any) -> set[str]:
    """Credentials found where credentials travel inside ``value`` (recorded exchanges, results).

    Looks at sensitive header values (the part after ``Bearer``/``Basic``), at keys named like
    credentials (``access_token``, ``client_secret``...) in dicts, in JSON strings, in form-encoded
    strings and in URL query strings. Anything found is meant for ``redact``.
    """
    found: set[str] = set()
    _harvest(value, found, depth=0, seen={})
    found.discard(MASK)
    return {s for s in found if len(s) >= MIN_HARVESTED}


def _harvest(value: Any, found: set[str], *, depth: int, seen: dict[str, int]) -> None:
    # ``seen``: a text gives the same findings wherever it is (no deeper than it was read before),
    # so each distinct one is read once
    if depth > 12:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            lowered = key.lower() if isinstance(key, str) else ""
            if lowered in SENSITIVE_HEADERS and isinstance(item, str):
                scheme, _, rest = item.partition(" ")
                found.add((rest or scheme).strip())
            elif lowered in SECRET_KEYS and isinstance(item, str):
                found.add(item)
            else:
                _harvest(item, found, depth=depth + 1, seen=seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _harvest(item, found, depth=depth + 1, seen=seen)
    elif isinstance(value, str) and value and seen.get(value, depth + 1) > depth:
        seen[value] = depth
        _harvest_text(value, found, depth=depth, seen=seen)


def _harvest_text(text: str, found: set[str], *, depth: int, seen: dict[str, int]) -> None:
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            _harvest(json.loads(stripped), found, depth=depth + 1, seen=seen)
        except ValueError:
            pass
        return
    query = text
    if stripped.startswith(("http://", "https://")):
        query = urlsplit(stripped).query
    if "=" in query and " " not in query.strip():
        for key, item in parse_qsl(query, keep_blank_values=False):
            if key.lower() in SECRET_KEYS:
                found.add(item)


class RedactingStream:
    """A text stream that masks ``secrets()`` in everything written through it.

    Why a stream: a process that learns secrets as it goes (the suite obtains its tokens
    while it runs) can only keep them out of its own printed output at the moment of
    writing; whoever reads that output later does not know them. ``secrets`` is asked at
    every write, so a token obtained mid-run is masked from then on.
    """

    def __init__(self, stream, secrets: Callable[[], Iterable[str]]) -> None:
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        self._stream.write(redact(text, self._secrets()) if isinstance(text, str) else text)
        return len(text)

    def __getattr__(self, name: str):  # flush, isatty, encoding...: the wrapped stream's own
        return getattr(self._stream, name)
