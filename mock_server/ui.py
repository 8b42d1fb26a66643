"""The mock's web pages: the chart timeline and the patient app, behind a sign-in (UI-1 to UI-6, RECV-3).

Why real pages: the UI rules are about what a person sees in Canvas, so the suite
checks them in a browser, and the mock has to show them the way Canvas does. The
pages are plain server-rendered HTML (Jinja autoescapes every value, so markup in
a message is shown as text, never run), and every element a check reads carries a
``data-testid`` or ``data-message-id`` hook while its visible text stays what a
person reads. Times come from the mock's clock, so a frozen clock gives a stable page.

The pages follow the mock's profile (profiles.py). ``canvas-2022`` shows the mid-2022 page's
drafts: a practitioner's message is a draft with a Send button, in the patient app only after
Send. ``canvas-current`` shows what Canvas's v2 docs describe: no drafts, every message in the
patient app at once, both pages placed by ingestion date, and a patient's message to a
practitioner without ``received`` unread until marked read, which stores ``received``.

Charts hold patient data even in a mock, so every page sits behind a sign-in with
the mock's client credentials; the session is Flask's signed cookie and holds only
a flag and a CSRF token, never the secret.
"""
from __future__ import annotations

import functools
import hmac
from html.parser import HTMLParser
import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import NamedTuple
from urllib.parse import urlsplit

import humanize
from flask import (Blueprint, abort, current_app, g, redirect, render_template, request, session,
                   url_for)
from werkzeug.exceptions import HTTPException

from . import profiles
from .clock import get_clock
from .db import StoredMessage, get_db

bp = Blueprint("ui", __name__)

# UI-2: Canvas captions messages created through the API as drafted by its bot user,
# whoever the sending practitioner is.
DRAFTED_BY = "Canvas Bot"
CSRF_FIELD = "csrf_token"
# What the browser may load on these pages: our stylesheet and nothing else. A second
# guard behind autoescaping (UI-5): even markup that slipped through could not run.
# What no page can show: lone surrogates (a UTF-8 page cannot carry them) and the control characters
# FHIR strings forbid. The API refuses both since validation.py checks for them; a database written
# before that may still hold them, and each is shown as U+FFFD rather than failing the whole page.
_NOT_SHOWN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
UNKNOWN_TIME = "an unknown time"
_NEVER = datetime.max.replace(tzinfo=timezone.utc)  # where a message of unknown date sorts
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


class Card(NamedTuple):
    """One message as a page shows it: every value already phrased for a person."""

    id: str
    is_draft: bool  # UI-2: a practitioner's message is a draft until sent from the chart (canvas-2022)
    ui_sent: bool  # UI-3: pressed Send in the chart
    from_patient: bool  # UI-4
    text: str  # UI-5: the first payload element's text
    sender: str
    recipient: str
    sent_iso: str
    sent_age: str  # "4 months ago", on the mock's clock
    sent_date: str  # "Feb 10th, 2022" (UTC)
    sent_time: str  # "15:04 UTC"
    created_iso: str
    created_label: str
    ui_sent_label: str | None
    created_date: str  # "Jun 10th, 2022" (UTC): where canvas-current places and dates a message (UI-1)
    created_time: str
    unread: bool  # RECV-3: a patient's message to a practitioner with no received (canvas-current)
    received_label: str | None  # when it was read (received), on the mock's clock


@bp.record_once
def _cookie_settings(state) -> None:
    # The session cookie is the sign-in: keep it from scripts and from other sites' forms.
    state.app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    state.app.config["SESSION_COOKIE_SAMESITE"] = state.app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"


# -- sign-in and the CSRF token --------------------------------------------------------
def _csrf_token() -> str:
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def _check_csrf() -> None:
    """Refuse a form that does not carry this session's token (a page from elsewhere)."""
    expected = session.get(CSRF_FIELD, "")
    given = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        abort(400, "This form has expired or did not come from this site. Reload the page and try again.")


def _signed_in() -> bool:
    return session.get("signed_in") is True


