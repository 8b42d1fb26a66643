"""The mutation corpus: realistic server bugs, each one step off what the suite's rows send.

Every ``Breakage`` is a ``Twist`` (twists.py) around the real mock that breaks one API rule the
way a real server could: a time zone converted with the minutes wrong, the last recipient kept,
a ``401`` from a gateway with no OperationOutcome... ``test_misbehaving.py`` runs the whole API
suite once against each and requires that a scenario of the breakage's rule fails with a message
naming the rule, and that no other rule's scenario fails except the ones listed in ``touches``
(rules whose scenarios need what the breakage takes away, e.g. a create's ``Location``).
A breakage with ``awaits`` is not caught by today's fixed rows; it names the kind of explored
scenario that should catch it and stays out of the test until those scenarios exist.

``VARIANTS`` are answers every rule allows; each must pass every API scenario.
``python -m tests.suite.catch_table`` prints what the corpus gives as a Markdown table.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

from werkzeug.wrappers import Response

from . import twists as t
from .twists import ALL, MISBEHAVIOURS, OO, Twist, body_of, created_id, first, on_create, on_read, with_body

EXPLORED = "explored"  # the Hypothesis-explored scenarios (offsets with minutes, null/empty, directions...)


class Breakage(NamedTuple):
    rule: str
    name: str
    description: str  # the server bug it models
    twist: Twist
    # other rules whose scenarios it truly stops: they end ``error`` ("could not be checked"), e.g. every
    # rule that reads a message back when the Location is unusable, or SENT-4 when sent reads back
    # converted wrongly (neither instant given); a ``failed`` of another rule is never declared here
    touches: frozenset = frozenset()
    awaits: str | None = None  # the dimension that should catch it, when today's rows do not
    fails: object = None  # scenarios of the rule that fail (ALL, a name part or a set); None: at least one
    others: dict = {}  # {scenario name part: status} for the rule's scenarios that end otherwise


# Every rule whose scenarios create a message and read it back through its Location.
CREATING = frozenset({"ID-2", "SENT-1", "SENT-2", "SENT-3", "SENT-4", "RECV-1", "RECV-2", "RCPT-2", "RCPT-3",
                      "SNDR-2", "PAY-2", "PAY-4", "FHIR-3", "FHIR-6", "FHIR-7", "FHIR-8"})


# -- helpers ----------------------------------------------------------------------------------
def _parts(value: str):
    """(wall time text, fraction text or "", offset text) of an instant written with an offset."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})", value)
    return (match[1], match[2] or "", match[3]) if match else None


def _valid_offset(text: str) -> bool:
    """An offset FHIR's instant allows: Z, or -13:59..+13:59 and +/-14:00."""
    return text == "Z" or (int(text[4:6]) < 60 and abs(_offset(text)) <= timedelta(hours=14))


def _utc(wall: str, offset: timedelta, fraction: str = "") -> str:
    local = datetime.fromisoformat(wall).replace(tzinfo=timezone(offset))
    text = local.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    return text + (f".{fraction}" if fraction else "") + "Z"


def _offset(text: str) -> timedelta:
    if text == "Z":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    return sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6]))


def converted(element: str, convert, *, only=lambda message: True):
    """A ``before`` that rewrites ``element`` of a create with ``convert(wall, fraction, offset)`` -> UTC text
    (or None to leave it), as a server whose own conversion is wrong would store it."""
    def change(app, message):
        value = message.get(element)
        parts = _parts(value) if isinstance(value, str) else None
        # the server validates the instant first (an offset past 14:00 is refused: FHIR-1's), then converts it
        if parts and _valid_offset(parts[2]) and only(message):
            result = convert(*parts)
            if result is not None:
                message[element] = result
    return on_create(change)


def sender_kind(message) -> str:
    return str((message.get("sender") or {}).get("reference", "")).split("/")[0]


def read_back_of(matches, change) -> Twist:
    """Read-backs of the messages whose create ``matches(message)`` are changed by ``change(body, message)``."""
    def before(app, incoming, memory):
        if incoming.message is not None:
            memory["pending"] = json.loads(json.dumps(incoming.message)) if matches(incoming.message) else None
        return None

    def after(app, incoming, response, memory):
        if incoming.is_create and created_id(response) and memory.get("pending") is not None:
            memory.setdefault("ids", {})[created_id(response)] = memory.pop("pending")
        elif incoming.read_id() in memory.get("ids", {}) and response.status_code == 200:
            body = body_of(response)
            change(body, memory["ids"][incoming.read_id()])
            return with_body(response, body)
        return response

    return before, after


def twist(name, before=None, after=None, config=None) -> Twist:
    return Twist(name, before, after, config or {})


def refused_but_stored(missing: str, filler):
    """Validation that runs after the insert: the create is refused, but a copy was stored first."""
    def before(app, incoming, memory):
        message = incoming.message
        if message is not None and missing not in message:
            copy = {**message, missing: filler(app)}
            app.test_client().post("/Communication", json=copy,
                                   headers={"Authorization": incoming.headers.get("Authorization", ""),
                                            "Content-Type": OO})
        return None
    return before


def answer_instead(condition, status: int, body, content_type: str = OO):
    def before(app, incoming, memory):
        if condition(incoming):
            return Response(body if isinstance(body, str) else json.dumps(body), status, content_type=content_type)
        return None
    return before


def answers(condition, change):
    """An ``after`` that changes the answers ``condition(incoming, response)`` picks."""
    def after(app, incoming, response, memory):
        return change(app, incoming, response, memory) if condition(incoming, response) else response
    return after


def _patient(app):
    return [{"reference": f"Patient/{first(app, 'Patient')}"}]


def _practitioner(app):
    return {"reference": f"Practitioner/{first(app, 'Practitioner')}"}


def _is_search(incoming):
    return incoming.method == "GET" and incoming.path == "/Communication"


def _outcome(response):
    body = body_of(response)
    return body if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome" else None


def _issues(change):
    def after(app, incoming, response, memory):
        body = _outcome(response)
        if body is not None:
            body["issue"] = [change(dict(issue)) for issue in body["issue"]]
            return with_body(response, body)
        return response
    return after


def _bundle_change(change):
    def after(app, incoming, response, memory):
        body = body_of(response)
        if _is_search(incoming) and isinstance(body, dict) and body.get("resourceType") == "Bundle":
            change(body, incoming)
            return with_body(response, body)
        return response
    return after


