"""The results contract: what a scenario's verdict can be, how it is decided, and the shape of a row.

Everything that writes results (the results plugin, the live progress plugin) and everything
that reads them (the report builders) takes the contract from here, so a status, the manual
marker or the name of an outline row means the same thing in every file of a report.

Statuses, and why this precedence (failed > error > passed > manual > skipped): a single
broken case makes a rule broken; an error means the verdict is unknown, which outweighs a
pass elsewhere only when nothing failed; a pass by machine outweighs a check left to a
person; skipped is the absence of any verdict.

Classification: a check that said no (``AssertionError``, ``pytest.fail``) raised while the
scenario ran is ``failed``; any other exception, and anything raised in setup or teardown,
is ``error`` (the target never answered the rule's question, or the suite broke); a skip is
``skipped``, or ``manual`` when its reason starts with ``MANUAL_MARKER`` (see ``manual``).

Attribution: a verdict belongs to its rule. A check failure names the rule it is about (its
message starts ``[RULE-ID]``); when none of the rules it names is among the scenario's rules
(a SENT-1 scenario whose create answered a malformed Location, which is ID-1's), the target
broke another rule on the way: the scenario is ``error`` ("could not be checked: ...") and the
breach is kept as an *observation* for that other rule (``observation``), shown under its row.
"""
from __future__ import annotations

import re
import types
import typing
from typing import Any, Iterable, Mapping, NamedTuple, NoReturn

import pytest

from .client import Exchange

STATUSES = ("passed", "failed", "error", "manual", "skipped")  # the order reports show them in
PRECEDENCE = ("failed", "error", "passed", "manual", "skipped")  # worst first
FAILING = frozenset({"failed", "error"})
FAILING_STRICT = FAILING | {"manual", "skipped"}
MANUAL_MARKER = "MANUAL:"
NOT_RUN = "not run"  # a step's status when the scenario stopped before it
STEP_STATUSES = ("passed", "failed", "error", "skipped", NOT_RUN)


# -- statuses ------------------------------------------------------------------------------
def worst(statuses: Iterable[str]) -> str:
    """The status that decides among ``statuses`` by precedence (``skipped`` when there are none)."""
    seen = set(statuses)
    return next((status for status in PRECEDENCE if status in seen), "skipped")


def outranks(status: str, other: str) -> bool:
    """Whether ``status`` comes before ``other`` in precedence (a teardown error never hides a failure)."""
    return PRECEDENCE.index(status) < PRECEDENCE.index(other)


def fails_run(status: str, *, strict: bool = False) -> bool:
    """Whether a rule (or a scenario outside the catalogue) with ``status`` fails the run.

    failed and error always do; with ``strict`` also manual (left to a person) and skipped (not checked).
    """
    return status in (FAILING_STRICT if strict else FAILING)


# -- classification ---------------------------------------------------------------------------
NOT_CHECKED = "could not be checked: "  # how the message of a scenario stopped by another rule's breach starts
_NAMED_RULES = re.compile(r"^\[(?P<rules>[A-Z]+-\d+(?:/[A-Z]+-\d+)*)\]")


def is_check_failure(exception: BaseException | None) -> bool:
    """A check that said no: an ``AssertionError`` (checks.fail) or ``pytest.fail``."""
    return isinstance(exception, (AssertionError, pytest.fail.Exception))


def broken_rules(exception: BaseException | None) -> tuple[str, ...]:
    """The rule IDs a check failure names: its ``rule`` attribute (set by checks.fail), else the
    ``[RULE-ID]`` its message starts with; () when it names none."""
    if not is_check_failure(exception):
        return ()
    named = getattr(exception, "rule", None)
    if not isinstance(named, str):
        text = exception.msg if isinstance(exception, pytest.fail.Exception) else str(exception)
        match = _NAMED_RULES.match(text or "")
        named = match["rules"] if match else ""
    return tuple(r for r in named.split("/") if _NAMED_RULES.match(f"[{r}]"))


def elsewhere(exception: BaseException | None, rules: Iterable[str] | None) -> tuple[str, ...]:
    """The rules a check failure is about when none of them is the scenario's (``rules``); else ().

    A failure naming no rule, or a scenario with no rules, is the scenario's own."""
    own = set(rules or ())
    named = broken_rules(exception)
    return named if own and named and not own.intersection(named) else ()


def failure_status(exception: BaseException | None, *, during_call: bool = True,
                   rules: Iterable[str] | None = None) -> str:
    """``failed`` for a check failure of the scenario's own rule (any rule, when ``rules`` is not
    given) raised while the scenario (or step) ran, else ``error``."""
    if during_call and is_check_failure(exception) and not elsewhere(exception, rules):
        return "failed"
    return "error"


def observation(exception: BaseException | None, rules: Iterable[str] | None) -> list[dict]:
    """What a scenario saw of other rules: one ``{"rule", "message"}`` per rule its failure is about
    when that is not the scenario's own (see ``elsewhere``); [] otherwise."""
    text = _failure_text(exception)
    return [{"rule": rule, "message": text} for rule in elsewhere(exception, rules)]


