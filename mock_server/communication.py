"""The Communication endpoints: create, read, search; update and delete are refused."""
from __future__ import annotations

import uuid
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, current_app, request

from .auth import require_token
from .clock import get_clock
from .db import get_db
from .messages import new_message
from .outcome import Answer, FhirError, Issue, fhir_json, fhir_json_response, json_string
from .profiles import is_current
from .search import parse_query
from .validation import ingest, parse_body

bp = Blueprint("communication", __name__)

_URL_ROOTS_KEPT = 64


def base_url() -> str:
    """The server's base, for Location headers and Bundle links."""
    root = known_base(current_app, request.environ)
    if root is None:
        known = current_app.extensions["mock_url_roots"]
        root = request.url_root.rstrip("/")
        if len(known) >= _URL_ROOTS_KEPT:
            known.clear()
        known[_url_root_key(request.environ)] = root
    return root


def known_base(app, environ) -> str | None:
    """The base for this request without Werkzeug's work: the configured BASE_URL, else the root this
    app has already worked out for the request's scheme, host and script root; None when it has not
    (fastpath.py answers only when this is known; ``base_url`` works it out and remembers it)."""
    configured = app.config.get("BASE_URL")
    if configured:
        return configured.rstrip("/")
    return app.extensions.setdefault("mock_url_roots", {}).get(_url_root_key(environ))