def _base(incoming) -> str:
    """The base the client reached, so links in answers made by the twist point back at the target."""
    return f"http://{incoming.headers.get('Host', 'localhost')}"


def _search_args(incoming, **more) -> str:
    args = {**incoming.args.to_dict(), **more}
    return "/Communication?" + urlencode(args)


# -- SENT-1 / RECV-1: conversions one step off ----------------------------------------------------
def _minutes_ignored(wall, fraction, offset):
    if offset != "Z" and offset[4:6] != "00":
        return _utc(wall, _offset(offset[:3] + ":00"), fraction)
    return None


def _sign_dropped(wall, fraction, offset):
    if offset.startswith("-"):
        return _utc(wall, -_offset(offset), fraction)
    return None


def _positive_wrong_way(wall, fraction, offset):
    if offset.startswith("+") and offset != "+00:00":
        return _utc(wall, -_offset(offset), fraction)
    return None


def _fraction_as_micro(wall, fraction, offset):
    if fraction and offset != "Z":
        return _utc(wall, _offset(offset), f"{int(fraction):06d}")
    return None


def _rounded_half_up(wall, fraction, offset):
    if fraction and offset != "Z":
        whole = datetime.fromisoformat(wall) + timedelta(seconds=1 if int(fraction[0]) >= 5 else 0)
        return _utc(whole.isoformat(), _offset(offset))
    return None


def _plus_zero_as_local(wall, fraction, offset):
    if offset == "+00:00":  # "+00:00" read as "no zone given": the server's own -05:00
        return _utc(wall, timedelta(hours=-5), fraction)
    return None


def _local_date_kept(wall, fraction, offset):
    if offset == "Z":
        return None
    utc = _utc(wall, _offset(offset), fraction)
    return wall[:10] + utc[10:]  # the time converted, the date left as written


def _wall_as_z(wall, fraction, offset):
    return wall + (f".{fraction}" if fraction else "") + "Z" if offset != "Z" else None


# -- SENT-2 -------------------------------------------------------------------------------------------
def _neither(message):
    return "sent" not in message and "received" not in message


def _boot_time(app, incoming, memory):
    memory.setdefault("boot", datetime.now(timezone.utc) - timedelta(minutes=10))
    if incoming.message is not None and _neither(incoming.message):
        incoming.message["sent"] = memory["boot"].isoformat()
    return None


def _midnight(body, message):
    body["sent"] = body["sent"][:10] + "T00:00:00+00:00"


def _to_the_minute(body, message):
    body["sent"] = body["sent"][:16] + ":00+00:00"


# -- SENT-3 / SENT-4 / RECV-2 ---------------------------------------------------------------------
def _received_only(message):
    return "received" in message and "sent" not in message


def _sent_from_received_if(kind):
    def change(app, message):
        if _received_only(message) and sender_kind(message) != kind:
            message["sent"] = datetime.now(timezone.utc).isoformat()
    return on_create(change)


def _received_to_the_minute(app, message):
    if _received_only(message):
        parts = _parts(message["received"])
        if parts:
            message["sent"] = _utc(parts[0][:16] + ":00", _offset(parts[2]))


def _both(message):
    return "received" in message and "sent" in message


def _pick(choose):
    def change(app, message):
        if _both(message):
            try:
                sent, received = (datetime.fromisoformat(message[k].replace("Z", "+00:00")) for k in ("sent", "received"))
            except ValueError:
                return
            message["sent"] = (choose(sent, received)).isoformat()
    return on_create(change)


def _received_overrides_for(kind):
    def change(app, message):
        if _both(message) and sender_kind(message) == kind:
            message["sent"] = message["received"]
    return on_create(change)


def _received_now_for_patients(app, message):
    # now on the server's own clock (the mock's), so sent, copied from it, is still the creation time
    # (SENT-2 holds): only received, which the client never gave, is wrong
    if "received" not in message and sender_kind(message) == "Patient" and "sent" not in message:
        message["received"] = app.extensions["mock_clock"].now().isoformat()


# -- recipients, senders, payloads --------------------------------------------------------------------
def _empty_recipients_to_patient(app, message):
    if message.get("recipient") == []:
        message["recipient"] = _patient(app)


def _null_recipient(app, message):
    if "recipient" in message and message["recipient"] is None:
        message["recipient"] = _patient(app)


def _first_recipient_replaced_if(test):
    def change(app, message):
        recipients = message.get("recipient")
        if isinstance(recipients, list) and recipients and isinstance(recipients[0], dict) and test(recipients[0]):
            recipients[0] = _patient(app)[0]
    return on_create(change)


def _sender_replaced_if(test):
    def change(app, message):
        sender = message.get("sender")
        if isinstance(sender, dict) and test(sender):
            message["sender"] = _practitioner(app)
    return on_create(change)


def _ref(value) -> str:
    return value.get("reference") if isinstance(value.get("reference"), str) else ""


def _kept_recipients(choose):
    def change(body, message):
        body["recipient"] = choose(message["recipient"])
    return change


def _different_kinds(recipients):
    kinds, kept = set(), []
    for recipient in recipients:
        kind = _ref(recipient).split("/")[0]
        if kind not in kinds:
            kinds.add(kind)
            kept.append(recipient)
    return kept


def _first_patient_only(recipients):
    patients = [r for r in recipients if _ref(r).startswith("Patient/")]
    return patients[:1] or recipients[:1]


def _a_communication(message) -> bool:
    """A body the server takes for a Communication (it checks resourceType before any element)."""
    return isinstance(message, dict) and message.get("resourceType") == "Communication"


def _silently_dropped(missing):
    def before(app, incoming, memory):
        if _a_communication(incoming.message) and missing not in incoming.message:
            return Response(status=201, headers={"Location": "Communication/dropped"})
        return None
    return before


def _payload_texts(message):
    """The texts of a create's payload elements that have one (an element may have none: ``{}``)."""
    found = [p.get("contentString", p.get("content")) for p in _listed(message, "payload") if isinstance(p, dict)]
    return [text for text in found if isinstance(text, str)]


def _empty_payload_list(app, message):
    if message.get("payload") == []:
        message["payload"] = [{"contentString": "(no text)"}]


def _null_payload(app, message):
    if "payload" in message and message["payload"] is None:
        message["payload"] = [{"contentString": "(no text)"}]