def _local_target(raw: str | None) -> str:
    """Where to go after sign-in: a path on this site only (never another host)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return url_for("ui.index")
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return url_for("ui.index")
    return raw


def signed_in_only(view):
    """Send visitors without a session to the sign-in page, then back where they were going."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not _signed_in():
            if request.method != "GET":
                return redirect(url_for("ui.sign_in"), 303)
            return redirect(url_for("ui.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


@bp.context_processor
def _page_globals():
    return {"csrf_field": CSRF_FIELD, "csrf_token": _csrf_token, "signed_in": _signed_in(),
            "clock_state": get_clock().state(), "drafted_by": DRAFTED_BY, "current": profiles.is_current()}


@bp.after_request
def _headers(response):
    # Patient data: never cached, never framed, nothing but our stylesheet loaded.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(HTTPException)
def _error_page(err: HTTPException):
    """Errors on these pages are pages too (a person reads them), never an OperationOutcome."""
    detail = err.description if err.code in (400, 404) else None
    return render_template("error.html", code=err.code, title=err.name, detail=detail), err.code


@bp.get("/sign-in")
def sign_in():
    if _signed_in():
        return redirect(_local_target(request.args.get("next")))
    return render_template("sign_in.html", next=_local_target(request.args.get("next")),
                           client_id="", failed=False)


@bp.post("/sign-in")
def sign_in_submit():
    _check_csrf()
    target = _local_target(request.form.get("next"))
    client_id = request.form.get("client_id", "")
    client_secret = request.form.get("client_secret", "")
    id_ok = hmac.compare_digest(client_id.encode(), current_app.config["CLIENT_ID"].encode())
    secret_ok = hmac.compare_digest(client_secret.encode(), current_app.config["CLIENT_SECRET"].encode())
    if not (id_ok and secret_ok):
        # The secret is never echoed back; the client id (not a secret) is kept for a retry.
        return render_template("sign_in.html", next=target, client_id=client_id, failed=True), 401
    session.clear()  # a fresh session (and CSRF token) at sign-in
    session["signed_in"] = True
    _csrf_token()
    return redirect(target, 303)


@bp.post("/sign-out")
def sign_out():
    if _signed_in():
        _check_csrf()
    session.clear()
    return redirect(url_for("ui.sign_in"), 303)


# -- pages -------------------------------------------------------------------------------
@bp.get("/")
@signed_in_only
def index():
    db = get_db()
    rows = []
    for patient in db.list_people("Patient"):
        messages = db.messages_for_patient(patient["id"])
        drafts = sum(1 for m in messages if _is_draft(m) and m.ui_sent_at is None)
        unread = sum(1 for m in messages if _is_unread(m))
        rows.append({"patient": patient, "name": person_name(patient), "birth": _birth_date(patient),
                     "messages": len(messages), "drafts": drafts, "unread": unread})
    return render_template("index.html", rows=rows)


@bp.get("/chart/<patient_id>")
@signed_in_only
def chart(patient_id: str):
    patient = _patient_or_404(patient_id)
    now = get_clock().now()
    # UI-1: every message the patient sends or receives, in created (ingestion) order: the Store sorts.
    cards = [_card(m, now) for m in get_db().messages_for_patient(patient_id)]
    template = "chart_current.html" if profiles.is_current() else "chart.html"
    return render_template(template, banner=_banner(patient, now), cards=cards, active="chart")


@bp.post("/chart/<patient_id>/messages/<message_id>/send")
@signed_in_only
def send(patient_id: str, message_id: str):
    """UI-3: Send marks the draft sent in the chart. No SMS goes out, ``sent`` stays as stored."""
    _check_csrf()
    _patient_or_404(patient_id)
    db = get_db()
    message = db.get_communication(message_id)
    if message is None or message.patient_id != patient_id or not _is_draft(message):
        abort(404, "There is no draft with that id in this patient's chart.")
    # Already sent: pressing Send again (a second tab, a reload) changes nothing.
    db.mark_ui_sent(message_id, get_clock().now().isoformat())
    return redirect(url_for("ui.chart", patient_id=patient_id, _anchor=f"message-{message_id}"), 303)


@bp.post("/chart/<patient_id>/messages/<message_id>/read")
@signed_in_only
def mark_read(patient_id: str, message_id: str):
    """RECV-3 (canvas-current): marking a patient's unread message read stores ``received`` (now, on the
    mock's clock), which the API's read-back then carries; ``sent`` and the rest stay as stored."""
    _check_csrf()
    _patient_or_404(patient_id)
    db = get_db()
    message = db.get_communication(message_id)
    if not profiles.is_current() or message is None or message.patient_id != patient_id \
            or not _marks_read(message):
        abort(404, "There is no message to a practitioner with that id in this patient's chart.")
    # Already read (received given at create, or marked before): marking it again changes nothing.
    db.mark_received(message_id, get_clock().now().isoformat())
    return redirect(url_for("ui.chart", patient_id=patient_id, _anchor=f"message-{message_id}"), 303)


@bp.get("/patient-app/<patient_id>")
@signed_in_only
def patient_app(patient_id: str):
    patient = _patient_or_404(patient_id)
    now = get_clock().now()
    messages = get_db().messages_for_patient(patient_id)
    visible = [_card(m, now) for m in messages if _visible_in_app(m)]
    if profiles.is_current():
        # UI-1 (canvas-current): placed, and dated, by ingestion date, as the timeline is (the Store's
        # created order). UI-6: every message, a practitioner's too, with nothing to press first.
        return render_template("patient_app_current.html", banner=_banner(patient, now), cards=visible,
                               active="app")
    # Dated at ``sent`` (UI-3: the drafted time, not the moment Send was pressed), so listed by it.
    visible.sort(key=lambda c: (_readable_instant(c.sent_iso) or _NEVER, c.created_iso))
    hidden = len(messages) - len(visible)
    return render_template("patient_app.html", banner=_banner(patient, now), cards=visible,
                           hidden_drafts=hidden, active="app")


# -- what the pages show ---------------------------------------------------------------
def _is_draft(message: StoredMessage) -> bool:
    # UI-2: a message from a practitioner is a draft on the timeline. UI-4: one from the patient is not.
    # UI-6 (canvas-current): no message is a draft: no draft caption, no Send button.
    return message.sender_type == "Practitioner" and not profiles.is_current()


def _visible_in_app(message: StoredMessage) -> bool:
    # UI-4: the patient's own messages are visible at once. UI-2/UI-3: a practitioner's only after Send.
    # UI-6 (canvas-current): a practitioner's message too, at once (no drafts).
    return not _is_draft(message) or message.ui_sent_at is not None


def _marks_read(message: StoredMessage) -> bool:
    # RECV-3: the messages a practitioner reads in the chart: a patient's to a practitioner.
    return message.sender_type == "Patient" and message.recipient_type == "Practitioner"


def _is_unread(message: StoredMessage) -> bool:
    """RECV-3 (canvas-current): a patient's message to a practitioner with no ``received`` is unread."""
    resource = message.resource if isinstance(message.resource, dict) else {}
    return profiles.is_current() and _marks_read(message) and resource.get("received") is None


def _card(message: StoredMessage, now: datetime) -> Card:
    """The card for ``message``; a stored value the page cannot read is shown as unknown, never a 500."""
    resource = message.resource if isinstance(message.resource, dict) else {}
    created = _readable_instant(message.created)
    sent = _readable_instant(resource.get("sent")) or created
    ui_sent = _readable_instant(message.ui_sent_at)
    received = _readable_instant(resource.get("received"))
    text = first_payload_text(resource)
    if profiles.is_current():
        text = html_text(text)  # PAY-6/UI-5: the stored HTML's text content, shown as text
    return Card(
        id=message.id,
        is_draft=_is_draft(message),
        ui_sent=message.ui_sent_at is not None,
        from_patient=message.sender_type == "Patient",
        text=displayable(text),
        sender=displayable(_party_name(message.sender_type, message.sender_id)),
        recipient=displayable(_party_name(message.recipient_type, message.recipient_id)),
        sent_iso=sent.isoformat() if sent else "",
        sent_age=time_since(sent, now) if sent else UNKNOWN_TIME,
        sent_date=ordinal_date(sent) if sent else UNKNOWN_TIME,
        sent_time=f"{sent:%H:%M} UTC" if sent else "",
        created_iso=created.isoformat() if created else "",
        created_label=f"{ordinal_date(created)}, {created:%H:%M} UTC" if created else UNKNOWN_TIME,
        ui_sent_label=f"{ordinal_date(ui_sent)}, {ui_sent:%H:%M} UTC" if ui_sent else
        (UNKNOWN_TIME if message.ui_sent_at is not None else None),
        created_date=ordinal_date(created) if created else UNKNOWN_TIME,
        created_time=f"{created:%H:%M} UTC" if created else "",
        unread=_is_unread(message),
        received_label=f"{ordinal_date(received)}, {received:%H:%M} UTC" if received else
        (UNKNOWN_TIME if resource.get("received") is not None else None),
    )


def displayable(text: str) -> str:
    """``text`` with every character no page can show replaced by U+FFFD."""
    return _NOT_SHOWN.sub("\ufffd", text) if isinstance(text, str) else ""


def first_payload_text(resource: dict) -> str:
    """UI-5: the message is the first payload element's text (stored as contentString, PAY-4)."""
    payload = resource.get("payload") or [{}]
    first = payload[0] if isinstance(payload, list) and isinstance(payload[0], dict) else {}
    text = first.get("contentString", first.get("content", ""))
    return text if isinstance(text, str) else ""


class _TextContent(HTMLParser):
    """The text a browser shows for an HTML fragment: entities decoded, ``<br>`` and the end of a
    block as a line break, the content of script and style elements dropped, every tag removed."""

    BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                        "pre", "tr", "table", "section", "article", "header", "footer"})
    HIDDEN = frozenset({"script", "style", "template", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def html_text(fragment: str) -> str:
    """PAY-6/UI-5 (canvas-current): the text content of stored HTML (``<p>`` + escaped text, newlines as
    ``<br>``, + ``</p>`` on the mock), so a page shows exactly the text that was sent. The result is
    plain text the template escapes again: stored markup is never written into a page as markup."""
    parser = _TextContent()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts).strip("\n")


def time_since(instant: datetime, now: datetime) -> str:
    """ "4 months ago", phrased by humanize (its thresholds, not ours) on the mock's clock (UI-2).

    As ``humanize.naturaltime(now - instant)`` words it, without the step where humanize takes the
    difference from its own "now" again, which fails for differences of more than about 2,000 years
    (a message sent in year 1, read on a clock set to 2200).
    """
    delta = now - instant
    text = humanize.naturaldelta(abs(delta))
    if text == "a moment":
        return "now"
    return f"{text} from now" if delta < timedelta(0) else f"{text} ago"


def ordinal_date(instant: datetime) -> str:
    """ "Feb 10th, 2022": the date in UTC with an ordinal day, as in Canvas's caption (UI-2)."""
    utc = instant.astimezone(timezone.utc)
    return f"{utc:%b} {humanize.ordinal(utc.day)}, {utc.year}"


def person_name(person: dict | None) -> str:
    names = (person or {}).get("name") or []
    for name in names:
        if name.get("text"):
            return name["text"]
        parts = [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
        if any(parts):
            return " ".join(p for p in parts if p)
    return ""


def _party_name(kind: str, ident: str) -> str:
    cache = g.setdefault("ui_people", {})
    if (kind, ident) not in cache:
        cache[(kind, ident)] = person_name(get_db().get_person(kind, ident)) or f"{kind}/{ident}"
    return cache[(kind, ident)]


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _readable_instant(value) -> datetime | None:
    """A stored instant in UTC, or None when there is none or it cannot be read as one."""
    if not isinstance(value, str):
        return None
    try:
        return _instant(value).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _patient_or_404(patient_id: str) -> dict:
    patient = get_db().get_person("Patient", patient_id)
    if patient is None:
        abort(404, "No patient with that id exists on this server.")
    return patient


def _birth_date(patient: dict) -> str | None:
    try:
        born = datetime.fromisoformat(patient.get("birthDate", "")).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None
    return ordinal_date(born)


def _banner(patient: dict, now: datetime) -> dict:
    """The patient banner: name, birth date with age on the mock's clock, sex."""
    age = None
    try:
        born = datetime.fromisoformat(patient.get("birthDate", "")).date()
        today = now.date()
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    except (TypeError, ValueError):
        pass
    return {"name": person_name(patient) or f"Patient/{patient['id']}", "birth": _birth_date(patient),
            "age": age, "gender": (patient.get("gender") or "").capitalize() or None, "id": patient["id"]}