def not_checked(exception: BaseException) -> str:
    """The message of a scenario stopped by another rule's breach."""
    return NOT_CHECKED + _failure_text(exception)


def _failure_text(exception: BaseException | None) -> str:
    if isinstance(exception, pytest.fail.Exception):
        return exception.msg or "failed"
    return str(exception) if exception is not None else ""


def skip_status(reason: str) -> str:
    """``manual`` for a skip whose reason carries the manual marker, else ``skipped``."""
    return "manual" if reason.startswith(MANUAL_MARKER) else "skipped"


def skip_reason(report: pytest.TestReport, exception: BaseException | None = None) -> str:
    """The reason a skip gave: the ``pytest.skip`` message itself, or what pytest's report says."""
    if isinstance(exception, pytest.skip.Exception):
        return exception.msg
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return text.removeprefix("Skipped: ")


def manual(*steps: str) -> NoReturn:
    """End the scenario as ``manual``, with the numbered steps a person follows."""
    pytest.skip(f"{MANUAL_MARKER} " + " ".join(f"{n}. {step}" for n, step in enumerate(steps, 1)))


# -- naming ---------------------------------------------------------------------------------
def scenario_name(template: Any, example: Mapping[str, Any] | None = None) -> str:
    """A scenario's name; for an outline row, the rendered name, or when the outline's name has
    no ``<placeholder>``, the name followed by the row's values, so that rows are told apart.

    ``template`` is a pytest-bdd ``ScenarioTemplate``; ``example`` the Examples row (None or
    empty for a plain scenario).
    """
    if not example:
        return template.name
    name = template.render(dict(example)).name
    if name == template.name:
        name += " (" + ", ".join(f"{k}: {v}" for k, v in example.items()) + ")"
    return name


# -- rows -------------------------------------------------------------------------------------
class Step(NamedTuple):
    """One step of a scenario as results.json holds it."""

    keyword: str = ""
    text: str = ""
    status: str = NOT_RUN  # one of STEP_STATUSES
    duration_s: float = 0.0


class Scenario(NamedTuple):
    """One scenario (one outline row) as results.json holds it, with the evidence it gathered."""

    nodeid: str = ""
    feature_file: str = ""  # relative to the suite folder, e.g. features/sent_received.feature
    feature: str = ""
    name: str = ""
    rules: tuple[str, ...] = ()  # catalogue rule IDs among its tags
    tags: tuple[str, ...] = ()
    status: str | None = None  # one of STATUSES (None only while it runs)
    message: str | None = None  # why it did not pass
    duration_s: float = 0.0
    steps: tuple[Step, ...] = ()
    exchanges: tuple[Exchange, ...] = ()
    notes: tuple[str, ...] = ()
    attachments: tuple[dict, ...] = ()  # {"kind", "path" (relative to the report folder), "title"}
    observations: tuple[dict, ...] = ()  # {"rule", "message"}: other rules' breaches seen along the way


def _empty(hint: Any) -> Any:
    """What an exchange field missing from results.json holds: None when its type allows it, else its type's empty value."""
    return None if type(None) in typing.get_args(hint) else hint()


# The exchange's fields and their types are client.Exchange's; the report side takes them from there.
_EXCHANGE_HINTS = typing.get_type_hints(Exchange)
EXCHANGE_DEFAULTS: Mapping[str, Any] = types.MappingProxyType(
    {field: _empty(_EXCHANGE_HINTS[field]) for field in Exchange._fields})


def exchange_row(raw: Mapping[str, Any]) -> Exchange:
    """An exchange of results.json as an ``Exchange``, every field present (unknown keys dropped)."""
    values = {}
    for field, default in EXCHANGE_DEFAULTS.items():
        value = raw.get(field)
        if value is None and default is not None:
            value = type(default)()
        elif _EXCHANGE_HINTS[field] is float:
            value = number(value)
        values[field] = value
    return Exchange(**values)


def number(value: Any) -> float:
    """A duration read from results.json: 0.0 when it is missing or not a number."""
    try:
        return float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0


def as_json(scenario: Scenario) -> dict:
    """A scenario row as the JSON object results.json and conformance.json hold."""
    return {
        **scenario._asdict(),
        "rules": list(scenario.rules),
        "tags": list(scenario.tags),
        "steps": [step._asdict() for step in scenario.steps],
        "exchanges": [exchange._asdict() for exchange in scenario.exchanges],
        "notes": list(scenario.notes),
        "attachments": [dict(a) for a in scenario.attachments],
        "observations": [dict(o) for o in scenario.observations],
    }


# -- rendering --------------------------------------------------------------------------------
def exchange_line(exchange: Exchange) -> str:
    """One line for an exchange: what it was for, the request, the answer (or why none came), the time."""
    x = exchange
    answer = f"HTTP {x.status}" if x.status is not None else f"no answer ({x.error or 'unknown'})"
    corr = f", correlation id {x.correlation_id}" if x.correlation_id else ""
    return f"{x.name}: {x.method} {x.url} -> {answer} in {number(x.duration_ms):.0f} ms{corr}"