def _content_unchecked(app, message):
    for element in message.get("payload") or []:
        if isinstance(element, dict) and element.get("content") == "" and "contentString" not in element:
            element["content"] = "\u200b"  # stored, as far as a reader can see, as nothing


def _last_element_checked(app, message):
    payload = _listed(message, "payload")
    if len(payload) > 1 and isinstance(payload[0], dict) and "" in (payload[0].get("contentString"),
                                                                    payload[0].get("content")):
        payload[0] = {"contentString": "\u200b"}  # the empty first element stored as it is


def _content_as_attachment(body, message):
    first_element = (message.get("payload") or [{}])[0]
    if "content" in first_element and "contentString" not in first_element:
        body["payload"] = [{"contentAttachment": {"contentType": "text/plain", "data": first_element["content"]}}]


def _content_ignored(body, message):
    first_element = (message.get("payload") or [{}])[0]
    if "content" in first_element and "contentString" not in first_element:
        body["payload"] = [{"contentString": ""}]


# -- FHIR-1 / FHIR-2 ----------------------------------------------------------------------------------
def _array_unwrapped(app, incoming, memory):
    if incoming.is_create and isinstance(incoming.body, list) and incoming.body and isinstance(incoming.body[0], dict):
        incoming.body = incoming.body[0]
    return None


def _any_resource_type(app, message):
    if message.get("resourceType") not in (None, "Communication"):
        message["resourceType"] = "Communication"


def _missing_resource_type(app, message):
    message.setdefault("resourceType", "Communication")


def _minutes_roll_over(app, message):
    for element in ("sent", "received"):
        value = message.get(element)
        match = re.fullmatch(r"(.{10}T\d{2}):(\d{2})(:.*)", value) if isinstance(value, str) else None
        if match and int(match[2]) >= 60:
            hour = datetime.fromisoformat(match[1] + ":00:00") + timedelta(minutes=int(match[2]))
            message[element] = hour.isoformat()[:16] + match[3]


def _generic_text(issue):
    issue.pop("details", None)
    issue["diagnostics"] = "Invalid request"
    return issue


def _no_code(issue):
    issue.pop("code", None)
    return issue


def _coding_display_only(issue):
    text = issue.pop("diagnostics", None) or (issue.get("details") or {}).get("text")
    issue["details"] = {"coding": [{"system": "http://example.org/errors", "code": "E1", "display": text}]}
    return issue


def _crash_on(element, test):
    def before(app, incoming, memory):
        message = incoming.message
        if message is not None and element in message and test(message[element]):
            return Response("Internal Server Error", 500, content_type="text/html")
        return None
    return before


# -- FHIR-3 -------------------------------------------------------------------------------------------
def _grace_period(seconds: int):
    """Tokens still honoured ``seconds`` after they expire (a cache of validated tokens, say)."""
    def before(app, incoming, memory):
        if incoming.path.startswith("/auth/token") or "own" not in memory:
            return None
        scheme, _, token = incoming.headers.get("Authorization", "").partition(" ")
        issued = memory.get("granted", {}).get(token)
        now = app.extensions["mock_clock"].now()
        if issued is not None and now <= issued + timedelta(seconds=app.config["TOKEN_LIFETIME"] + seconds):
            incoming.headers["Authorization"] = f"Bearer {_fresh(app, memory)}"
        return None

    def after(app, incoming, response, memory):
        if incoming.path.startswith("/auth/token") and response.status_code == 200:
            memory["own"] = True
            memory.setdefault("granted", {})[body_of(response)["access_token"]] = app.extensions["mock_clock"].now()
        return response

    return before, after


def _fresh(app, memory) -> str:
    """A token valid on the mock's clock as it stands now, granted by the twist for itself."""
    grant = app.test_client().post("/auth/token/", data={
        "grant_type": "client_credentials", "client_id": app.config["CLIENT_ID"],
        "client_secret": app.config["CLIENT_SECRET"]})
    return grant.json["access_token"]


def _reads_unguarded(app, incoming, memory):
    if incoming.read_id() and not incoming.headers.get("Authorization"):
        incoming.headers["Authorization"] = f"Bearer {_fresh(app, memory)}"
    return None


def _gateway_401(app, incoming, response, memory):
    if response.status_code == 401 and not incoming.path.startswith("/auth/token"):
        response.set_data(json.dumps({"message": "Unauthorized"}))
        response.headers["Content-Type"] = "application/json"
    return response


def _forbidden_unknown(app, incoming, response, memory):
    outcome = _outcome(response)
    if response.status_code == 401 and outcome and "not known" in json.dumps(outcome):
        response.status_code = 403
    return response


def _token_case_folded(app, incoming, memory):
    header = incoming.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    known = memory.setdefault("known", {})
    if token and token.lower() in known and token not in known.values():
        incoming.headers["Authorization"] = f"{scheme} {known[token.lower()]}"
    return None


def _remember_tokens(app, incoming, response, memory):
    if incoming.path.startswith("/auth/token") and response.status_code == 200:
        token = body_of(response)["access_token"]
        memory.setdefault("known", {})[token.lower()] = token
    return response


# -- FHIR-4 / FHIR-5 ----------------------------------------------------------------------------------
def _unknown_replaced(where, kinds, only=lambda message: True):
    def change(app, message):
        if not only(message):
            return
        parties = [message.get("sender")] if where == "sender" else _listed(message, "recipient")[:1]
        for party in parties:
            if t.valid_party(party):
                kind, ident = party["reference"].split("/")
                if kind in kinds and not t.exists(app, kind, ident):
                    party["reference"] = f"{kind}/{first(app, kind)}"
    return on_create(change)


def _same_kind_allowed(kind):
    def change(app, message):
        sender, recipients = message.get("sender"), _listed(message, "recipient")
        if t.valid_party(sender) and recipients and t.valid_party(recipients[0]) and \
                sender["reference"].startswith(kind + "/") and recipients[0]["reference"].startswith(kind + "/"):
            other = "Patient" if kind == "Practitioner" else "Practitioner"
            recipients[0] = {"reference": f"{other}/{first(app, other)}"}
    return on_create(change)


# -- FHIR-6 -------------------------------------------------------------------------------------------
def _html_404(app, incoming, response, memory):
    if incoming.read_id() and response.status_code == 404:
        response.set_data("<html><body><h1>Not Found</h1></body></html>")
        response.headers["Content-Type"] = "text/html"
    return response


