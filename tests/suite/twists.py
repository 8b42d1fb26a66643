"""Targets that differ from the mock in one way: misbehaviours that break one rule, and variations
every rule allows.

Each twist is WSGI middleware around the real mock (``create_app``): it may change a
request before the mock sees it, answer in the mock's place, or change the mock's
answer. A misbehaviour breaks exactly one rule, the way a real server might (keeps a
second recipient, defaults ``received``, accepts empty text...); a variation answers
differently in a way the rules allow (relative Location, ``Z`` instants, extra elements).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from io import BytesIO
from typing import Callable, NamedTuple

from werkzeug.wrappers import Request, Response

OO = "application/fhir+json"
ONE_MESSAGE = re.compile(r"^/Communication/(?P<id>[^/]+)$")


class Incoming:
    """The request as the twist sees it; ``body`` (JSON) and ``headers`` may be changed."""

    def __init__(self, request: Request) -> None:
        self.method = request.method
        self.path = request.path
        self.args = request.args
        self.headers = {k: v for k, v in request.headers.items()}
        self.raw = request.get_data()
        try:
            self.body = json.loads(self.raw) if self.raw else None
        except ValueError:
            self.body = None
        self.json_ok = self.body is not None

    @property
    def is_create(self) -> bool:
        return self.method == "POST" and self.path == "/Communication"

    @property
    def message(self) -> dict | None:
        """The create's body when it is a JSON object."""
        return self.body if self.is_create and isinstance(self.body, dict) else None

    def read_id(self) -> str | None:
        match = ONE_MESSAGE.match(self.path)
        return match["id"] if match and self.method == "GET" else None


class Twist(NamedTuple):
    """One way a target differs from the mock."""

    name: str
    before: Callable | None = None  # (app, Incoming, memory) -> Response to answer instead, or None
    after: Callable | None = None  # (app, Incoming, Response, memory) -> Response
    config: dict = {}  # create_app settings the twist needs

    def install(self, app) -> None:
        inner, memory = app.wsgi_app, {}

        def wsgi(environ, start_response):
            incoming = Incoming(Request(environ))
            answer = self.before(app, incoming, memory) if self.before else None
            if answer is None:
                raw = json.dumps(incoming.body).encode() if incoming.json_ok else incoming.raw
                environ = {**environ, "wsgi.input": BytesIO(raw), "CONTENT_LENGTH": str(len(raw))}
                environ.pop("HTTP_AUTHORIZATION", None)
                if incoming.headers.get("Authorization"):
                    environ["HTTP_AUTHORIZATION"] = incoming.headers["Authorization"]
                answer = Response.from_app(inner, environ)
                if self.after:
                    answer = self.after(app, incoming, answer, memory)
            return answer(environ, start_response)

        app.wsgi_app = wsgi


# -- helpers ---------------------------------------------------------------------------------
def body_of(response: Response):
    try:
        return json.loads(response.get_data())
    except ValueError:
        return None


def with_body(response: Response, body, *, content_type: str = OO) -> Response:
    response.set_data(json.dumps(body))
    response.headers["Content-Type"] = content_type
    return response


def created_id(response: Response) -> str | None:
    location = response.headers.get("Location", "")
    return location.rsplit("/", 1)[-1] if response.status_code == 201 and location else None


def first(app, kind: str) -> str:
    return app.extensions["mock_store"].list_people(kind)[0]["id"]


def exists(app, kind: str, ident: str) -> bool:
    return app.extensions["mock_store"].get_person(kind, ident) is not None


def stored(app, message_id: str) -> dict:
    return app.extensions["mock_store"].get_communication(message_id).resource


def valid_party(value) -> bool:
    reference = value.get("reference") if isinstance(value, dict) else None
    return isinstance(reference, str) and re.fullmatch(r"(Patient|Practitioner)/[A-Za-z0-9\-.]{1,64}", reference) is not None


