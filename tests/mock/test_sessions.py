"""Cookie-less requests skip the session machinery; everything a browser sees stays as with Flask's own.

mock_server/sessions.py shortcuts Flask's signed-cookie sessions for requests without a cookie.
These tests walk the chart's sign-in flow and an API create under both interfaces and compare
what a client sees: statuses, where redirects go, which cookies are set or cleared, ``Vary``.
"""
from __future__ import annotations

import re

from flask.sessions import SecureCookieSessionInterface

from mock_server import create_app
from mock_server.sessions import CookieOnlyWhenSent

from ..mock_helpers import grant_form

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _walk(app, fixture_data) -> list[tuple]:
    """A browser's and an API client's requests; what each answer says about cookies."""
    client = app.test_client()
    seen = []

    def note(answer):
        cookies = sorted(h.split("=", 1)[0] + (" (cleared)" if "Expires=Thu, 01 Jan 1970" in h else "")
                         for h in answer.headers.getlist("Set-Cookie"))
        location = re.sub(r"[0-9a-f]{32}$", "<id>", answer.headers.get("Location") or "")
        seen.append((answer.status_code, location, cookies, answer.headers.get("Vary")))
        return answer

    token = note(client.post("/auth/token/", data=grant_form(app.config))).json["access_token"]
    api = app.test_client(use_cookies=False)
    body = fixture_data["communications"]["minimal"]
    note(api.post("/Communication", json=body, headers={"Authorization": f"Bearer {token}"}))
    note(api.get("/Communication", headers={"Authorization": f"Bearer {token}"}))
    note(client.get("/"))  # not signed in: to the sign-in page
    page = note(client.get("/sign-in"))
    csrf = CSRF.search(page.get_data(as_text=True)).group(1)
    note(client.post("/sign-in", data={"csrf_token": "forged", "client_id": "x", "client_secret": "y"}))
    note(client.post("/sign-in", data={"csrf_token": csrf, "client_id": app.config["CLIENT_ID"],
                                       "client_secret": app.config["CLIENT_SECRET"]}))
    note(client.get("/"))  # signed in now
    chart = note(client.get("/"))
    csrf = CSRF.search(chart.get_data(as_text=True))
    note(client.post("/sign-out", data={"csrf_token": csrf.group(1) if csrf else ""}))
    note(client.get("/"))  # signed out again
    return seen


def test_the_mock_uses_the_shortcut():
    assert isinstance(create_app({"DATABASE": ":memory:"}).session_interface, CookieOnlyWhenSent)


def test_browser_and_api_see_the_same_as_with_flasks_own_sessions(fixture_data):
    ours = create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test"})
    stock = create_app({"DATABASE": ":memory:", "BASE_URL": "http://mock.test"})
    stock.session_interface = SecureCookieSessionInterface()
    seen = _walk(ours, fixture_data)
    assert seen == _walk(stock, fixture_data)
    api_create = seen[1]
    assert api_create[0] == 201 and api_create[2] == [] and api_create[3] is None  # no cookie, no Vary
    assert any(cookies for _, _, cookies, _ in seen)  # the walk did sign in with a cookie