def _on_change(method, status, body=None):
    def before(app, incoming, memory):
        if incoming.method == method and t.ONE_MESSAGE.match(incoming.path):
            if body == "echo":
                return Response(json.dumps(incoming.body), status, content_type=OO)
            return Response(status=status)
        return None
    return before


# -- FHIR-7 -------------------------------------------------------------------------------------------
def _total_of_page(body, incoming):
    body["total"] = len(body.get("entry") or [])


def _default_count(count):
    def before(app, incoming, memory):
        if _is_search(incoming) and "_count" not in incoming.args and {"patient", "sender", "recipient", "_id"} \
                & set(incoming.args):
            return app.test_client().get(_search_args(incoming, _count=str(count)),
                                         headers={"Authorization": incoming.headers.get("Authorization", "")}, base_url=_base(incoming))
        return None
    return before


def _next_without_filters(body, incoming):
    for link in body.get("link") or []:
        if link.get("relation") == "next":
            parts = urlsplit(link["url"])
            kept = [(k, v) for k, v in parse_qsl(parts.query) if k in ("_count", "_offset")]
            link["url"] = parts._replace(query=urlencode(kept)).geturl()


def _offset_ignored(app, incoming, memory):
    if _is_search(incoming) and incoming.args.get("_offset") not in (None, "0"):
        args = {k: v for k, v in incoming.args.items() if k != "_offset"}
        answer = app.test_client().get("/Communication?" + urlencode(args),
                                       headers={"Authorization": incoming.headers.get("Authorization", "")}, base_url=_base(incoming))
        body = answer.get_json()
        for link in body.get("link") or []:  # the links still say where the page should be
            if link["relation"] == "self":
                link["url"] = link["url"].replace("_offset=0", f"_offset={incoming.args['_offset']}")
        return Response(json.dumps(body), 200, content_type=OO)
    return None


def _patient_as_recipient_only(app, incoming, memory):
    if _is_search(incoming) and "patient" in incoming.args:
        args = {k: v for k, v in incoming.args.items() if k != "patient"}
        args["recipient"] = "Patient/" + incoming.args["patient"].rpartition("/")[2]
        return app.test_client().get("/Communication?" + urlencode(args),
                                     headers={"Authorization": incoming.headers.get("Authorization", "")}, base_url=_base(incoming))
    return None


# -- FHIR-8 -------------------------------------------------------------------------------------------
def _relabel(condition, content_type):
    def after(app, incoming, response, memory):
        if condition(incoming, response):
            response.headers["Content-Type"] = content_type
        return response
    return after


def _refused_create(incoming, response):
    return incoming.is_create and 400 <= response.status_code < 500


def _read_back(incoming, response):
    return incoming.read_id() is not None and response.status_code == 200


def _json_with_charset_refused(app, incoming, memory):
    if incoming.is_create and incoming.headers.get("Content-Type", "").replace(" ", "") != "application/fhir+json" \
            and "charset" in incoming.headers.get("Content-Type", ""):
        return Response(json.dumps({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "not-supported", "diagnostics": "unsupported media type"}]}), 415,
            content_type=OO)
    return None


def _b(rule, name, description, made, **more) -> Breakage:
    before, after = made if isinstance(made, tuple) else (made, None)
    return Breakage(rule, name, description, twist(name, before, after, more.pop("config", None)), **more)


def _legacy() -> list[Breakage]:
    """The first misbehaving targets (twists.MISBEHAVIOURS), with the scenarios each must fail."""
    touches = {"ID-1": CREATING, "ID-2": CREATING - {"ID-2", "FHIR-3"}, "SENT-1": frozenset(),
               "RECV-2": frozenset({"SENT-2"}), "RCPT-1": frozenset({"FHIR-2", "FHIR-8"})}
    found = []
    for rule, entries in MISBEHAVIOURS.items():
        for made, fails, others in entries:
            found.append(Breakage(rule, made.name, f"{made.name} (the first misbehaving target for {rule})", made,
                                  touches=touches.get(rule, frozenset()), fails=fails, others=others))
    return found


def _remember_client_id(app, incoming, memory):
    if incoming.is_create:
        memory["client"] = (incoming.message or {}).get("id")
    return None


def _client_id_location(app, incoming, response, memory):
    """Answers with the client's id in the Location, and reads that id as the stored message."""
    if incoming.is_create and created_id(response) and memory.get("client"):
        memory.setdefault("alias", {})[memory["client"]] = created_id(response)
        response.headers["Location"] = response.headers["Location"].rsplit("/", 1)[0] + "/" + memory["client"]
    elif incoming.read_id() in memory.get("alias", {}):
        real = memory["alias"][incoming.read_id()]
        answer = app.test_client().get(f"/Communication/{real}",
                                       headers={"Authorization": incoming.headers.get("Authorization", "")}, base_url=_base(incoming))
        body = answer.get_json()
        body["id"] = incoming.read_id()
        return Response(json.dumps(body), answer.status_code, content_type=OO)
    return response


def _hash_ids(app, incoming, response, memory):
    """The Location of a create names the first message created from the same body."""
    if incoming.is_create and created_id(response) and incoming.message is not None:
        key = json.dumps(incoming.message, sort_keys=True)
        chosen = memory.setdefault("by_body", {}).setdefault(key, created_id(response))
        response.headers["Location"] = response.headers["Location"].rsplit("/", 1)[0] + "/" + chosen
    return response


def _copy_received_wall(app, message):
    if _received_only(message):
        parts = _parts(message["received"])
        if parts and parts[2] != "Z":
            message["sent"] = _wall_as_z(*parts)




def _listed(message, element) -> list:
    """The element when it is a list (a body may give an object, a string... where a list belongs)."""
    value = message.get(element)
    return value if isinstance(value, list) else []


def _not_to_oneself(app, message):
    sender, recipients = message.get("sender"), _listed(message, "recipient")
    if t.valid_party(sender) and recipients and t.valid_party(recipients[0]) and \
            sender["reference"] != recipients[0]["reference"] and \
            sender["reference"].split("/")[0] == recipients[0]["reference"].split("/")[0]:
        other = "Patient" if sender["reference"].startswith("Practitioner/") else "Practitioner"
        recipients[0] = {"reference": f"{other}/{first(app, other)}"}


