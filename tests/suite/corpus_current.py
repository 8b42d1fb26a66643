"""The mutation corpus of the canvas-current profile: breakages of its new API rules (STAT-1, STAT-2,
SUBJ-1, PAY-5, PAY-6, ID-3, FHIR-9, FHIR-10) and the variants a Canvas v2 server may show, each a
``Twist`` around the canvas-current mock (its config carries ``PROFILE``), judged with that profile.

Like corpus.py's: every breakage is one realistic bug one step off what the fixed rows send (a
status kept only when it is ``preparation``, a subject taken from the body only when it names a
Patient, ``&`` escaped twice, a correlation id missing on the token endpoint only...); each must be
failed by its rule and by no other rule of the profile. Breakages that only an explored scenario
meets say so in their description ("explored:"). ``CURRENT_VARIANTS`` are answers the profile allows
where v2 leaves a point open; each must pass every API rule of the profile.
``CURRENT_MISBEHAVIOURS`` is the fast part (test_misbehaving's per-rule run), one per new rule.

Kept apart from corpus.py so its entries merge without touching that file; the tests import both.
"""
from __future__ import annotations

import html
import json
import re

from werkzeug.wrappers import Response

from canvas_conformance import catalogue

from .corpus import Breakage, refused_but_stored
from .twists import ALL, OO, Twist, body_of, on_create, with_body

CURRENT = "canvas-current"
CONFIG = {"PROFILE": CURRENT}
_CREATED = re.compile(r"/Communication/(?P<id>[^/]+)(?:/_history/[^/]+)?$")
_READ = re.compile(r"^/Communication/(?P<id>[^/]+)(?:/_history/[^/]+)?$")


def profile_of(twist: Twist) -> str:
    """The profile a twist is judged with: the one its mock behaves as."""
    return twist.config.get("PROFILE", catalogue.DEFAULT_PROFILE)


def current(name: str, before=None, after=None) -> Twist:
    return Twist(name, before, after, CONFIG)


def _b(rule: str, name: str, description: str, made, **more) -> Breakage:
    before, after = made if isinstance(made, tuple) else (made, None)
    return Breakage(rule, name, description, current(name, before, after), **more)


# -- helpers for v2 answers (Location with /_history/1, reads with or without it) ---------------------
def created(response) -> str | None:
    match = _CREATED.search(response.headers.get("Location", "")) if response.status_code == 201 else None
    return match["id"] if match else None


def read_id(incoming) -> str | None:
    match = _READ.match(incoming.path) if incoming.method == "GET" else None
    return match["id"] if match else None


def remember_and_change(matches, change):
    """Read-backs of the messages whose create ``matches(message)`` are changed by ``change(body, message)``
    (as corpus.read_back_of, for v2 Locations)."""
    def before(app, incoming, memory):
        if incoming.message is not None:
            memory["pending"] = json.loads(json.dumps(incoming.message)) if matches(incoming.message) else None
        return None

    def after(app, incoming, response, memory):
        if incoming.is_create and created(response) and memory.get("pending") is not None:
            memory.setdefault("ids", {})[created(response)] = memory.pop("pending")
        elif read_id(incoming) in memory.get("ids", {}) and response.status_code == 200:
            body = body_of(response)
            change(body, memory["ids"][read_id(incoming)])
            return with_body(response, body)
        return response

    return before, after


def _kind(party) -> str:
    return str((party or {}).get("reference", "")).split("/")[0] if isinstance(party, dict) else ""


def _first_text(message) -> str:
    payload = message.get("payload") if isinstance(message.get("payload"), list) else []
    element = payload[0] if payload and isinstance(payload[0], dict) else {}
    value = element.get("contentString")
    return value if isinstance(value, str) else ""


def _html(text: str) -> str:
    """The canvas-current mock's HTML for a text (PAY-6's mock choice), to build variants of it."""
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>") + "</p>"


def _outcome(status: int, code: str, text: str) -> Response:
    body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "details": {"text": text}}]}
    return Response(json.dumps(body), status, content_type=OO)


def _is_error(incoming, response) -> bool:
    return response.status_code >= 400


# -- STAT-1 -----------------------------------------------------------------------------------------
def _status_defaulted(condition):
    def change(app, message):
        if condition(message):
            message["status"] = "unknown"
    return on_create(change)