def in_offset(value: str, hours: int) -> str:
    zone = timezone(timedelta(hours=hours))
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone).isoformat()


def on_read(change: Callable[[dict], None]) -> Callable:
    """An ``after`` that changes every read-back of one message."""
    def after(app, incoming, response, memory):
        if incoming.read_id() and response.status_code == 200:
            body = body_of(response)
            change(body)
            return with_body(response, body)
        return response
    return after


def on_create(change: Callable[[object, dict], None]) -> Callable:
    """A ``before`` that changes the body of a create (``change(app, message)``)."""
    def before(app, incoming, memory):
        if incoming.message is not None:
            change(app, incoming.message)
        return None
    return before


def remembered(element: str) -> Twist:
    """Keep every element of a list the create gave (not just the first) and read all of them back."""
    def before(app, incoming, memory):
        if incoming.message is not None:
            memory["pending"] = incoming.message.get(element)
        return None

    def after(app, incoming, response, memory):
        if incoming.is_create and created_id(response):
            memory[created_id(response)] = memory.pop("pending", None)
        elif incoming.read_id() in memory and response.status_code == 200:
            body = body_of(response)
            kept = memory[incoming.read_id()]
            body[element] = [{"contentString": p.get("contentString", p.get("content"))} for p in kept] \
                if element == "payload" else kept
            return with_body(response, body)
        return response

    return Twist(f"reads back every {element} given", before, after)


# -- misbehaviours, by the rule each breaks ---------------------------------------------------------
def _no_location(app, incoming, response, memory):
    if incoming.is_create:
        response.headers.pop("Location", None)
    return response


def _made_up_location(app, incoming, response, memory):
    if incoming.is_create and response.status_code == 201:
        chosen = (incoming.message or {}).get("id") or "0" * 32
        response.headers["Location"] = response.headers["Location"].rsplit("/", 1)[0] + "/" + chosen
    return response


def _wall_time_as_utc(app, message):
    if isinstance(message.get("sent"), str):
        message["sent"] = re.sub(r"(Z|[+-]\d{2}:\d{2})$", "Z", message["sent"])


def _now_minus_an_hour(app, message):
    if "sent" not in message and "received" not in message:
        message["sent"] = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()


def _sent_is_now(app, message):
    if "received" in message and "sent" not in message:
        message["sent"] = datetime.now(timezone.utc).isoformat()


def _received_overrides(app, message):
    if "received" in message and "sent" in message:
        message["sent"] = message["received"]


def _received_defaults(app, message):
    if "received" not in message:
        message["received"] = message.get("sent") or datetime.now(timezone.utc).isoformat()


def _default_recipient(app, message):
    if not message.get("recipient"):
        message["recipient"] = [{"reference": f"Patient/{first(app, 'Patient')}"}]


def _any_recipient(app, message):
    recipients = message.get("recipient")
    if isinstance(recipients, list) and recipients and not valid_party(recipients[0]):
        recipients[0] = {"reference": f"Patient/{first(app, 'Patient')}"}


def _default_sender(app, message):
    if not message.get("sender"):
        message["sender"] = {"reference": f"Practitioner/{first(app, 'Practitioner')}"}


def _any_sender(app, message):
    if "sender" in message and not valid_party(message["sender"]):
        message["sender"] = {"reference": f"Practitioner/{first(app, 'Practitioner')}"}


def _default_payload(app, message):
    if not message.get("payload"):
        message["payload"] = [{"contentString": "(no text)"}]


def _empty_text_allowed(app, message):
    for element in message.get("payload") or []:
        for field in ("content", "contentString"):
            if element.get(field) == "":
                element[field] = "-"


def _content_not_content_string(body):
    body["payload"] = [{"content": p.get("contentString")} for p in body["payload"]]


def _unprocessable_not_bad(app, incoming, response, memory):
    if incoming.is_create and response.status_code == 400:
        response.status_code = 422
    return response