def _single_element_checked(app, message):
    payload = _listed(message, "payload")
    if len(payload) > 1 and isinstance(payload[0], dict):
        for field in ("content", "contentString"):
            if payload[0].get(field) == "":
                payload[0][field] = "\u200b"


def _same_kind_recipients(recipients):
    kind = _ref(recipients[0]).split("/")[0]
    return [{**r, "type": kind} for r in recipients if _ref(r).startswith(kind + "/")]


def _sent_from_z_received_only(app, message):
    if _received_only(message) and not message["received"].endswith("Z"):
        message["sent"] = datetime.now(timezone.utc).isoformat()


def _override_on_other_days(app, message):
    if _both(message) and isinstance(message["sent"], str) and isinstance(message["received"], str):
        try:
            sent, received = (datetime.fromisoformat(message[k].replace("Z", "+00:00")).astimezone(timezone.utc)
                              for k in ("sent", "received"))
        except ValueError:
            return
        if sent.date() != received.date():
            message["sent"] = message["received"]


def _an_hour_ahead(body, message):
    body["sent"] = (datetime.fromisoformat(body["sent"]) + timedelta(hours=1)).isoformat()


def _empty_list_dropped(app, incoming, memory):
    if incoming.message is not None and incoming.message.get("recipient") == []:
        return Response(status=201, headers={"Location": "Communication/dropped"})
    return None


def _absent_sender_200(app, incoming, memory):
    if _a_communication(incoming.message) and "sender" not in incoming.message:
        return Response(json.dumps({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "required", "diagnostics": "Communication.sender is required"}]}), 200,
            content_type=OO)
    return None


def _content_cut(body, message):
    first_element = (message.get("payload") or [{}])[0]
    if "content" in first_element and "contentString" not in first_element:
        body["payload"] = [{"contentString": first_element["content"][:32]}]