# -- STAT-2 -----------------------------------------------------------------------------------------
def _status_kept(condition):
    """Read-backs carry the status as sent when ``condition(sent status, message)``."""
    return remember_and_change(lambda m: condition(m.get("status"), m),
                               lambda body, m: body.update(status=m["status"]))


def _case_folded(app, incoming, memory):
    """Status codes looked up case-insensitively, and the forcing to completed compares the code as sent."""
    message = incoming.message
    if message is not None and isinstance(message.get("status"), str) and message["status"] != message["status"].lower():
        memory["folded"] = message["status"].lower()
        message["status"] = message["status"].lower()
    else:
        memory.pop("folded", None)
    return None


def _case_folded_after(app, incoming, response, memory):
    if incoming.is_create and created(response) and memory.get("folded") == "unknown":
        memory.setdefault("kept", set()).add(created(response))
    elif read_id(incoming) in memory.get("kept", set()) and response.status_code == 200:
        body = body_of(response)
        body["status"] = "unknown"
        return with_body(response, body)
    return response


# -- SUBJ-1 -----------------------------------------------------------------------------------------
def _subject_of(choose):
    """Read-backs whose subject is ``choose(message)`` (a reference, or None to drop it)."""
    def change(body, message):
        chosen = choose(message)
        if chosen is None:
            body.pop("subject", None)
        else:
            body["subject"] = chosen
    return remember_and_change(lambda m: True, change)


def _from_body_if(condition):
    return _subject_of(lambda m: m["subject"] if condition(m.get("subject")) else
                       {"reference": _patient_party(m), "type": "Patient"})


def _patient_party(message) -> str:
    parties = [message.get("sender"), *(message.get("recipient") or [])]
    return next((p["reference"] for p in parties if _kind(p) == "Patient"), "")


def _recipient_patient_only(message):
    recipients = message.get("recipient") or []
    first_recipient = recipients[0] if recipients and isinstance(recipients[0], dict) else {}
    return {"reference": first_recipient["reference"], "type": "Patient"} if _kind(first_recipient) == "Patient" else None


# -- PAY-5 ------------------------------------------------------------------------------------------
def _content_taken_if(condition):
    """A v1-compatible reader: an element's ``content`` taken as its text when ``condition(payload, message)``."""
    def change(app, message):
        payload = message.get("payload")
        if isinstance(payload, list) and payload and isinstance(payload[0], dict) and "content" in payload[0] \
                and not payload[0].get("contentString") and condition(payload, message):
            element = {k: v for k, v in payload[0].items() if k not in ("content", "contentString")}
            message["payload"] = [{**element, "contentString": payload[0]["content"]}, *payload[1:]]
    return on_create(change)


def _only_content(payload) -> bool:
    return "contentString" not in payload[0]


# -- PAY-6 ------------------------------------------------------------------------------------------
def _stored_html(change):
    """Read-backs whose first payload text (the mock's HTML) is ``change(html, message)``."""
    def update(body, message):
        payload = body.get("payload") or []
        if payload and isinstance(payload[0].get("contentString"), str):
            payload[0]["contentString"] = change(payload[0]["contentString"], message)
    return remember_and_change(lambda m: True, update)


def _sent_text_changed(change):
    """The text turned by ``change`` before it is stored (a server's own conversion of what came in)."""
    def before(app, message):
        payload = message.get("payload")
        if isinstance(payload, list) and payload and isinstance(payload[0], dict) and \
                isinstance(payload[0].get("contentString"), str):
            payload[0]["contentString"] = change(payload[0]["contentString"])
    return on_create(before)


# -- ID-3 -------------------------------------------------------------------------------------------
def _created_body(condition, body_for):
    def after(app, incoming, response, memory):
        message_id = created(response) if incoming.is_create else None
        if message_id and condition(incoming):
            stored = app.extensions["mock_store"].get_communication(message_id).resource
            response.set_data(json.dumps(body_for(stored)))
            response.headers["Content-Type"] = OO
        return response
    return after


# -- FHIR-9 -----------------------------------------------------------------------------------------
def _without_correlation(condition, value=None):
    def after(app, incoming, response, memory):
        if condition(incoming, response):
            if value is None:
                response.headers.pop("fumage-correlation-id", None)
            else:
                response.headers["fumage-correlation-id"] = value
        return response
    return after


# -- FHIR-10 ----------------------------------------------------------------------------------------
def _codes(condition, code):
    def after(app, incoming, response, memory):
        body = body_of(response)
        if condition(incoming, response) and isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
            for issue in body.get("issue") or []:
                issue["code"] = code
            return with_body(response, body)
        return response
    return after


