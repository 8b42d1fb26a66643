"""Location without a configured BASE_URL: from each request, as Werkzeug's url_root gives it (ID-1).

communication.base_url remembers url_root per (scheme, Host, server, script root); these tests
compare it with Werkzeug's own answer on many requests, odd Host headers included, and check
that a client sending ever new Host headers cannot make the memory grow without bound.
"""
from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Request

from mock_server import create_app
from mock_server.communication import _URL_ROOTS_KEPT

from ..mock_helpers import bearer, token_from

HOSTS = ["localhost", "127.0.0.1:8123", "a.example:80", "a.example:443", "b.example", "bücher.example",
         "[::1]:9000", "x.example:8080"]


@pytest.fixture
def unconfigured(fixture_data):
    app = create_app({"DATABASE": ":memory:"})
    client = app.test_client()
    return app, client, bearer(token_from(client, app.config)), fixture_data["communications"]["minimal"]


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("script_root", ["", "/mock"])
def test_location_is_werkzeugs_url_root_for_every_host(unconfigured, scheme, script_root):
    app, client, auth, body = unconfigured
    for _ in range(2):  # the second round answers from memory
        for host in HOSTS:
            options = dict(path="/Communication", base_url=f"{scheme}://{host}{script_root}", method="POST",
                           json=body, headers=auth)
            # What the Location header carried before: url_root, quoted by Werkzeug as a URI on the way out.
            expected = iri_to_uri(Request(EnvironBuilder(**options).get_environ()).url_root.rstrip("/"))
            answer = client.post(**options)
            assert answer.status_code == 201, answer.json
            assert answer.headers["Location"].rsplit("/", 1)[0] == f"{expected}/Communication"


def test_ever_new_host_headers_are_remembered_in_bounded_memory(unconfigured):
    app, client, auth, body = unconfigured
    for n in range(3 * _URL_ROOTS_KEPT):
        answer = client.post("/Communication", json=body, headers=auth, base_url=f"http://h{n}.example")
        assert answer.headers["Location"].startswith(f"http://h{n}.example/Communication/")
    assert 0 < len(app.extensions["mock_url_roots"]) <= _URL_ROOTS_KEPT


def test_the_host_header_alone_decides_when_the_server_name_is_the_same(unconfigured):
    app, client, auth, body = unconfigured
    for _ in range(2):
        for host in ("one.example", "two.example:8443"):
            answer = client.post("/Communication", json=body, headers={**auth, "Host": host},
                                 base_url="http://server.example")
            assert answer.headers["Location"].startswith(f"http://{host}/Communication/")