NEW: list[Breakage] = [
    # ID-1: every create's Location is read with ID-1's check, so every creating scenario stops there
    _b("ID-1", "Location from behind the proxy", "names the app server's internal host "
       "(http://app-internal:8080/...) instead of the public base", (None, answers(
           lambda i, r: i.is_create and r.status_code == 201,
           lambda app, i, r, m: (r.headers.__setitem__("Location", "http://app-internal:8080/Communication/"
                                                       + created_id(r)), r)[1])), touches=CREATING),
    _b("ID-1", "lower-case type in Location", "builds the Location from the table name: "
       "<base>/communication/<id>", (None, answers(
           lambda i, r: i.is_create and r.status_code == 201,
           lambda app, i, r, m: (r.headers.__setitem__("Location", r.headers["Location"].replace(
               "/Communication/", "/communication/")), r)[1])), touches=CREATING),
    _b("ID-1", "Content-Location, not Location", "names the new resource in Content-Location and sends no "
       "Location", (None, answers(
           lambda i, r: i.is_create and r.status_code == 201,
           lambda app, i, r, m: (r.headers.__setitem__("Content-Location", r.headers.pop("Location")), r)[1])),
       touches=CREATING),
    # ID-2
    _b("ID-2", "client's id kept", "uses the id the client put in the body when there is one (an upsert)",
       (lambda app, i, m: _remember_client_id(app, i, m), lambda app, i, r, m: _client_id_location(app, i, r, m)),
       fails="An id chosen by the client is not used"),
    _b("ID-2", "read-back without id", "serialises the read-back from the row's columns and leaves out id",
       (None, on_read(lambda body: body.pop("id", None)))),
    _b("ID-2", "read-back carries the client's id", "stores the body as given and reads back its id element, "
       "while the Location names the server's", read_back_of(lambda m: "id" in m,
                                                            lambda body, m: body.update(id=m["id"]))),
    _b("ID-2", "ids from a hash of the body", "issues content-addressed ids: creates of the same body share one",
       (None, _hash_ids)),
    # SENT-1
    _b("SENT-1", "offset minutes ignored", "converts +05:30 as +05:00 (the offset's minutes dropped)",
       converted("sent", _minutes_ignored), touches=frozenset({"SENT-4"})),
    _b("SENT-1", "sign of negative offsets dropped", "reads -04:00 as +04:00",
       converted("sent", _sign_dropped), touches=frozenset({"SENT-4"})),
    _b("SENT-1", "fraction read as microseconds", "parses .250 as 250 microseconds, not 250 milliseconds",
       converted("sent", _fraction_as_micro), touches=frozenset({"SENT-4"})),
    _b("SENT-1", "+00:00 read as local time", "treats the written offset +00:00 as no zone and applies its "
       "own -05:00", converted("sent", _plus_zero_as_local)),
    _b("SENT-1", "fractions rounded half up", "rounds fractional seconds to the nearest second "
       "(.750 becomes the next second)", converted("sent", _rounded_half_up), touches=frozenset({"SENT-4"})),
    # SENT-2
    _b("SENT-2", "default evaluated once", "takes the default sent from a value computed at start-up "
       "(a default argument evaluated once)", _boot_time),
    _b("SENT-2", "default at midnight", "defaults sent to today's date at 00:00 (a date column)",
       read_back_of(_neither, _midnight)),
    _b("SENT-2", "default to the minute", "defaults sent to now with the seconds cut off",
       read_back_of(_neither, _to_the_minute)),
    _b("SENT-2", "default an hour ahead", "defaults sent an hour ahead (a daylight-saving rule applied to UTC)",
       read_back_of(_neither, _an_hour_ahead)),
    # SENT-3
    _b("SENT-3", "received's wall time copied", "copies received's wall time into sent with Z, unconverted",
       on_create(_copy_received_wall)),
    _b("SENT-3", "only for practitioner senders", "sets sent from received on the practitioner path; a "
       "patient's message gets now", _sent_from_received_if("Practitioner")),
    _b("SENT-3", "only for patient senders", "sets sent from received on the patient path; a practitioner's "
       "message gets now", _sent_from_received_if("Patient")),
    _b("SENT-3", "received cut to the minute", "copies received into sent without its seconds",
       on_create(_received_to_the_minute)),
    _b("SENT-3", "only Z received copied", "copies received into sent only when it is written with Z; "
       "other offsets get now", on_create(_sent_from_z_received_only)),
    # SENT-4
    _b("SENT-4", "sent is the earlier", "keeps the earlier of sent and received as sent",
       _pick(min), touches=frozenset({"SENT-1"})),
    _b("SENT-4", "sent is the later", "keeps the later of sent and received as sent",
       _pick(max), touches=frozenset({"SENT-1"})),
    _b("SENT-4", "received wins for patients", "lets received override sent when a patient sends",
       _received_overrides_for("Patient"), touches=frozenset({"SENT-1"})),
    _b("SENT-4", "received wins on another day", "lets received override sent when they fall on different "
       "days (UTC)", on_create(_override_on_other_days), touches=frozenset({"SENT-1"})),
    # RECV-1
    _b("RECV-1", "local date kept", "converts received's time of day but keeps the date as written when the "
       "conversion crosses midnight", converted("received", _local_date_kept), touches=frozenset({"SENT-4"})),
    _b("RECV-1", "positive offsets the wrong way", "adds a positive offset instead of subtracting it",
       converted("received", _positive_wrong_way), touches=frozenset({"SENT-4"})),
    _b("RECV-1", "received rounded half up", "rounds received's fractional seconds to the nearest second",
       converted("received", _rounded_half_up), touches=frozenset({"SENT-4"})),
    _b("RECV-1", "received offset minutes ignored", "converts received's +05:30 as +05:00",
       converted("received", _minutes_ignored), touches=frozenset({"SENT-4"})),
    # RECV-2
    _b("RECV-2", "received null", "reads back \"received\": null when none was given (a nullable column "
       "serialised as is)", read_back_of(lambda m: "received" not in m, lambda body, m: body.update(received=None))),
    _b("RECV-2", "received empty text", "reads back \"received\": \"\" when none was given",
       read_back_of(lambda m: "received" not in m, lambda body, m: body.update(received=""))),
    _b("RECV-2", "received now for patients", "stamps received with now when a patient sends without "
       "a sent time", on_create(_received_now_for_patients), touches=frozenset()),
    # RCPT-1
    _b("RCPT-1", "empty list means the chart's patient", "takes recipient: [] as the patient of the chart",
       on_create(_empty_recipients_to_patient)),
    _b("RCPT-1", "refused but stored (recipient)", "validates the recipient after the insert: answers 400 "
       "but the message is stored", refused_but_stored("recipient", _patient)),
    _b("RCPT-1", "null recipient accepted", "takes recipient: null as the chart's patient",
       on_create(_null_recipient)),
    _b("RCPT-1", "empty list answered 201", "answers 201 to recipient: [] and silently drops the message",
       _empty_list_dropped),
    # RCPT-2
    _b("RCPT-2", "any resource type with an id", "resolves Organization/<id> (any type) to the chart's patient",
       _first_recipient_replaced_if(lambda r: _ref(r).startswith("Organization/"))),
    _b("RCPT-2", "Patient/ with no id", "matches references with Patient/.* and takes an empty id as "
       "the chart's patient", _first_recipient_replaced_if(lambda r: _ref(r) in ("Patient/", "Patient"))),
    _b("RCPT-2", "display name looked up", "finds a recipient with a display and no reference by name",
       _first_recipient_replaced_if(lambda r: "reference" not in r and "display" in r)),
    _b("RCPT-2", "RelatedPerson as a patient", "takes RelatedPerson/<id> (a patient's proxy) as the patient",
       _first_recipient_replaced_if(lambda r: _ref(r).startswith("RelatedPerson/"))),
    # RCPT-3
    _b("RCPT-3", "last recipient kept", "keeps the last recipient instead of the first",
       read_back_of(lambda m: len(_listed(m, "recipient")) > 1,
                    _kept_recipients(lambda rs: [{**rs[-1], "type": _ref(rs[-1]).split("/")[0]}]))),
    _b("RCPT-3", "one recipient per kind", "keeps the first recipient of each kind (a copy to the care team)",
       read_back_of(lambda m: len(_listed(m, "recipient")) > 1,
                    _kept_recipients(lambda rs: [{**r, "type": _ref(r).split("/")[0]} for r in _different_kinds(rs)]))),
    _b("RCPT-3", "first patient kept", "keeps the first recipient that is a patient, whatever its place",
       read_back_of(lambda m: len(_listed(m, "recipient")) > 1,
                    _kept_recipients(lambda rs: [{**r, "type": "Patient"} for r in _first_patient_only(rs)]))),
    _b("RCPT-3", "recipients of the first one's kind kept", "keeps every recipient of the first one's kind "
       "(a message to a group of patients)", read_back_of(lambda m: len(_listed(m, "recipient")) > 1,
                                                          _kept_recipients(_same_kind_recipients))),
    # SNDR-1
    _b("SNDR-1", "refused but stored (sender)", "validates the sender after the insert: answers 400 but the "
       "message is stored", refused_but_stored("sender", _practitioner)),
    _b("SNDR-1", "dropped with 201", "answers 201 to a message without sender and silently drops it",
       _silently_dropped("sender"), touches=frozenset({"FHIR-2"})),
    _b("SNDR-1", "null sender accepted", "takes sender: null as the Canvas Bot",
       on_create(lambda app, m: m.update(sender=_practitioner(app)) if "sender" in m and m["sender"] is None
                 else None), touches=frozenset({"FHIR-2"})),
    _b("SNDR-1", "refusal answered 200", "answers a message without sender with 200 and an OperationOutcome",
       _absent_sender_200, touches=frozenset({"FHIR-2"})),
    # SNDR-2
    _b("SNDR-2", "RelatedPerson as sender", "takes RelatedPerson/<id> as the practitioner on duty",
       _sender_replaced_if(lambda s: _ref(s).startswith("RelatedPerson/"))),
    _b("SNDR-2", "Practitioner/ with no id", "takes Practitioner/ with no id as the Canvas Bot",
       _sender_replaced_if(lambda s: _ref(s) == "Practitioner/")),
    _b("SNDR-2", "display-only sender looked up", "finds a sender with a display and no reference by name",
       _sender_replaced_if(lambda s: "reference" not in s and "display" in s)),
    _b("SNDR-2", "Device as the Canvas Bot", "takes Device/<id> (an integration) as the Canvas Bot",
       _sender_replaced_if(lambda s: _ref(s).startswith("Device/"))),
    # PAY-1
    _b("PAY-1", "empty payload filled", "stores payload: [] as a message with placeholder text",
       on_create(_empty_payload_list)),
    # The stored copy keeps no marker in its text (a placeholder) nor an identifier (the mock drops it):
    # it is found by its sent time, the marker's instant a textless draft carries (bodies.marker_instant).
    _b("PAY-1", "refused but stored (payload)", "validates the payload after the insert: answers 400 but the "
       "message is stored", refused_but_stored("payload", lambda app: [{"contentString": "(no text)"}])),
    _b("PAY-1", "dropped with 201", "answers 201 to a message without payload and silently drops it",
       _silently_dropped("payload"), touches=frozenset({"FHIR-2"})),
    _b("PAY-1", "null payload accepted", "takes payload: null as placeholder text",
       on_create(_null_payload)),
    # PAY-2
    _b("PAY-2", "last element kept", "keeps the last payload element's text",
       read_back_of(lambda m: len(_payload_texts(m)) > 1,
                    lambda body, m: body.update(payload=[{"contentString": _payload_texts(m)[-1]}]))),
    _b("PAY-2", "texts joined", "joins every element's text with a space into one element",
       read_back_of(lambda m: len(_payload_texts(m)) > 1,
                    lambda body, m: body.update(payload=[{"contentString": " ".join(_payload_texts(m))}]))),
    _b("PAY-2", "second element's text in the first", "keeps one element but the text of the second "
       "(an index off by one)", read_back_of(lambda m: len(_payload_texts(m)) > 1,
                                             lambda body, m: body.update(payload=[{"contentString": _payload_texts(m)[1]}]))),
    # PAY-3
    _b("PAY-3", "content not checked", "checks contentString for emptiness but not the document's content",
       on_create(_content_unchecked), touches=frozenset({"FHIR-2"})),  # explored FHIR-2 sends empty content too
    _b("PAY-3", "last element checked", "checks the last payload element for emptiness instead of the first",
       on_create(_last_element_checked)),
    _b("PAY-3", "single-element payloads checked", "checks the text for emptiness only when the payload has "
       "one element", on_create(_single_element_checked)),
    # PAY-4
    _b("PAY-4", "content as an attachment", "maps content to contentAttachment (content[x] read as an "
       "attachment)", read_back_of(lambda m: True, _content_as_attachment), touches=frozenset({"PAY-2"})),
    _b("PAY-4", "content ignored", "reads only contentString: a text given as content is stored empty",
       read_back_of(lambda m: True, _content_ignored), touches=frozenset({"PAY-2"})),
    _b("PAY-4", "content cut to 32 characters", "stores text given as content in a legacy 32-character column",
       read_back_of(lambda m: True, _content_cut), touches=frozenset({"PAY-2"})),
    # FHIR-1
    _b("FHIR-1", "array unwrapped", "takes the first element of a JSON array as the resource",
       _array_unwrapped, fails="a JSON array holding the message"),
    _b("FHIR-1", "any resourceType", "ignores resourceType: a Patient body is taken as a Communication",
       on_create(_any_resource_type), fails='a resource of type "Patient"'),
    _b("FHIR-1", "resourceType defaulted", "fills in a missing resourceType", on_create(_missing_resource_type),
       fails="a message without a resourceType"),
    _b("FHIR-1", "minutes roll over", "a lenient date parser: 10:61 becomes 11:01",
       on_create(_minutes_roll_over), fails="10:61",
       others={"(explored)": "passed"}),  # the seed draws no minute past 59 at depth standard
    # FHIR-2
    _b("FHIR-2", "generic diagnostics", "answers every refusal with diagnostics \"Invalid request\"",
       (None, _issues(_generic_text))),
    _b("FHIR-2", "issues without code", "leaves out each issue's code", (None, _issues(_no_code))),
    _b("FHIR-2", "text only in details.coding", "puts the words in details.coding[].display, not "
       "diagnostics or details.text", (None, _issues(_coding_display_only))),
    _b("FHIR-2", "500 on a numeric sent", "crashes on a sent that is a number",
       _crash_on("sent", lambda v: isinstance(v, (int, float)))),
    _b("FHIR-2", "500 on a payload object", "crashes on a payload that is an object, not a list",
       _crash_on("payload", lambda v: isinstance(v, dict))),
    # FHIR-3
    _b("FHIR-3", "expired tokens honoured for 5 minutes", "keeps honouring tokens 300 s after they expire",
       _grace_period(300), fails="an expired bearer token",
       # a token's lifetime needs the target's clock moved (the fixed row's): the explored credentials are
       # tokens never valid or one character off the run's own
       others={"(explored)": "passed"}),
    _b("FHIR-3", "reads not guarded", "checks the token on create but not on read",
       _reads_unguarded, fails="Reading a message needs a bearer token too"),
    _b("FHIR-3", "gateway 401", "an API gateway answers 401 with {\"message\": \"Unauthorized\"}, no "
       "OperationOutcome", (None, _gateway_401)),
    _b("FHIR-3", "403 for an unknown token", "answers 403 Forbidden to a token it never issued",
       (None, _forbidden_unknown), fails="an unknown bearer token"),
    _b("FHIR-3", "token case folded", "looks tokens up case-insensitively",
       (_token_case_folded, _remember_tokens)),
    # FHIR-4
    _b("FHIR-4", "senders not looked up", "checks that the recipient exists, never the sender",
       _unknown_replaced("sender", ("Patient", "Practitioner")), fails="party: sender"),
    _b("FHIR-4", "unknown patient recipients", "looks up practitioner recipients only",
       _unknown_replaced("recipient", ("Patient",)), fails="recipient: a patient, party: recipient"),
    _b("FHIR-4", "unknown practitioner recipients", "looks up patient recipients only",
       _unknown_replaced("recipient", ("Practitioner",)), fails="recipient: a practitioner, party: recipient"),
    # FHIR-5
    _b("FHIR-5", "two patients allowed", "refuses practitioner-to-practitioner but not patient-to-patient",
       _same_kind_allowed("Patient"), fails="another patient"),
    _b("FHIR-5", "two practitioners allowed", "refuses patient-to-patient but not practitioner-to-practitioner",
       _same_kind_allowed("Practitioner"), fails="another practitioner"),
    _b("FHIR-5", "only messages to oneself refused", "refuses a message whose sender is its recipient, not "
       "one between two people of the same kind", on_create(_not_to_oneself)),
    # FHIR-6
    _b("FHIR-6", "HTML 404", "answers an unknown id with the web framework's HTML 404 page",
       (None, _html_404), fails="does not exist"),
    _b("FHIR-6", "DELETE answers 204", "answers DELETE with 204 (a soft delete that is never read)",
       _on_change("DELETE", 204), fails="change: delete"),
    _b("FHIR-6", "PUT echoed", "answers PUT with 200 and the body sent, changing nothing",
       _on_change("PUT", 200, "echo"), fails="change: replace"),
    _b("FHIR-6", "DELETE answers 403", "answers DELETE with 403 Forbidden", _on_change("DELETE", 403),
       fails="change: delete"),
    # FHIR-7
    _b("FHIR-7", "total of the page", "counts the entries of the page as total, not every match",
       (None, _bundle_change(_total_of_page))),
    _b("FHIR-7", "_count defaults to 20", "pages 20 at a time when no _count is given",
       _default_count(20), fails="Without a page size",
       # every explored search gives a _count (its space is the boundaries of _count and _offset): the
       # default page size is the fixed row's question
       others={"(explored)": "passed"}),
    # Caught by the page-by-page walk once other scenarios have written: it reads the third patient's few
    # messages (Target.paging_patient), so a next page of everyone's shows a total and entries not the
    # patient's; alone on a fresh target (the rule's scenarios only) the explored search catches it instead.
    _b("FHIR-7", "next without the filters", "builds next links from _count and _offset alone",
       (None, _bundle_change(_next_without_filters))),
    _b("FHIR-7", "_offset ignored", "serves the first page whatever _offset says", _offset_ignored,
       fails="page by page"),
    _b("FHIR-7", "patient means recipient", "searches patient= as recipient= only (a patient's own messages "
       "are missed)", _patient_as_recipient_only),
    # FHIR-8
    _b("FHIR-8", "refusals in text/plain", "labels its error answers text/plain",
       (None, _relabel(_refused_create, "text/plain; charset=utf-8"))),
    _b("FHIR-8", "DSTU2 media type", "labels read-backs application/json+fhir (the DSTU2 name)",
       (None, _relabel(_read_back, "application/json+fhir"))),
    _b("FHIR-8", "octet-stream read-backs", "labels read-backs application/octet-stream",
       (None, _relabel(_read_back, "application/octet-stream"))),
    _b("FHIR-8", "charset refused", "refuses application/json; charset=utf-8 with 415",
       _json_with_charset_refused),
]