def _status_is(*statuses):
    return lambda incoming, response: response.status_code in statuses


def _made_up_token(incoming, response) -> bool:
    return response.status_code == 401 and bool(incoming.headers.get("Authorization"))


def _patch(incoming, response) -> bool:
    return incoming.method == "PATCH" and response.status_code == 405


def _bad_json(incoming, response) -> bool:
    return incoming.is_create and response.status_code == 400 and not incoming.json_ok


def _stored_before_refusing(app, incoming, memory):
    """A create whose first element gives only ``content`` is stored (its content as the text) before the
    mock refuses it (PAY-5)."""
    message = incoming.message
    payload = message.get("payload") if message is not None else None
    if isinstance(payload, list) and payload and isinstance(payload[0], dict) and "content" in payload[0] \
            and "contentString" not in payload[0]:
        copy = {**message, "payload": [{"contentString": payload[0]["content"]}]}
        app.test_client().post("/Communication", json=copy,
                               headers={"Authorization": incoming.headers.get("Authorization", ""), "Content-Type": OO})
    return None


CURRENT_BREAKAGES: list[Breakage] = [
    # STAT-1
    _b("STAT-1", "null status defaulted", "explored: takes status null as left out and defaults it to unknown",
       _status_defaulted(lambda m: "status" in m and m["status"] is None)),
    _b("STAT-1", "patients' messages default their status", "requires status on practitioners' messages but "
       "defaults it for a patient's (the patient app never sends one)",
       _status_defaulted(lambda m: "status" not in m and _kind(m.get("sender")) == "Patient")),
    _b("STAT-1", "refused but stored (status)", "validates status after the insert: answers 400 but the message "
       "is stored", refused_but_stored("status", lambda app: "unknown")),
    _b("STAT-1", "empty status defaulted", "takes an empty status as left out and defaults it",
       _status_defaulted(lambda m: m.get("status") == "")),
    # STAT-2
    _b("STAT-2", "preparation kept", "explored: keeps preparation as sent (a draft stays a draft); forces the "
       "other codes to completed", _status_kept(lambda status, m: status == "preparation")),
    _b("STAT-2", "in-progress kept", "explored: keeps in-progress as sent (a scheduled message)",
       _status_kept(lambda status, m: status == "in-progress")),
    _b("STAT-2", "patients' statuses kept", "forces completed on practitioners' messages only",
       _status_kept(lambda status, m: _kind(m.get("sender")) == "Patient")),
    _b("STAT-2", "unknown kept when sent in another case", "explored: looks codes up case-insensitively but "
       "forces completed only when unknown was sent in lower case", (_case_folded, _case_folded_after)),
    # SUBJ-1
    _b("SUBJ-1", "subject is the sender", "sets subject to the sender, a practitioner too",
       _subject_of(lambda m: {"reference": m["sender"]["reference"], "type": _kind(m["sender"])})),
    _b("SUBJ-1", "subject taken from the body", "keeps a subject given in the body instead of the patient",
       _from_body_if(lambda s: isinstance(s, dict))),
    _b("SUBJ-1", "a Patient subject from the body", "keeps a subject from the body when it names a Patient "
       "(any patient)", _from_body_if(lambda s: isinstance(s, dict) and _kind(s) == "Patient")),
    _b("SUBJ-1", "subject only for patient recipients", "sets subject to the recipient when it is a Patient, "
       "none on a patient's own messages", _subject_of(_recipient_patient_only)),
    # PAY-5
    _b("PAY-5", "null contentString falls back to content", "explored: reads contentString or, when it is "
       "null, content", _content_taken_if(lambda p, m: "contentString" in p[0])),
    _b("PAY-5", "content accepted beside later contentString", "explored: validates that some element has "
       "contentString, then reads the first element's content",
       _content_taken_if(lambda p, m: any(isinstance(e, dict) and e.get("contentString") for e in p[1:]))),
    _b("PAY-5", "content accepted from patients", "keeps v1's content for patients' messages (the patient app's "
       "old client)", _content_taken_if(lambda p, m: _only_content(p) and _kind(m.get("sender")) == "Patient")),
    _b("PAY-5", "refused but stored (content)", "refuses content after the insert: answers 400 but stores the "
       "message", _stored_before_refusing),
    # PAY-6
    _b("PAY-6", "ampersand escaped twice", "escapes & twice: Tom & Jerry is stored as Tom &amp;amp; Jerry",
       _stored_html(lambda h, m: h.replace("&amp;", "&amp;amp;")),
       touches=frozenset({"PAY-2"})),  # PAY-2's explored texts carry & too: its scenario stops as error
    _b("PAY-6", "trailing newline dropped", "explored: strips the line break at the end of a text",
       _stored_html(lambda h, m: re.sub(r"(<br>)+</p>$", "</p>", h))),
    _b("PAY-6", "entities decoded before storing", "explored: decodes entities written in the text (&amp; "
       "becomes &) before escaping it", _sent_text_changed(html.unescape)),
    _b("PAY-6", "markup kept as markup", "explored: escapes & but keeps < and > as they are (sent markup "
       "becomes markup)", _stored_html(lambda h, m: h.replace("&lt;", "<").replace("&gt;", ">")),
       touches=frozenset({"PAY-2"})),  # as above, for PAY-2's "<b>not markup</b>"
    _b("PAY-6", "CR LF as two line breaks", "explored: turns CR and LF each into <br>",
       _sent_text_changed(lambda t: t.replace("\r\n", "\n\n"))),
    # ID-3
    _b("ID-3", "201 with the resource", "answers 201 with the created resource (FHIR's return=representation)",
       (None, _created_body(lambda i: True, lambda stored: stored))),
    _b("ID-3", "resource for application/json", "explored: answers the resource when the request is sent as "
       "application/json, null for application/fhir+json",
       (None, _created_body(lambda i: i.headers.get("Content-Type", "").lower().startswith("application/json"),
                            lambda stored: stored))),
    _b("ID-3", "an OperationOutcome for patients' messages", "answers a patient's create with an informational "
       "OperationOutcome",
       (None, _created_body(lambda i: _kind((i.message or {}).get("sender")) == "Patient",
                            lambda stored: {"resourceType": "OperationOutcome", "issue": [
                                {"severity": "information", "code": "informational",
                                 "details": {"text": "created"}}]}))),
    _b("ID-3", "an empty object", "answers 201 with {}", (None, _created_body(lambda i: True, lambda stored: {}))),
    # FHIR-9
    _b("FHIR-9", "no correlation id on errors", "adds the header in the success path only",
       (None, _without_correlation(_is_error))),
    _b("FHIR-9", "no correlation id on the token endpoint", "the token endpoint is served by another app "
       "without the header", (None, _without_correlation(lambda i, r: i.path.startswith("/auth/token")))),
    _b("FHIR-9", "no correlation id on 404", "the framework's not-found handler bypasses the middleware",
       (None, _without_correlation(_status_is(404)))),
    _b("FHIR-9", "empty correlation id on searches", "the search path sends the header with no value",
       (None, _without_correlation(lambda i, r: i.method == "GET" and i.path == "/Communication", value=""))),
    # FHIR-10
    _b("FHIR-10", "422 with invalid", "answers business rules with code invalid", (None, _codes(_status_is(422), "invalid"))),
    _b("FHIR-10", "404 with processing", "answers an unknown id with code processing",
       (None, _codes(_status_is(404), "processing"))),
    _b("FHIR-10", "401 invalid for a made-up token", "answers a token it never issued with code invalid (no "
       "token at all gets unknown)", (None, _codes(_made_up_token, "invalid"))),
    _b("FHIR-10", "405 invalid for PATCH", "explored: answers PATCH with 405 and code invalid",
       (None, _codes(_patch, "invalid"))),
    _b("FHIR-10", "400 exception for a body that is not JSON", "maps the JSON parser's error to code exception",
       (None, _codes(_bad_json, "exception"))),
]