def _crash_on_bad_json(app, incoming, memory):
    if incoming.is_create and not incoming.json_ok:
        return Response("Internal Server Error", 500, content_type="text/plain")
    return None


def _crash_on_wrong_type(app, incoming, memory):
    message = incoming.message
    if message is not None and "recipient" in message and not isinstance(message["recipient"], list):
        return Response("Traceback (most recent call last): TypeError", 500, content_type="text/plain")
    return None


def _mute_outcomes(app, incoming, response, memory):
    body = body_of(response)
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        body["issue"] = [{"severity": i.get("severity"), "code": i.get("code")} for i in body["issue"]]
        return with_body(response, body)
    return response


def _token_ignored():
    def before(app, incoming, memory):
        if incoming.path.startswith("/auth/token"):
            return None
        if "own" not in memory:
            grant = app.test_client().post("/auth/token/", data={
                "grant_type": "client_credentials", "client_id": app.config["CLIENT_ID"],
                "client_secret": app.config["CLIENT_SECRET"]})
            memory["own"] = grant.json["access_token"]
        header = incoming.headers.get("Authorization", "")
        if header.partition(" ")[2] not in memory.setdefault("granted", set()):
            incoming.headers["Authorization"] = f"Bearer {memory['own']}"
        return None

    def after(app, incoming, response, memory):
        if incoming.path.startswith("/auth/token") and response.status_code == 200:
            memory.setdefault("granted", set()).add(body_of(response)["access_token"])
        return response

    return Twist("lets requests without a valid token through", before, after)


def _short_stated_lifetime(app, incoming, response, memory):
    if incoming.path.startswith("/auth/token") and response.status_code == 200:
        body = body_of(response)
        body["expires_in"] = 60
        return with_body(response, body, content_type="application/json")
    return response


def _no_lifetime(app, incoming, response, memory):
    if incoming.path.startswith("/auth/token") and response.status_code == 200:
        body = body_of(response)
        del body["expires_in"]
        return with_body(response, body, content_type="application/json")
    return response


def _anyone_exists(app, message):
    parties = [("sender", message.get("sender"))] + [("recipient", r) for r in message.get("recipient") or []][:1]
    for where, party in parties:
        if valid_party(party):
            kind, ident = party["reference"].split("/")
            if not exists(app, kind, ident):
                party["reference"] = f"{kind}/{first(app, kind)}"


def _same_kind_fixed(app, message):
    sender, recipients = message.get("sender"), message.get("recipient") or []
    if valid_party(sender) and recipients and valid_party(recipients[0]):
        kind = sender["reference"].split("/")[0]
        if recipients[0]["reference"].startswith(kind + "/"):
            other = "Patient" if kind == "Practitioner" else "Practitioner"
            recipients[0] = {"reference": f"{other}/{first(app, other)}"}


def _anything_goes(app, incoming, memory):
    match = ONE_MESSAGE.match(incoming.path)
    if match and incoming.method == "DELETE":
        return Response(status=204)
    if match and incoming.method == "PUT":
        return Response(json.dumps(incoming.body), 200, content_type=OO)
    return None


def _unknown_is_empty(app, incoming, response, memory):
    if incoming.read_id() and response.status_code == 404:
        response.status_code = 200
        return with_body(response, {"resourceType": "Communication", "id": incoming.read_id(), "status": "unknown"})
    return response


def _no_next_links(app, incoming, response, memory):
    body = body_of(response)
    if isinstance(body, dict) and body.get("resourceType") == "Bundle":
        body["link"] = [link for link in body.get("link", []) if link.get("relation") != "next"]
        return with_body(response, body)
    return response


