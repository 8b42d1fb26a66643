"""The target under test, as the steps see it: one client, its people, its optional mock controls.

Why a session object: the run's inputs are declared once (``config.RunConfig``) and fed to one
recording client; what the suite learns about the target along the way (who exists
there, whether its clock can be set, whether it can count all its messages) is learnt
once and kept here, never in module globals. Steps reach the target only over HTTP.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Mapping

import pytest

from canvas_conformance.client import Answer, Client, without_userinfo
from canvas_conformance.preflight import is_loopback
from canvas_conformance.references import parse_reference

KINDS = ("Patient", "Practitioner")


class SearchUnavailable(Exception):
    """The target's search cannot tell what is stored, so "nothing stored" cannot be checked (an error,
    not a verdict on the rule under test)."""


class Target:
    """One target for one run. ``people`` are the ids given in the settings (may be empty).

    Who the suite writes to: the people named. Only on loopback (a mock, a local test server) or
    with ``discover`` (--discover-people) does it look for more with GET /Patient and
    /Practitioner, because on a real system the first people listed are real patients whose
    charts would get test messages.
    """

    def __init__(self, client: Client, *, embedded: bool, patients: Iterable[str] = (),
                 practitioners: Iterable[str] = (), discover: bool = False) -> None:
        self.client = client
        self.base_url = client.base_url
        self.embedded = embedded
        self.discover = discover or embedded or is_loopback(client.base_url)
        self._people: dict[str, tuple[str, ...]] = {"Patient": tuple(patients), "Practitioner": tuple(practitioners)}
        self.mock_controls = False
        self._count_all: bool | None = None

    def describe(self) -> dict:
        """The results file's ``target`` object."""
        return {"base_url": without_userinfo(self.base_url), "embedded_mock": self.embedded, "mock_controls": self.mock_controls}

    def secrets(self) -> tuple[str, ...]:
        return self.client.secrets()

    def start(self) -> None:
        """Get the run's token and learn whether the target has the mock's clock control."""
        self.client.token()
        answer = self.client.request("look for the mock's clock control", "GET", "_mock/clock")
        try:
            self.mock_controls = answer.status == 200 and "now" in answer.json()
        except (ValueError, TypeError):
            self.mock_controls = False

    # -- people -------------------------------------------------------------------------
    def people(self, kind: str, count: int) -> tuple[str, ...]:
        """``count`` ids of ``kind`` that exist on the target; the scenario is skipped when fewer are known."""
        if not self._people[kind] and self.discover:
            self._people[kind] = self._discover(kind)
        known = self._people[kind]
        if len(known) < count:
            variable = "CANVAS_PATIENTS" if kind == "Patient" else "CANVAS_PRACTITIONERS"
            if self.discover:
                pytest.skip(f"needs {count} {kind.lower()}s that exist on the target, {len(known)} known "
                            f"(list them in {variable}, or with --{kind.lower()})")
            pytest.skip(f"needs {count} {kind.lower()}s named for this target, {len(known)} named: the suite "
                        f"writes only to people you name on a target that is not on loopback (list them with "
                        f"--{kind.lower()} or {variable}; --discover-people lets it use whoever GET /{kind} "
                        "lists first)")
        return known[:count]

    def _discover(self, kind: str) -> tuple[str, ...]:
        answer = self.client.request(f"discover the target's {kind.lower()}s", "GET", kind)
        if answer.status != 200:
            return ()
        try:
            entries = answer.json().get("entry") or []
        except (ValueError, AttributeError, RecursionError):
            return ()
        if not isinstance(entries, list):  # any answer shape: what is not a list of entries names no one
            return ()
        ids = []
        for entry in entries:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and resource.get("resourceType") == kind and resource.get("id") \
                    and resource.get("active", True) is not False:
                ids.append(str(resource["id"]))
        return tuple(ids)

    # -- the mock's clock ---------------------------------------------------------------
    def hold_clock(self, instant: datetime) -> None:
        self._clock("hold the target's clock at a chosen instant", "PUT", {"now": instant.isoformat()})

    def shift_clock(self, seconds: float) -> None:
        self._clock(f"move the target's clock on by {seconds:g} s", "PUT", {"shift_seconds": seconds})

    def release_clock(self, *, bearer: str | None = None) -> None:
        self._clock("give the target back its real clock", "DELETE", None, bearer=bearer)

    def _clock(self, name: str, method: str, body: dict | None, *, bearer: str | None = None) -> None:
        answer = self.client.request(name, method, "_mock/clock", json_body=body, content_type="application/json",
                                     bearer=bearer)
        if answer.status != 200:
            raise RuntimeError(f"{name}: the mock's clock control answered {answer.status}")

    # -- counting what is stored --------------------------------------------------------
    def count_stored(self, involved: Iterable[str], *, when: str) -> dict[str, int]:
        """Search totals that a stored message involving ``involved`` ("Patient/<id>", ...) would change.

        Every message on the target when its search can count them all; otherwise one count per
        party (``patient=``, ``sender=``, ``recipient=``).
        """
        if self._count_all is not False:
            answer = self.client.request(f"count stored messages ({when})", "GET", "Communication",
                                         params={"_count": "1"})
            total = _total(answer)
            if total is not None:
                self._count_all = True
                return {"all messages": total}
            if self._count_all:
                raise SearchUnavailable(f"counting stored messages ({when}) failed: status {answer.status}")
            self._count_all = False
        counts = {}
        for reference in sorted(set(involved)):
            party = parse_reference(reference)
            if party is None:
                continue
            queries = [("patient", party.id)] if party.type == "Patient" \
                else [("sender", str(party)), ("recipient", str(party))]
            for param, value in queries:
                answer = self.client.request(f"count stored messages with {param}={value} ({when})", "GET",
                                             "Communication", params={param: value, "_count": "1"})
                total = _total(answer)
                if total is None:
                    raise SearchUnavailable(f"cannot tell what is stored: search {param}={value} answered "
                                            f"{answer.status} without a total")
                counts[f"{param}={value}"] = total
        if not counts:
            raise SearchUnavailable("cannot tell what is stored: the target cannot count all its messages and "
                                    "the request names no existing patient or practitioner")
        return counts

    def read(self, name: str, message_id: str) -> Answer:
        return self.client.request(name, "GET", f"Communication/{message_id}")


def _total(answer: Answer) -> int | None:
    if answer.status != 200:
        return None
    try:
        total = answer.json().get("total")
    except (ValueError, AttributeError):
        return None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def utc(text: str) -> datetime:
    """An instant from a feature file (ISO 8601 with offset) as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def involved_parties(body: Mapping | None, fallback: Iterable[str]) -> tuple[str, ...]:
    """The Patient/Practitioner references a body names (and ``fallback`` ones), each in its relative
    form ``Type/id`` (references.py says which references a body can name)."""
    found = set(fallback)
    if isinstance(body, Mapping):
        recipients = body.get("recipient")
        parties = [body.get("sender"), *(recipients if isinstance(recipients, list) else [])]
        for party in parties:
            reference = parse_reference(party.get("reference") if isinstance(party, Mapping) else None)
            if reference is not None and reference.type in KINDS:
                found.add(str(reference))
    return tuple(sorted(found))
