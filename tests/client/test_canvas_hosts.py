"""Canvas's hosts: the token endpoint of a v2 base URL is the EHR instance's /auth/token/, the client
secret goes only there and the bearer token only to the FHIR base (never across a redirect), and a
Canvas host judged by the other API's profile is stopped before anything is sent.

Loopback only: two servers on two free ports stand in for a FHIR base and a token host on another
origin; for the derived token URL, the two Canvas host names are resolved to 127.0.0.1 in this
process and one server tells them apart by the Host header."""
from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qs

import pytest

from canvas_conformance import canvas_hosts, cli, config, preflight, runner
from canvas_conformance.canvas_hosts import canvas_host, default_token_url, profile_mismatch
from canvas_conformance.client import Client, ExchangeError

SECRET = "planted-secret-for-the-token-host-6c1d"
TOKEN = "planted-bearer-for-the-fhir-base-93ab"
CAPABILITIES = {"resourceType": "CapabilityStatement", "status": "active", "kind": "instance", "fhirVersion": "4.0.1",
                "format": ["json"], "rest": [{"mode": "server", "resource": [{"type": "Communication"}]}]}


@pytest.mark.parametrize(("url", "api", "instance"), [
    ("https://fumage-acme.canvasmedical.com", "v2", "acme"),
    ("https://fumage-modernfamilypractice-dev.canvasmedical.com/", "v2", "modernfamilypractice-dev"),
    ("https://FUMAGE-Acme-Staging.CanvasMedical.com.", "v2", "acme-staging"),
    ("https://fhir-acme.canvasmedical.com", "v1", "acme"),
    ("https://fumage-fumage-x.canvasmedical.com", "v2", "fumage-x"),
])
def test_canvas_fhir_hosts_are_recognised(url, api, instance):
    host = canvas_host(url)
    assert host is not None and (host.api, host.instance) == (api, instance)
    assert host.profile == {"v1": "canvas-2022", "v2": "canvas-current"}[api]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000", "https://acme.canvasmedical.com", "https://fumage-acme.canvasmedical.com.evil.example",
    "https://fumage-.canvasmedical.com", "https://fumage-acme.canvasmedical.co", "https://x.fumage-acme.canvasmedical.com",
    "https://fumage-acme.canvasmedical.com@evil.example", "https://fumage-a_b.canvasmedical.com", None, "",
])
def test_other_hosts_are_not_canvas(url):
    assert canvas_host(url) is None


@pytest.mark.parametrize(("base", "token_url"), [
    ("https://fumage-acme.canvasmedical.com", "https://acme.canvasmedical.com/auth/token/"),
    ("https://fumage-modernfamilypractice-dev.canvasmedical.com/", "https://modernfamilypractice-dev.canvasmedical.com/auth/token/"),
    ("https://fhir-acme.canvasmedical.com", "https://acme.canvasmedical.com/auth/token/"),
    ("https://fumage-fumage-x.canvasmedical.com", "https://fumage-x.canvasmedical.com/auth/token/"),  # the leading label only
    ("http://fumage-acme.canvasmedical.com:8443", "http://acme.canvasmedical.com:8443/auth/token/"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/auth/token/"),
    ("https://vendor.example/fhir/r4", "https://vendor.example/fhir/r4/auth/token/"),
])
def test_the_default_token_url_is_the_ehr_instance_for_canvas_and_the_base_otherwise(base, token_url):
    assert default_token_url(base) == token_url
    assert Client(base).token_url == token_url


class Outcome(NamedTuple):
    code: int
    out: str
    err_lines: list[str]


@pytest.fixture
def run_command():
    """``canvas-conformance ARGV`` in this process, its output captured."""
    def invoke(argv) -> Outcome:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(argv))
            except SystemExit as exit_:
                code = exit_.code
        return Outcome(code, out.getvalue(), [ln for ln in err.getvalue().splitlines() if ln.strip()])
    return invoke


