"""The sign-in in front of the mock's pages, its session cookie, and the CSRF token on every form."""
from __future__ import annotations

import pytest


@pytest.fixture
def pages(patient_id):
    return ["/", f"/chart/{patient_id}", f"/patient-app/{patient_id}"]


def test_every_page_sends_a_visitor_without_a_session_to_sign_in(client, pages):
    for path in pages:
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"] == f"/sign-in?next={path}"


def test_sign_in_page_is_a_form_for_the_client_credentials(client, read_page):
    answer = client.get("/sign-in")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/html")
    form = read_page(answer.get_data(as_text=True)).one("sign-in-form")
    assert form.attrs["method"] == "post"
    assert form.one("client-secret").attrs["type"] == "password"


def test_the_right_credentials_lead_back_to_the_page_asked_for(client, app, sign_in, patient_id, read_page):
    answer = sign_in(client, app, next_path=f"/chart/{patient_id}")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/chart/{patient_id}"
    page = read_page(client.get(f"/chart/{patient_id}").get_data(as_text=True))
    assert page.one("patient-name").text == "Amara Lindqvist"


@pytest.mark.parametrize("target", ["//evil.example/chart", "https://evil.example/", "/\\evil.example", "chart"])
def test_sign_in_never_leads_off_site(client, app, sign_in, target):
    answer = sign_in(client, app, next_path=target)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"


def test_a_wrong_secret_is_refused_and_never_echoed(client, app, sign_in, read_page):
    wrong = app.config["CLIENT_SECRET"] + "-not-it"
    answer = sign_in(client, app, secret=wrong)
    assert answer.status_code == 401
    html = answer.get_data(as_text=True)
    assert wrong not in html and app.config["CLIENT_SECRET"] not in html
    assert read_page(html).one("sign-in-error").text.startswith("That client id and secret do not match")
    assert client.get("/").status_code == 302  # still signed out


def test_the_session_cookie_holds_a_flag_and_a_csrf_token_never_the_secret(client, app, sign_in):
    sign_in(client, app)
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert app.config["CLIENT_SECRET"] not in cookie.value
    content = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert set(content) == {"signed_in", "csrf_token"}


def test_a_forged_session_cookie_is_not_a_sign_in(client, app):
    client.set_cookie("session", "eyJzaWduZWRfaW4iOnRydWV9.forged.signature")
    assert client.get("/").status_code == 302


def test_sign_out_ends_the_session(ui, app):
    answer = ui.client.post("/sign-out", data={"csrf_token": ui.csrf()})
    assert answer.status_code == 303 and answer.headers["Location"] == "/sign-in"
    assert ui.client.get("/").status_code == 302


def test_sign_in_without_the_form_token_is_refused(client, app, read_page):
    client.get("/sign-in")
    answer = client.post("/sign-in", data={"client_id": app.config["CLIENT_ID"],
                                           "client_secret": app.config["CLIENT_SECRET"], "next": "/"})
    assert answer.status_code == 400
    assert read_page(answer.get_data(as_text=True)).one("error-page").attrs["data-status"] == "400"
    assert client.get("/").status_code == 302


def test_sign_out_without_the_form_token_is_refused(ui):
    assert ui.client.post("/sign-out", data={"csrf_token": "not-the-token"}).status_code == 400
    assert ui.client.get("/").status_code == 200  # still signed in


def test_pages_are_not_cached_and_load_nothing_but_their_stylesheet(ui):
    answer = ui.client.get("/")
    assert answer.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert ui.client.get("/static/ui.css").status_code == 200
