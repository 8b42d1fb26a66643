"""``serve``'s access log: one line per request, secrets never in it; the beyond-loopback warning."""
from __future__ import annotations

import io
import re

import pytest
import requests

from canvas_conformance.serve_cli import is_loopback, secret_warning
from mock_server import DEFAULTS, create_app
from mock_server.accesslog import AccessLog, masked_query

from ..mock_helpers import bearer, fetch_token, grant_form

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S+ (?P<method>[A-Z]+) (?P<target>\S+) (?P<status>\d{3}|-) "
                  r"(?P<ms>\d+\.\d\d)ms$")


def test_secret_named_query_values_are_masked():
    assert masked_query("") == ""
    assert masked_query("patient=p1&_count=10") == "patient=p1&_count=10"
    assert masked_query("client_secret=abc&x=1&Access_Token=t0k&password=&code=42") == \
        "client_secret=***&x=1&Access_Token=***&password=***&code=***"
    assert masked_query("client%5Fsecret=abc") == "client%5Fsecret=***"


def test_one_line_per_request_with_method_path_status_and_duration(fixture_data):
    app = create_app({"DATABASE": ":memory:"})
    stream = io.StringIO()
    app.wsgi_app = AccessLog(app.wsgi_app, stream)
    client = app.test_client()
    token = client.post("/auth/token/", data=grant_form(app.config)).json["access_token"]
    client.post("/Communication", json=fixture_data["communications"]["minimal"], headers=bearer(token))
    client.get("/Communication?patient=x&client_secret=leaked", headers=bearer(token))  # an unknown parameter: 400
    client.get("/Communication/nope\x1b[31m", headers=bearer(token))
    lines = stream.getvalue().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["method"], m["target"].split("?")[0], m["status"]) for m in parsed] == [
        ("POST", "/auth/token/", "200"), ("POST", "/Communication", "201"), ("GET", "/Communication", "400"),
        ("GET", "/Communication/nope\\x1b[31m", "404")]
    text = stream.getvalue()
    for secret in (token, DEFAULTS["CLIENT_SECRET"], "leaked"):
        assert secret not in text


@pytest.mark.slow
def test_serve_logs_each_request_and_never_a_secret(serve_process):
    server = serve_process("--workers", "2", "--client-secret", "hush-hush-1234")
    config = {**DEFAULTS, "CLIENT_SECRET": "hush-hush-1234"}
    token = fetch_token(server.base_url, config=config)
    for _ in range(4):
        requests.get(f"{server.base_url}/Patient?access_token=abc123", headers=bearer(token), timeout=10)
    server.stop()
    lines = [line for line in server.stderr().splitlines() if LINE.match(line)]
    requests_seen = [(LINE.match(l)["method"], LINE.match(l)["target"], LINE.match(l)["status"]) for l in lines]
    assert ("POST", "/auth/token/", "200") in requests_seen
    assert requests_seen.count(("GET", "/Patient?access_token=***", "200")) == 4
    text = server.stderr()
    assert "hush-hush-1234" not in text and token not in text and "abc123" not in text


def test_the_development_secret_beyond_loopback_is_warned_about():
    published = DEFAULTS["CLIENT_SECRET"]
    assert secret_warning("127.0.0.1", published, published) is None
    assert secret_warning("::1", published, published) is None
    assert secret_warning("localhost", published, published) is None
    assert secret_warning("0.0.0.0", "my-own-secret", published) is None
    for host in ("0.0.0.0", "::", "192.168.1.20"):
        warning = secret_warning(host, published, published)
        assert warning.count("\n") == 0 and host in warning and published in warning
    assert is_loopback("127.8.0.1") and not is_loopback("example.org")