def _settings(**env: str) -> config.RunConfig:
    return config.resolve([config.env_layer(env)])


@pytest.mark.parametrize(("base", "profile"), [
    ("https://fumage-acme-dev.canvasmedical.com", "canvas-current"),
    ("https://fhir-acme.canvasmedical.com", "canvas-2022"),
    ("http://127.0.0.1:8000", "canvas-2022"),
    ("https://vendor.example", "canvas-2022"),
])
def test_a_profile_left_unchosen_is_the_hosts_own(base, profile):
    assert _settings(CANVAS_BASE_URL=base).profile == profile
    assert _settings().profile == "canvas-2022"  # the embedded mock: the default


def test_a_chosen_profile_is_kept_as_chosen():
    assert _settings(CANVAS_BASE_URL="http://127.0.0.1:8000", CANVAS_PROFILE="canvas-current").profile == "canvas-current"
    assert _settings(CANVAS_BASE_URL="https://fumage-acme.canvasmedical.com", CANVAS_PROFILE="canvas-2022").profile \
        == "canvas-2022"


def test_the_derived_token_url_is_what_the_runner_probes():
    cfg = _settings(CANVAS_BASE_URL="https://fumage-acme-dev.canvasmedical.com", CANVAS_ALLOW_WRITES="1",
                    CANVAS_CLIENT_ID="me", CANVAS_CLIENT_SECRET=SECRET)
    assert runner._remote_credentials(cfg).token_url == "https://acme-dev.canvasmedical.com/auth/token/"
    given = _settings(CANVAS_BASE_URL="https://fumage-acme.canvasmedical.com", CANVAS_ALLOW_WRITES="1",
                      CANVAS_TOKEN_URL="https://login.example/oauth/token", CANVAS_TOKEN="t")
    assert runner._remote_credentials(given).token_url == "https://login.example/oauth/token"