# -- variants a v2 server may show ------------------------------------------------------------------
def _read_backs(change):
    def after(app, incoming, response, memory):
        if read_id(incoming) and response.status_code == 200:
            body = body_of(response)
            change(body)
            return with_body(response, body)
        return response
    return after


def _plain_text(body):
    for element in body.get("payload") or []:
        if isinstance(element.get("contentString"), str):
            element["contentString"] = _plain(element["contentString"])


def _plain(markup: str) -> str:
    from canvas_conformance.checks import html_text_content
    return html_text_content(markup)


def _div_html(body):
    for element in body.get("payload") or []:
        if isinstance(element.get("contentString"), str):
            text = _plain(element["contentString"])
            lines = [html.escape(line, quote=True) for line in text.split("\n")]
            element["contentString"] = "<div>" + "<br/>\n".join(lines) + "</div>\n"


def _signed(body):
    for element in body.get("payload") or []:
        if isinstance(element.get("contentString"), str):
            element["contentString"] = element["contentString"].replace("</p>", "<br>-- sent via Canvas</p>")


def _empty_201(app, incoming, response, memory):
    if incoming.is_create and created(response):
        response.set_data(b"")
        response.headers.pop("Content-Type", None)
    return response


def _relative_location(app, incoming, response, memory):
    message_id = created(response) if incoming.is_create else None
    if message_id:
        response.headers["Location"] = f"Communication/{message_id}/_history/1"
    return response