CORPUS: list[Breakage] = _legacy() + NEW


# -- variations every rule allows ------------------------------------------------------------------
def _read_backs(change, content_type: str | None = None):
    def after(app, incoming, response, memory):
        if incoming.read_id() and response.status_code == 200:
            body = body_of(response)
            change(app, body)
            return with_body(response, body, content_type=content_type or OO)
        return response
    return after


def _extra_elements(app, body):
    body["extension"] = [{"url": "http://example.org/fhir/StructureDefinition/channel", "valueCode": "api"}]
    body["identifier"] = [{"system": "http://example.org/messages", "value": body["id"]}]
    body["meta"] = {**body.get("meta", {}), "source": "#api", "tag": [{"system": "http://example.org/tags",
                                                                      "code": "api"}]}
    body["category"] = [{"coding": [{"system": "http://example.org/category", "code": "notification"}]}]
    body["recipient"][0]["display"] = "Someone"


def _subject(app, body):
    patient = next((p["reference"] for p in [body["sender"], *body["recipient"]]
                    if p["reference"].startswith("Patient/")), None)
    if patient:
        body["subject"] = {"reference": patient, "type": "Patient"}


def _location(suffix: str, relative: bool):
    def after(app, incoming, response, memory):
        message_id = created_id(response) if incoming.is_create else None
        if message_id:
            base = "" if relative else response.headers["Location"].rsplit("/Communication/", 1)[0] + "/"
            response.headers["Location"] = f"{base}Communication/{message_id}{suffix}"
        return response
    return after