@pytest.fixture
def no_network(monkeypatch):
    """Any name resolution or connection from here on fails the test: the check must come first."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"something was sent: {args[:2]}")
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize(("base", "chosen", "fits"), [
    ("https://fumage-acme.canvasmedical.com", "canvas-2022", "canvas-current"),
    ("https://fumage-acme-dev.canvasmedical.com", "canvas-2022", "canvas-current"),
    ("https://fhir-acme.canvasmedical.com", "canvas-current", "canvas-2022"),
])
def test_a_canvas_host_judged_by_the_other_apis_profile_stops_before_anything_is_sent(
        run_command, no_network, base, chosen, fits):
    out = run_command(["run", "--base-url", base, "--allow-writes", "--client-id", "me", "--profile", chosen, "-q"])
    assert out.code == 2
    assert len(out.err_lines) == 1, out.err_lines
    line = out.err_lines[0]
    assert f"which profile {fits} describes, not {chosen}" in line and f"--profile {fits}" in line
    assert SECRET not in line


def test_profile_mismatch_names_the_other_apis_host():
    line = profile_mismatch("https://fumage-acme.canvasmedical.com", "canvas-2022")
    assert "--base-url https://fhir-acme.canvasmedical.com" in line and "\n" not in line
    assert profile_mismatch("https://fumage-acme.canvasmedical.com", "canvas-current") is None
    assert profile_mismatch("http://127.0.0.1:8000", "canvas-current") is None


def test_listing_a_v2_host_without_a_profile_lists_canvas_current(run_command, no_network):
    out = run_command(["run", "--list", "--base-url", "https://fumage-acme.canvasmedical.com"])
    assert out.code == 0, out.err_lines
    assert out.out.startswith("profile canvas-current: ")


# -- the two origins, on loopback -------------------------------------------------------------------

class Seen(NamedTuple):
    host: str  # the Host header
    port: int  # the server's port
    method: str
    path: str
    authorization: str | None
    body: str
    cookie: str | None = None


class Recorder:
    """A loopback HTTP server that records every request and answers by path: /metadata, /auth/token/,
    /Communication; ``redirect`` maps a path to a Location answered with 307 instead."""

    def __init__(self, seen: list[Seen], redirect: dict[str, str] | None = None) -> None:
        recorder = self
        self.redirect = redirect or {}
        self.token_cookie: str | None = None  # a Set-Cookie the token answer carries

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                seen.append(Seen(self.headers.get("Host", ""), recorder.port, self.command, self.path,
                                 self.headers.get("Authorization"), body, self.headers.get("Cookie")))
                path = self.path.split("?", 1)[0]
                if path in recorder.redirect:
                    return self._answer(307, {}, {"Location": recorder.redirect[path]})
                if path == "/metadata":
                    return self._answer(200, CAPABILITIES)
                if path == "/auth/token/" and self.command == "POST":
                    form = parse_qs(body)
                    if form.get("client_secret") == [SECRET]:
                        cookie = {"Set-Cookie": recorder.token_cookie} if recorder.token_cookie else {}
                        return self._answer(200, {"access_token": TOKEN, "token_type": "Bearer",
                                                  "expires_in": 36000, "scope": ""}, cookie)
                    return self._answer(401, {"error": "invalid_client"})
                if path == "/Communication":
                    return self._answer(200, {"resourceType": "Bundle", "type": "searchset", "total": 0})
                return self._answer(404, {"resourceType": "OperationOutcome", "issue": []})

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    started: list[Recorder] = []

    def start(seen, redirect=None) -> Recorder:
        r = Recorder(seen, redirect)
        started.append(r)
        return r
    yield start
    for r in started:
        r.stop()


def _leaks(seen: list[Seen], *, fhir_port: int, token_port: int) -> list[str]:
    """Every credential that reached the wrong server."""
    out = []
    for s in seen:
        if s.port != token_port and SECRET in s.body + s.path:
            out.append(f"client secret sent to port {s.port}: {s.method} {s.path}")
        if s.port != fhir_port and s.authorization:
            out.append(f"bearer token sent to port {s.port}: {s.method} {s.path}")
    return out


def test_a_configured_token_url_on_another_origin_gets_the_secret_and_never_the_token(servers):
    seen: list[Seen] = []
    fhir, tokens = servers(seen), servers(seen)
    client = Client(f"http://127.0.0.1:{fhir.port}", token_url=f"http://127.0.0.1:{tokens.port}/auth/token/",
                    client_id="me", client_secret=SECRET)
    try:
        assert client.token() == TOKEN
        assert client.request("search", "GET", "Communication").status == 200
    finally:
        client.close()
    assert _leaks(seen, fhir_port=fhir.port, token_port=tokens.port) == []
    assert [(s.port, s.path) for s in seen] == [(tokens.port, "/auth/token/"), (fhir.port, "/Communication")]
    assert seen[1].authorization == f"Bearer {TOKEN}"


def test_no_credential_follows_a_redirect_to_the_other_origin(servers):
    seen: list[Seen] = []
    fhir, tokens = servers(seen), servers(seen)
    # the FHIR base sends its search to the token host; the token host sends the grant to the FHIR base
    fhir.redirect["/Communication"] = f"http://127.0.0.1:{tokens.port}/Communication"
    tokens.redirect["/auth/token/"] = f"http://127.0.0.1:{fhir.port}/auth/token/"
    client = Client(f"http://127.0.0.1:{fhir.port}", token_url=f"http://127.0.0.1:{tokens.port}/auth/token/",
                    client_id="me", client_secret=SECRET)
    try:
        assert client.grant("grant").status == 307
        assert client.request("search", "GET", "Communication", bearer=TOKEN).status == 307
        with pytest.raises(ExchangeError, match="not on the target's origin"):  # the Location, followed by hand
            client.request("follow", "GET", f"http://127.0.0.1:{tokens.port}/Communication", bearer=TOKEN)
    finally:
        client.close()
    assert _leaks(seen, fhir_port=fhir.port, token_port=tokens.port) == []
    assert [(s.port, s.path) for s in seen] == [(tokens.port, "/auth/token/"), (fhir.port, "/Communication")]


def test_the_preflight_with_a_token_url_on_another_origin(servers):
    seen: list[Seen] = []
    fhir, tokens = servers(seen), servers(seen)
    creds = preflight.Credentials(f"http://127.0.0.1:{fhir.port}", f"http://127.0.0.1:{tokens.port}/auth/token/",
                                  "me", SECRET, None, 5.0)
    assert preflight.probe(creds) == TOKEN
    assert _leaks(seen, fhir_port=fhir.port, token_port=tokens.port) == []
    assert {(s.port, s.path) for s in seen} == {(fhir.port, "/metadata"), (tokens.port, "/auth/token/")}


@pytest.fixture
def canvas_names_on_loopback(monkeypatch):
    """fumage-acme-dev.canvasmedical.com and acme-dev.canvasmedical.com resolve to 127.0.0.1, in this
    process only; any other name fails the test (nothing leaves the machine)."""
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host in ("fumage-acme-dev.canvasmedical.com", "acme-dev.canvasmedical.com", "127.0.0.1"):
            return real("127.0.0.1", *args, **kwargs)
        raise AssertionError(f"resolved {host}")
    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_a_derived_token_url_gets_the_secret_and_the_fhir_host_the_token(servers, canvas_names_on_loopback):
    seen: list[Seen] = []
    both = servers(seen)  # one server, two host names: told apart by the Host header
    base = f"http://fumage-acme-dev.canvasmedical.com:{both.port}"
    cfg = _settings(CANVAS_BASE_URL=base, CANVAS_ALLOW_WRITES="1", CANVAS_CLIENT_ID="me", CANVAS_CLIENT_SECRET=SECRET)
    assert cfg.profile == "canvas-current"
    creds = runner._remote_credentials(cfg)
    assert creds.token_url == f"http://acme-dev.canvasmedical.com:{both.port}/auth/token/"
    assert preflight.probe(creds) == TOKEN
    client = Client(base, token_url=creds.token_url, client_id="me", client_secret=SECRET)
    try:
        assert client.request("search", "GET", "Communication").status == 200
        with pytest.raises(ExchangeError, match="not on the target's origin"):
            client.request("the token host", "GET", f"http://acme-dev.canvasmedical.com:{both.port}/Communication")
    finally:
        client.close()
    fhir_host, ehr_host = f"fumage-acme-dev.canvasmedical.com:{both.port}", f"acme-dev.canvasmedical.com:{both.port}"
    for s in seen:
        assert s.host in (fhir_host, ehr_host), s
        if SECRET in s.body + s.path:
            assert s.host == ehr_host and s.path == "/auth/token/", s
        if s.authorization:
            assert s.host == fhir_host, s
    assert sum(1 for s in seen if s.host == ehr_host) == 2  # the pre-flight's grant and the client's
    assert any(s.host == fhir_host and s.authorization == f"Bearer {TOKEN}" for s in seen)


def test_a_cookie_the_token_host_sets_for_the_parent_domain_never_reaches_the_fhir_host(
        servers, canvas_names_on_loopback):
    seen: list[Seen] = []
    both = servers(seen)
    both.token_cookie = "sessionid=ehr-session-7; Domain=.canvasmedical.com; Path=/"
    base = f"http://fumage-acme-dev.canvasmedical.com:{both.port}"
    client = Client(base, client_id="me", client_secret=SECRET)
    try:
        assert client.token() == TOKEN
        assert client.request("search", "GET", "Communication").status == 200
    finally:
        client.close()
    assert [s.host.split(":")[0] for s in seen] == ["acme-dev.canvasmedical.com", "fumage-acme-dev.canvasmedical.com"]
    assert [s.cookie for s in seen] == [None, None]


def test_the_hosts_module_sends_nothing(no_network):
    assert canvas_hosts.default_token_url("https://fumage-acme.canvasmedical.com").startswith("https://acme.")
