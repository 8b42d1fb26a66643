"""From request bytes to the Communication the mock stores, or the issues that refuse it.

Two stages, as the rules page's reference behaviour asks: structure first
(JSON, resourceType, required elements, JSON types, date-time syntax: ``400``),
then Canvas's business rules (reference kinds, who exists, who talks to whom,
empty content: ``422``). Each stage reports every problem it finds at once, so a
client developer fixes a request in one round trip.
"""
from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import fastjsonschema
from jsonschema import Draft7Validator

from .fhir_types import MEDIA_TYPES, MEDIA_TYPES_TEXT, PARTY_TYPES, REFERENCE
from .outcome import MAX_ISSUES, FhirError, Issue

_SCHEMA_FILE = Path(__file__).with_name("schemas") / "communication.schema.json"
# What a FHIR string may not hold (FHIR R4, datatypes: "Strings SHALL NOT contain Unicode character
# points below 32, except for u0009, u000A and u000D"), and lone surrogates: JSON's \uD800 escapes
# decode to code points that are no Unicode text at all, and no page or UTF-8 answer can carry them.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# Which rule a missing or empty top-level element breaks.
_REQUIRED_RULE = {"recipient": "RCPT-1", "sender": "SNDR-1", "payload": "PAY-1", "resourceType": "FHIR-1"}
# canvas-current (Canvas's v2 API): status is required too (STAT-1), with one of these values.
_REQUIRED_RULE_CURRENT = {**_REQUIRED_RULE, "status": "STAT-1"}
CURRENT_STATUSES = ("completed", "in-progress", "preparation", "unknown")


class Party(NamedTuple):
    """One side of the conversation, as referenced."""

    type: str
    id: str

    @property
    def reference(self) -> str:
        return f"{self.type}/{self.id}"