# Werkzeug's url_root (host validation, IRI-to-URI quoting) depends only on these environ values (and
# TRUSTED_HOSTS, an app setting), so each app works it out once per combination and remembers a
# bounded number of them (a client may send any Host header).
def _url_root_key(environ) -> tuple:
    return (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"), environ.get("SCRIPT_NAME"))


@bp.post("/Communication")
@require_token  # FHIR-3
def create():
    return create_answer(get_db(), get_clock(), current_app.config, request.content_type,
                         request.get_data(cache=False), base_url()).response()


def create_answer(store, clock, config, content_type: str | None, raw: bytes, base: str) -> Answer:
    """A create once its token has passed: the body checked, the message stored, the 201 to send.

    Given what it needs rather than reading Flask's globals, so Flask's view and fastpath.py run it alike.
    """
    current = is_current(config)
    document = parse_body(content_type, raw, max_depth=config["MAX_JSON_DEPTH"])  # FHIR-1, FHIR-8
    message = ingest(document, person_exists=store.person_exists, current=current)
    # ID-2: the server's own id (v2's are hyphenated UUIDs, as Canvas's examples show).
    message_id = str(uuid.uuid4()) if current else uuid.uuid4().hex
    stored = new_message(message, now=clock.now(), message_id=message_id, current=current)
    store.insert_communication(stored.resource, created=stored.created, patient_id=stored.patient_id)
    # ID-1: 201 with Location naming the new resource, answered after the commit.
    location = f"{base}/Communication/{stored.resource['id']}"
    if current:
        # ID-1 (v2): the Location names version 1. ID-3: the body is JSON null, the id only in Location.
        return Answer(201, "null", (("Location", f"{location}/_history/1"),), "application/json")
    return Answer(201, None, (("Location", location),))


@bp.get("/Communication/<message_id>")
@require_token
def read(message_id: str):
    return read_answer(get_db(), message_id).response()


def read_answer(store, message_id: str) -> Answer:
    stored = store.communication_json(message_id)
    if stored is None:  # FHIR-6
        raise FhirError(404, Issue("not-found", "FHIR-6", f"Communication/{message_id} does not exist",
                                   "Communication.id"))
    return Answer(200, stored)


def read_version(message_id: str, version: str):
    """GET what a v2 Location names, ``/Communication/<id>/_history/<version>`` (ID-3): version 1 as created,
    and version 2 once a practitioner marked it read (RECV-3), each as it was."""
    stored = get_db().communication_version_json(message_id, version)
    if stored is None:  # FHIR-6
        raise FhirError(404, Issue("not-found", "FHIR-6", f"Communication/{message_id}/_history/{version} does not exist",
                                   "Communication.id"))
    return fhir_json_response(stored)


@bp.record_once
def _v2_routes(state) -> None:
    """Routes only canvas-current has (canvas-2022's v1 Location names no version)."""
    if is_current(state.app.config):
        state.add_url_rule("/Communication/<message_id>/_history/<version>", "read_version",
                           require_token(read_version), methods=["GET"])


@bp.route("/Communication/<message_id>", methods=["PUT", "PATCH", "DELETE"])
@bp.route("/Communication", methods=["PUT", "PATCH", "DELETE"])
def refuse_change(message_id: str | None = None):
    # FHIR-6: messages cannot be updated or deleted through the API.
    allow = "GET" if message_id else "GET, POST"
    raise FhirError(405, Issue("not-supported", "FHIR-6",
                               f"{request.method} is not supported on Communication; messages cannot be changed or deleted"),
                    headers={"Allow": allow})


@bp.get("/Communication")
@require_token
def search():
    return search_answer(get_db(), current_app.config, request.args, base_url()).response()


def search_answer(store, config, args, base: str) -> Answer:
    """FHIR-7: searchset Bundle with total, _count/_offset paging and self/first/next/last links."""
    query = parse_query(args)
    count, offset = query.count, query.offset
    total, messages = store.search_communication_json(query.filters, count=count, offset=offset)
    if is_current(config):
        return _v2_searchset(query, total, messages, urlsplit(base).path)
    # What urlencode([*kept, ("_count", count), ("_offset", at)]) gives, with the filters encoded once.
    filters = urlencode(query.kept)
    prefix = f"{base}/Communication?{filters}&" if filters else f"{base}/Communication?"

    def page(at: int) -> str:
        return f"{prefix}_count={count}&_offset={at}"

    links = [("self", page(offset)), ("first", page(0))]
    if count and offset > 0:
        links.append(("previous", page(max(offset - count, 0))))
    if count and offset + count < total:
        links.append(("next", page(offset + count)))
    last = ((total - 1) // count) * count if count and total else 0
    links.append(("last", page(last)))
    head = fhir_json({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": rel, "url": url} for rel, url in links],
    })
    # Each entry is {"fullUrl": ..., "resource": <the stored text as it is>, "search": {"mode": "match"}},
    # and "entry" comes last: the bytes fhir_json gives for the whole Bundle with decoded resources.
    entries = ",".join(f'{{"fullUrl":{json_string(f"{base}/Communication/{message_id}")},"resource":{text},'
                       '"search":{"mode":"match"}}' for message_id, text in messages)
    return Answer(200, f'{head[:-1]},"entry":[{entries}]}}')


def _v2_searchset(query, total: int, messages, root: str) -> Answer:
    """FHIR-7 as Canvas's v2 answers a search (canvas-current): links relative to the server's root
    (``/Communication?...&_count=10&_offset=0``, as its docs show), self, first, next (but on the last
    page) and last, and no links at all for an empty result; entries with the resource alone (no
    ``fullUrl``, no ``search``); no ``entry`` when the page is empty (FHIR allows no empty arrays)."""
    count, offset = query.count, query.offset
    bundle: dict = {"resourceType": "Bundle", "type": "searchset", "total": total}
    if total:
        def page(at: int) -> str:
            return f"{root}/Communication?" + urlencode([*query.kept, ("_count", count), ("_offset", at)])

        links = [("self", page(offset)), ("first", page(0))]
        if count and offset + count < total:
            links.append(("next", page(offset + count)))
        links.append(("last", page(((total - 1) // count) * count if count else 0)))
        bundle["link"] = [{"relation": rel, "url": url} for rel, url in links]
    head = fhir_json(bundle)
    if not messages:
        return Answer(200, head)
    # each entry {"resource": <the stored text as it is>}, "entry" last, as fhir_json gives it decoded
    entries = ",".join(f'{{"resource":{text}}}' for _, text in messages)
    return Answer(200, f'{head[:-1]},"entry":[{entries}]}}')