def _refuse_if(condition, status: int, code: str, text: str):
    def before(app, incoming, memory):
        if incoming.message is not None and condition(incoming.message):
            return _outcome(status, code, text)
        return None
    return before


def _two_recipients(m) -> bool:
    return isinstance(m.get("recipient"), list) and len(m["recipient"]) > 1


def _two_payloads(m) -> bool:
    return isinstance(m.get("payload"), list) and len(m["payload"]) > 1 and _first_text(m).strip() != ""


def _absolute_links(app, incoming, response, memory):
    body = body_of(response)
    if incoming.method == "GET" and incoming.path == "/Communication" and isinstance(body, dict) \
            and body.get("resourceType") == "Bundle":
        base = f"http://{incoming.headers.get('Host', 'localhost')}"
        for link in body.get("link") or []:
            if link["url"].startswith("/"):
                link["url"] = base + link["url"]
        for entry in body.get("entry") or []:
            entry["fullUrl"] = f"{base}/Communication/{entry['resource']['id']}"
            entry["search"] = {"mode": "match"}
        return with_body(response, body)
    return response


def _sent_at_creation(app, message):
    if "received" in message and "sent" not in message:
        from datetime import datetime, timezone
        message["sent"] = datetime.now(timezone.utc).isoformat()


CURRENT_VARIANTS: list[Twist] = [
    current("text read back as sent, not as HTML", after=_read_backs(_plain_text)),
    current("text as <div> HTML with <br/> and quotes as entities", after=_read_backs(_div_html)),
    current("an empty body on 201", after=_empty_201),
    current("relative Location with /_history/1", after=_relative_location),
    current("a subject in the body refused with 400",
            before=_refuse_if(lambda m: "subject" in m, 400, "invalid", "subject cannot be set on create")),
    current("a second recipient refused with 422",
            before=_refuse_if(_two_recipients, 422, "business-rule", "a single recipient")),
    current("further payload elements refused with 422",
            before=_refuse_if(_two_payloads, 422, "business-rule", "a single payload element")),
    current("only status unknown accepted (the migration guide's reading)",
            before=_refuse_if(lambda m: isinstance(m.get("status"), str) and m["status"] not in ("unknown",),
                              422, "business-rule", "status must be unknown")),
    current("absolute Bundle links, entries with fullUrl and search.mode", after=_absolute_links),
    current("sent defaults to the creation time when only received is given", before=on_create(_sent_at_creation)),
]


# -- the fast part: one misbehaving target per new rule, run with -m RULE (test_misbehaving.py) -------
CURRENT_MISBEHAVIOURS: dict[str, list[tuple[Twist, object, dict]]] = {
    "STAT-1": [(current("defaults a missing status", before=_status_defaulted(lambda m: "status" not in m)),
                {"status: absent"}, {})],
    "STAT-2": [(current("keeps the status as sent", *_status_kept(lambda status, m: True)), ALL, {})],
    "SUBJ-1": [(current("reads back no subject", after=_read_backs(lambda body: body.pop("subject", None))),
                ALL, {})],
    "PAY-5": [(current("takes content as the text", before=_content_taken_if(lambda p, m: True)), ALL, {})],
    "PAY-6": [(current("appends a signature line to every text", after=_read_backs(_signed)), ALL, {})],
    "ID-3": [(current("answers 201 with the resource", after=_created_body(lambda i: True, lambda stored: stored)),
              ALL, {})],
    "FHIR-9": [(current("sends no correlation id", after=_without_correlation(lambda i, r: True)), ALL, {})],
    "FHIR-10": [(current("answers every error with code exception", after=_codes(_is_error, "exception")), ALL, {})],
}