class Ingested(NamedTuple):
    """What Canvas keeps of a valid create, before the server adds id and timestamps."""

    sender: Party
    recipient: Party
    text: str
    status: str
    sent: datetime | None
    received: datetime | None

    @property
    def patient_id(self) -> str:
        return self.sender.id if self.sender.type == "Patient" else self.recipient.id


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(_SCHEMA_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    # The schema's local $refs are inlined once, so no request resolves them through
    # jsonschema's ``referencing``.
    return Draft7Validator(_inline_refs(schema(), schema().get("definitions", {})))


@lru_cache(maxsize=1)
def _fast_check():
    """The same inlined schema compiled to plain Python by fastjsonschema: a yes or a no.

    Why two validators: jsonschema's ``iter_errors`` is what names every problem for the
    OperationOutcome, but almost every create is valid and needs no names, and the compiled
    check is far cheaper (bench/RESULTS.md). It only lets valid bodies skip ``iter_errors``; when
    it says no (or fails in any way), the jsonschema path decides and words the answer, so every
    issue is jsonschema's whichever path ran. It is
    never more lenient: it matches patterns with Python's ``re`` as jsonschema does, only with
    ``$`` as ``\\Z`` (no trailing newline), which can refuse more, never accept more
    (tests/mock/test_fast_validation.py compares the two on valid and broken bodies).
    """
    return fastjsonschema.compile(_inline_refs(schema(), schema().get("definitions", {})),
                                  use_default=False, use_formats=False)


def _inline_refs(node: Any, definitions: dict) -> Any:
    """``node`` with every ``{"$ref": "#/definitions/X"}`` replaced by X (the schema has no cycles)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            return _inline_refs(definitions[ref.rsplit("/", 1)[1]], definitions)
        return {key: _inline_refs(value, definitions) for key, value in node.items() if key != "definitions"}
    if isinstance(node, list):
        return [_inline_refs(item, definitions) for item in node]
    return node


def parse_body(content_type: str | None, raw: bytes, *, max_depth: int) -> Any:
    """Bytes to JSON, refusing what is not a JSON document of sane shape (FHIR-1, FHIR-8)."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype not in MEDIA_TYPES:  # FHIR-8
        shown = mimetype or "none"
        raise FhirError(415, Issue("not-supported", "FHIR-8",
                                   f"Content-Type {shown!r} is not accepted; send {MEDIA_TYPES_TEXT}"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise FhirError(400, Issue("structure", "FHIR-1", f"the body is not UTF-8 text (byte {err.start})")) from None
    if not text.strip():
        raise FhirError(400, Issue("structure", "FHIR-1", "the body is empty; a Communication resource is expected"))
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise FhirError(400, Issue("structure", "FHIR-1", f"the JSON is nested deeper than {max_depth} levels")) from None
    except ValueError as err:
        raise FhirError(400, Issue("structure", "FHIR-1", f"the body is not valid JSON: {_short(str(err))}")) from None
    # Nesting cannot be deeper than the number of brackets that open objects and arrays (a count done
    # in C, cheaper than walking the document), so only a body with more of them is walked.
    if text.count("{") + text.count("[") > max_depth and _depth(document) > max_depth:
        raise FhirError(400, Issue("structure", "FHIR-1", f"the JSON is nested deeper than {max_depth} levels"))
    # The JSON decoder refuses raw control characters in strings, and UTF-8 cannot encode a
    # surrogate, so only a \u escape can bring either in: a body without one is not walked.
    if "\\u" in text:
        issues, counted_all = _not_text_issues(document)
        if issues:
            raise FhirError(400, *issues, counted_all=counted_all)
    return document


def _not_text_issues(document: Any) -> tuple[list[Issue], bool]:
    """An issue for each string (value or property name) that is not FHIR text, naming its element."""
    issues: list[Issue] = []
    stack: list[tuple[Any, list]] = [(document, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            for key, value in reversed(items):
                if _NOT_TEXT.search(key):
                    issues.append(_not_text_issue(key, path, "a property name of "))
                stack.append((value, path + [key]))
        elif isinstance(node, list):
            stack.extend((value, path + [i]) for i, value in reversed(list(enumerate(node))))
        elif isinstance(node, str) and _NOT_TEXT.search(node):
            issues.append(_not_text_issue(node, path, ""))
        if len(issues) > MAX_ISSUES:
            return issues, False
    return issues, True


def _not_text_issue(value: str, path: list, what: str) -> Issue:
    char = _NOT_TEXT.search(value).group()
    kind = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    where = _expression([p if isinstance(p, int) else _printable(p) for p in path])
    return Issue("value", "FHIR-1", f"{what}{where} holds {kind} (U+{ord(char):04X} at character "
                                    f"{value.index(char)}); FHIR strings are Unicode text without "
                                    "control characters other than tab, CR and LF", where)


def _printable(name: str) -> str:
    """A property name as an expression may show it: what is not text becomes U+FFFD."""
    return _short(_NOT_TEXT.sub("\ufffd", name), 64)


def ingest(document: Any, *, person_exists, current: bool = False) -> Ingested:
    """Validate a parsed body as a Communication create; ``person_exists(type, id)`` asks storage.

    ``current``: as Canvas's v2 API (profile canvas-current) rather than the 2022 page's v1.
    """
    if not isinstance(document, dict):
        raise FhirError(400, Issue("structure", "FHIR-1", "the body must be a JSON object (a Communication resource)"))
    if document.get("resourceType") != "Communication":
        got = document.get("resourceType")
        what = "has no resourceType" if got is None else f"has resourceType {_short(repr(got))}"
        raise FhirError(400, Issue("structure", "FHIR-1", f"the body {what}; Communication is expected",
                                   "Communication.resourceType"))
    issues, counted_all = _structure_issues(document, _REQUIRED_RULE_CURRENT if current else _REQUIRED_RULE)
    if current:
        _v2_structure_issues(document, issues)
    sent = _instant(document, "sent", issues)
    received = _instant(document, "received", issues)
    if issues:
        raise FhirError(400, *issues, counted_all=counted_all)

    issues = []
    recipient = _party(document["recipient"][0], "RCPT-2", "Communication.recipient[0]", issues)  # RCPT-2, RCPT-3
    sender = _party(document["sender"], "SNDR-2", "Communication.sender", issues)  # SNDR-2
    text = _first_text(document["payload"], issues, current=current)  # PAY-2, PAY-3, PAY-4, PAY-5
    if current and document["status"] not in CURRENT_STATUSES:  # STAT-1: only the documented options
        issues.append(Issue("business-rule", "STAT-1",
                            f"Communication.status {document['status']!r} is not accepted; send one of "
                            f"{', '.join(CURRENT_STATUSES)}", "Communication.status"))
    if recipient and sender:
        if recipient.type == sender.type:  # FHIR-5
            issues.append(Issue("business-rule", "FHIR-5",
                                f"sender and recipient are both {sender.type}s; one must be a Patient and the other a Practitioner",
                                "Communication.recipient[0]"))
        for party, where, rule in ((sender, "Communication.sender", "SNDR-2"),
                                   (recipient, "Communication.recipient[0]", "RCPT-2")):
            if not person_exists(party.type, party.id):  # FHIR-4
                issues.append(Issue("not-found", "FHIR-4", f"{party.reference} does not exist on this server", where))
    if issues:
        raise FhirError(422, *issues)
    return Ingested(sender=sender, recipient=recipient, text=text,
                    status=document.get("status") or "unknown", sent=sent, received=received)


def _v2_structure_issues(document: dict, issues: list[Issue]) -> None:
    """What v2 requires beyond the schema: ``status`` (STAT-1) and the text as ``contentString`` (PAY-5)."""
    if "status" not in document:  # STAT-1 (a null status is the schema's, named STAT-1 there)
        issues.append(Issue("required", "STAT-1", "Communication.status is required (e.g. \"unknown\"); "
                                                  f"one of {', '.join(CURRENT_STATUSES)}", "Communication.status"))
    payload = document.get("payload")
    first = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(first, dict) and "contentString" not in first:  # PAY-5: v1's content is no longer read
        where = "Communication.payload[0]"
        said = ("gives its text as content, the v1 name" if "content" in first else "has no contentString")
        issues.append(Issue("required", "PAY-5", f"{where} {said}; the text must be given as contentString",
                            f"{where}.contentString"))


def _structure_issues(document: dict, required_rule: dict = _REQUIRED_RULE) -> tuple[list[Issue], bool]:
    """The schema's problems with ``document`` (at most about ``MAX_ISSUES``), and whether that is all of them.

    jsonschema yields its errors lazily, and finding them is most of the cost (about 30 µs each), so
    it is asked for one more than an answer lists: a body with 30,000 wrong elements costs what one
    with 101 does. The ones found are sorted by path, as before the cap.
    """
    if _fast_valid(document):
        return [], True
    errors = list(itertools.islice(_validator().iter_errors(document), MAX_ISSUES + 1))
    counted_all = len(errors) <= MAX_ISSUES
    issues = []
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        if error.validator == "required":
            # jsonschema reports each missing property as its own error, naming all required ones.
            for name in error.validator_value:
                missing = isinstance(error.instance, dict) and name not in error.instance
                if missing and not any(i.expression == _expression(path + [name]) for i in issues):
                    rule = required_rule.get(name, "FHIR-1") if not path else "FHIR-1"
                    issues.append(Issue("required", rule, f"{_expression(path + [name])} is required",
                                        _expression(path + [name])))
            continue
        top = path[0] if path else None
        if error.validator == "minItems" and len(path) == 1:
            issues.append(Issue("required", required_rule.get(top, "FHIR-1"),
                                f"{_expression(path)} must have at least one element", _expression(path)))
        elif len(path) == 1 and error.instance is None and top in required_rule:
            issues.append(Issue("required", required_rule[top], f"{_expression(path)} is null; it is required",
                                _expression(path)))
        else:
            issues.append(Issue("structure", "FHIR-1", f"{_expression(path)}: {_describe(error)}", _expression(path)))
    return issues, counted_all


def _fast_valid(document: dict) -> bool:
    """True only when the compiled schema accepts ``document`` (anything else: ask jsonschema)."""
    try:
        _fast_check()(document)
    except Exception:  # JsonSchemaValueException, or anything odd input may raise: the slow path decides
        return False
    return True


def _describe(error) -> str:
    if error.validator == "type":
        return f"must be of JSON type {error.validator_value}, got {_json_type(error.instance)}"
    if error.validator == "pattern" and error.absolute_path and error.absolute_path[-1] in ("sent", "received"):
        return f"{_short(repr(error.instance))} is not a FHIR dateTime (e.g. 2021-04-29T13:30:00Z)"
    if error.validator == "enum":
        return f"{_short(repr(error.instance))} is not one of {', '.join(map(str, error.validator_value))}"
    return _short(error.message)


def _instant(document: dict, name: str, issues: list[Issue]) -> datetime | None:
    """A full date-time with offset, as an aware UTC datetime (SENT-1, RECV-1)."""
    value = document.get(name)
    if not isinstance(value, str) or any(i.expression == f"Communication.{name}" for i in issues):
        return None
    where = f"Communication.{name}"
    if "T" not in value:
        issues.append(Issue("value", "FHIR-1", f"{where} {value!r} has no time of day; Canvas stores an instant "
                                                "(date, time and offset, e.g. 2021-04-29T13:30:00Z)", where))
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        issues.append(Issue("value", "FHIR-1", f"{where} {value!r} is not a real date-time ({err})", where))
        return None
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is after year 9999 in UTC
        issues.append(Issue("value", "FHIR-1", f"{where} {value!r} falls outside years 1 to 9999 in UTC", where))
        return None


def _party(reference: dict, rule: str, where: str, issues: list[Issue]) -> Party | None:
    value = reference.get("reference")
    match = REFERENCE.match(value) if isinstance(value, str) else None
    if not match or match["type"] not in PARTY_TYPES:
        shown = "no reference" if value is None else repr(_short(str(value)))
        issues.append(Issue("business-rule", rule,
                            f"{where} has {shown}; it must reference Patient/<id> or Practitioner/<id>",
                            f"{where}.reference"))
        return None
    declared = reference.get("type")
    if declared is not None and declared != match["type"]:
        issues.append(Issue("business-rule", rule,
                            f"{where}.type {declared!r} disagrees with its reference {value!r}", f"{where}.type"))
        return None
    return Party(match["type"], match["id"])


def _first_text(payload: list[dict], issues: list[Issue], *, current: bool = False) -> str | None:
    first = payload[0]
    where = "Communication.payload[0]"
    if current:
        # PAY-5: contentString is there (the structure stage saw to it); a content beside it is no
        # v2 element and is ignored like any other (PAY-4, content read as text, is v1's alone).
        text = first["contentString"]
        if not text.strip():  # PAY-3
            issues.append(Issue("business-rule", "PAY-3", f"{where} content is empty; a message needs text",
                                f"{where}.contentString"))
            return None
        return text
    has_content, has_string = "content" in first, "contentString" in first
    if has_content and has_string and first["content"] != first["contentString"]:
        issues.append(Issue("business-rule", "PAY-4",
                            f"{where} gives both content and contentString with different text; send one", where))
        return None
    if not (has_content or has_string):
        issues.append(Issue("business-rule", "PAY-4",
                            f"{where} has no text (content or contentString); Canvas saves only text", where))
        return None
    text = first["contentString"] if has_string else first["content"]
    if not text.strip():  # PAY-3: empty (or blank) content is refused
        issues.append(Issue("business-rule", "PAY-3", f"{where} content is empty; a message needs text",
                            f"{where}.content{'String' if has_string else ''}"))
        return None
    return text


def _expression(path: list) -> str:
    out = "Communication"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