def _relative_links(body, incoming):
    for link in body.get("link") or []:
        link["url"] = link["url"].split("/Communication", 1)[1].join(["Communication", ""]) \
            if "/Communication" in link["url"] else link["url"]


def _no_full_url(body, incoming):
    for entry in body.get("entry") or []:
        entry.pop("fullUrl", None)


def _more_links(body, incoming):
    urls = {link["relation"]: link["url"] for link in body.get("link") or []}
    body["link"] = [*body.get("link", []), {"relation": "prev", "url": urls["first"]},
                    {"relation": "alternate", "url": urls["self"] + "&_format=json"}]


def _details_text_only(issue):
    text = issue.pop("diagnostics", None)
    if text:
        issue["details"] = {"text": text}
    return issue


def _html_wrapped(app, body):
    from html import escape
    body["payload"] = [{"contentString": f"<p>{escape(p['contentString'], quote=False)}</p>"} for p in body["payload"]]


def _lower_case_bearer(app, incoming, response, memory):
    if incoming.path.startswith("/auth/token") and response.status_code == 200:
        body = body_of(response)
        body["token_type"] = "bearer"
        return with_body(response, body, content_type="application/json")
    return response


def _with_parameters(app, incoming, response, memory):
    if response.headers.get("Content-Type", "").startswith(OO):
        response.headers["Content-Type"] = f"{OO}; fhirVersion=4.0; charset=utf-8"
    return response


VARIANTS: list[Twist] = [
    twist("extra elements in read-backs (extension, identifier, meta, category, display)",
          after=_read_backs(_extra_elements)),
    twist("a subject naming the patient", after=_read_backs(_subject)),
    twist("status read back as completed", after=_read_backs(lambda app, body: body.update(status="completed"))),
    twist("relative Location with /_history/1", after=_location("/_history/1", relative=True)),
    twist("absolute Location with /_history/1", after=_location("/_history/1", relative=False)),
    twist("relative Bundle links", after=_bundle_change(_relative_links)),
    twist("Bundle entries without fullUrl", after=_bundle_change(_no_full_url)),
    twist("extra Bundle links (prev, alternate)", after=_bundle_change(_more_links)),
    twist("issues with details.text only", after=_issues(_details_text_only)),
    twist("payload text wrapped in <p>", after=_read_backs(_html_wrapped)),
    twist("media types with parameters (fhirVersion, charset)", after=_with_parameters),
    twist("token_type bearer in lower case", after=_lower_case_bearer),
]
