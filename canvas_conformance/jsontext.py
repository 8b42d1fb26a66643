"""JSON text indented by two spaces, exactly as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it.

Why not json.dumps itself: with ``indent`` the standard library falls back to its pure-Python
encoder, a generator per nesting level, and the report files of a run hold tens of megabytes of
evidence (every exchange's bodies): that encoder was the largest part of writing the report. Here
strings and numbers are encoded by the C functions json.dumps uses for them, and the nesting by
one recursive function that appends to a list; the text is the same, character for character
(tests/runner/test_jsontext.py compares the two).
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C one when available, as json.dumps uses
from typing import Any

_INF = float("inf")


def dumps(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``."""
    out: list[str] = []
    _write(value, out, "\n", {})
    return "".join(out)


def _scalar(value: Any) -> str | None:
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value == _INF:
            return "Infinity"
        if value == -_INF:
            return "-Infinity"
        return float.__repr__(value)
    return None


def _key(key: Any) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, (bool, int, float)) or key is None:
        return encode_basestring(_scalar(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


LONG = 256  # strings at least this long are encoded once per call: a run's evidence repeats its bodies


def _write(value: Any, out: list[str], newline: str, long: dict[str, str]) -> None:
    if isinstance(value, str) and len(value) >= LONG:
        text = long.get(value)
        if text is None:
            text = long[value] = encode_basestring(value)
        out.append(text)
        return
    text = _scalar(value)
    if text is not None:
        out.append(text)
        return
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        first = True
        for key, item in value.items():
            out.append(("{" if first else ",") + inner + _key(key) + ": ")
            first = False
            _write(item, out, inner, long)
        out.append(newline + "}")
        return
    if isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        first = True
        for item in value:
            out.append(("[" if first else ",") + inner)
            first = False
            _write(item, out, inner, long)
        out.append(newline + "]")
        return
    # anything else json.dumps refuses the same way
    out.append(json.dumps(value, ensure_ascii=False))