def _html_answers(app, incoming, response, memory):
    if response.headers.get("Content-Type", "").startswith(OO):
        response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def _fhir_json_only(app, incoming, memory):
    if incoming.is_create and incoming.headers.get("Content-Type", "").startswith("application/json"):
        outcome = {"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "not-supported", "diagnostics": "send application/fhir+json"}]}
        return Response(json.dumps(outcome), 415, content_type=OO)
    return None


ALL = None  # every scenario of the rule fails
EXPLORED = "(explored)"  # how the name of a rule's explored scenario ends

# rule -> [(twist, names of the scenarios it makes fail (ALL: every one), {scenario name: other status})]
MISBEHAVIOURS: dict[str, list[tuple[Twist, object, dict]]] = {
    "ID-1": [(Twist("answers 201 without a Location", after=_no_location), ALL, {})],
    "ID-2": [(Twist("names the client's id, or a made-up one, in the Location", after=_made_up_location), ALL, {})],
    "SENT-1": [
        (Twist("keeps the wall time of sent and calls it UTC", before=on_create(_wall_time_as_utc)),
         {"given: 2021-04-29T09:30:00-04:00", "given: 2022-02-10T20:34:00+05:30",
          "given: 2021-04-29T09:30:00.250-04:00"}, {}),
        (Twist("reads sent back with a -05:00 offset", after=on_read(
            lambda body: body.update(sent=in_offset(body["sent"], -5)))), ALL, {}),
    ],
    "SENT-2": [
        (Twist("sets sent an hour before now", before=on_create(_now_minus_an_hour)), ALL, {}),
        (Twist("sets sent an hour before now, and has no clock control",
               before=lambda app, incoming, memory: _reserved_before(app, incoming, memory)
               or on_create(_now_minus_an_hour)(app, incoming, memory)), ALL, {}),
    ],
    "SENT-3": [(Twist("sets sent to now although received was given", before=on_create(_sent_is_now)), ALL, {})],
    "SENT-4": [(Twist("lets received override sent", before=on_create(_received_overrides)), ALL, {})],
    "RECV-1": [(Twist("reads received back with a +02:00 offset", after=on_read(
        lambda body: body.update(received=in_offset(body["received"], 2)) if "received" in body else None)),
        ALL, {})],
    "RECV-2": [(Twist("defaults received to sent", before=on_create(_received_defaults)), ALL, {})],
    "RCPT-1": [(Twist("fills in a recipient when none is given", before=on_create(_default_recipient)), ALL, {})],
    "RCPT-2": [(Twist("takes any recipient reference as the first patient", before=on_create(_any_recipient)),
                "A recipient that is not a Patient or Practitioner reference is refused", {})],
    "RCPT-3": [(remembered("recipient"), ALL, {})],
    "SNDR-1": [(Twist("fills in a sender when none is given", before=on_create(_default_sender)), ALL, {})],
    "SNDR-2": [(Twist("takes any sender reference as the first practitioner", before=on_create(_any_sender)),
                "A sender that is not a Practitioner or Patient reference is refused", {})],
    "PAY-1": [(Twist("fills in a payload when none is given", before=on_create(_default_payload)), ALL, {})],
    "PAY-2": [(remembered("payload"), ALL, {})],
    "PAY-3": [(Twist("accepts empty text", before=on_create(_empty_text_allowed)), ALL, {})],
    "PAY-4": [(Twist("reads the text back as content", after=on_read(_content_not_content_string)), ALL, {})],
    "FHIR-1": [
        (Twist("answers structural problems with 422", after=_unprocessable_not_bad), ALL, {}),
        (Twist("answers 500 to a body that is not JSON", before=_crash_on_bad_json),
         {"body: text that is not JSON"}, {}),
    ],
    "FHIR-2": [
        (Twist("says nothing in its OperationOutcomes", after=_mute_outcomes),
         "Each refusal is an OperationOutcome saying what was wrong", {}),
        (Twist("crashes on a recipient that is not a list", before=_crash_on_wrong_type),
         {"problem: its recipient is a single object, not a list"}, {}),
    ],
    "FHIR-3": [
        (_token_ignored(), {"credential: no bearer token", "credential: an unknown bearer token",
                            "Reading a message needs a bearer token too"}, {}),
        (Twist("lets tokens live far longer than the expires_in it states", after=_short_stated_lifetime,
               config={"TOKEN_LIFETIME": 10 ** 8}), {"credential: an expired bearer token"},
         {EXPLORED: "passed"}),  # the explored space is made-up and missing tokens, not expired ones
        (Twist("grants tokens without expires_in", after=_no_lifetime),
         {"Client credentials are exchanged for a bearer token"},
         {"credential: an expired bearer token": "skipped", EXPLORED: "passed"}),  # nor the grant itself
    ],
    "FHIR-4": [(Twist("takes unknown people as known ones", before=on_create(_anyone_exists)), ALL, {})],
    "FHIR-5": [(Twist("turns a same-kind recipient into the other kind", before=on_create(_same_kind_fixed)),
                ALL, {})],
    "FHIR-6": [(Twist("answers unknown ids and changes as if they worked", before=_anything_goes,
                      after=_unknown_is_empty), ALL, {})],
    "FHIR-7": [(Twist("leaves out next links", after=_no_next_links),
                {"A patient's messages are found page by page", "Without a page size a search answers 10 at a time"},
                {})],
    "FHIR-8": [
        (Twist("labels its JSON answers text/html", after=_html_answers), ALL, {}),
        (Twist("refuses application/json", before=_fhir_json_only), {"media type: application/json"}, {}),
    ],
}


# -- variations every rule allows -----------------------------------------------------------------
def _utc_z(value: str) -> str:
    value = value.replace("+00:00", "Z")
    return value if "." in value else value[:-1] + ".000Z"


def _lenient_after(app, incoming, response, memory):
    message_id = created_id(response) if incoming.is_create else None
    if message_id:  # a relative Location with a version, and the new resource as the body
        response.headers["Location"] = f"Communication/{message_id}/_history/1"
        return with_body(response, stored(app, message_id))
    if incoming.read_id() and response.status_code == 200:
        body = body_of(response)
        for element in ("sent", "received"):
            if element in body:
                body[element] = _utc_z(body[element])
        body["extension"] = [{"url": "http://example.org/fhir/StructureDefinition/note", "valueString": "extra"}]
        body["identifier"] = [{"system": "http://example.org/messages", "value": body["id"]}]
        body["meta"] = {**body.get("meta", {}), "tag": [{"system": "http://example.org/tags", "code": "api"}]}
        body["sender"] = {**body["sender"], "display": "Someone",
                          "reference": f"{app.config['BASE_URL'] or 'http://127.0.0.1'}/{body['sender']['reference']}"}
        body["recipient"][0]["display"] = "Someone else"
        return with_body(response, body, content_type="application/json; charset=utf-8")
    if incoming.is_create and response.status_code == 422:
        response.status_code = 400
    return response


LENIENT = Twist("relative Location with /_history/1, a JSON body on 201, Z instants with fractions, "
                "extra elements and absolute references in read-backs, 400 for business rules", after=_lenient_after)


def _reserved_before(app, incoming, memory):
    if incoming.path.startswith("/_mock"):
        outcome = {"resourceType": "OperationOutcome",
                   "issue": [{"severity": "error", "code": "not-found", "diagnostics": "no such endpoint"}]}
        return Response(json.dumps(outcome), 404, content_type=OO)
    if incoming.method == "GET" and incoming.path == "/Communication" and \
            not {"_id", "patient", "sender", "recipient"} & set(incoming.args):
        outcome = {"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "required", "diagnostics": "search needs _id, patient, sender or recipient"}]}
        return Response(json.dumps(outcome), 400, content_type=OO)
    return None


def _reserved_after(app, incoming, response, memory):
    message_id = created_id(response) if incoming.is_create else None
    if message_id:
        response.headers["Location"] = response.headers["Location"] + "/_history/3"
    return response


RESERVED = Twist("no mock controls, no search without a parameter, absolute Location with /_history/3",
                 before=_reserved_before, after=_reserved_after)
