"""Fixtures for the mock's UI tests: the API to make messages, a signed-in browser-less client, a page reader.

Pages are read the way a check reads them: by their ``data-testid`` hooks and the
text a person sees, through a small parser over the standard library's HTMLParser.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import NamedTuple

import pytest

from ..mock_helpers import bearer, token_from

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    """One element of a parsed page: its tag, attributes, children and text."""

    def __init__(self, tag: str, attrs: dict, parent: "Node | None") -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list["Node | str"] = []

    @property
    def text(self) -> str:
        """The visible text, whitespace collapsed as a browser shows it."""
        parts = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else f" {child.text} ")
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def all(self, testid: str) -> list["Node"]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.attrs.get("data-testid") == testid:
                    found.append(child)
                found.extend(child.all(testid))
        return found

    def one(self, testid: str) -> "Node":
        found = self.all(testid)
        assert len(found) == 1, f"expected one [data-testid={testid}], found {len(found)}"
        return found[0]

    def has(self, testid: str) -> bool:
        return bool(self.all(testid))


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token field"
    return match.group(1)


class Api(NamedTuple):
    """The mock's API and control surface, through the test client."""

    client: object
    headers: dict

    def __repr__(self) -> str:  # a failing test prints its fixtures: never the bearer token
        return "Api(<test client>, <bearer token>)"

    def create(self, body: dict) -> str:
        answer = self.client.post("/Communication", json=body, headers=self.headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        # <base>/Communication/<id>, or .../Communication/<id>/_history/1 (canvas-current)
        return re.search(r"/Communication/([^/]+)", answer.headers["Location"]).group(1)

    def read(self, message_id: str) -> dict:
        answer = self.client.get(f"/Communication/{message_id}", headers=self.headers)
        assert answer.status_code == 200
        return answer.json

    def freeze(self, now: str) -> None:
        assert self.client.put("/_mock/clock", json={"now": now}, headers=self.headers).status_code == 200

    def shift(self, seconds: float) -> None:
        assert self.client.put("/_mock/clock", json={"shift_seconds": seconds},
                               headers=self.headers).status_code == 200

    def sms(self) -> list:
        return self.client.get("/_mock/sms", headers=self.headers).json["messages"]

    def stored(self, message_id: str) -> dict:
        rows = self.client.get("/_mock/communications", headers=self.headers).json["messages"]
        return next(row for row in rows if row["id"] == message_id)


class Ui(NamedTuple):
    """A signed-in visitor of the pages (its own test client, so its own cookie jar)."""

    client: object

    def page(self, path: str) -> Node:
        answer = self.client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        return parse(answer.get_data(as_text=True))

    def csrf(self) -> str:
        return csrf_of(self.client.get("/").get_data(as_text=True))

    def send(self, patient: str, message_id: str, *, token: str | None = None):
        token = self.csrf() if token is None else token
        return self.client.post(f"/chart/{patient}/messages/{message_id}/send", data={"csrf_token": token})


def _sign_in(client, app, *, secret: str | None = None, next_path: str = "/"):
    """Fill in and post the sign-in form the way a person does."""
    form = client.get("/sign-in").get_data(as_text=True)
    return client.post("/sign-in", data={
        "csrf_token": csrf_of(form),
        "client_id": app.config["CLIENT_ID"],
        "client_secret": app.config["CLIENT_SECRET"] if secret is None else secret,
        "next": next_path,
    })


@pytest.fixture
def mock_api(client, auth):
    return Api(client, auth)


@pytest.fixture
def ui(app):
    visitor = app.test_client()
    answer = _sign_in(visitor, app)
    assert answer.status_code == 303, answer.status_code
    return Ui(visitor)


@pytest.fixture
def draft(message):
    """A practitioner's message to the example patient, sent Feb 10th, 2022 (the document's caption)."""
    body = message("practitioner_to_patient")
    body["sent"] = "2022-02-10T15:04:00Z"
    return body


@pytest.fixture
def sign_in():
    """``sign_in(client, app, secret=..., next_path=...)``: post the sign-in form."""
    return _sign_in


@pytest.fixture
def read_page():
    """``read_page(html)``: the parsed page, to find elements by ``data-testid``."""
    return parse


@pytest.fixture
def patient_id(fixture_data):
    """The document's example patient, the recipient of the fixture messages."""
    return fixture_data["people"]["patients"][0]["id"]


@pytest.fixture
def other_patient_id(fixture_data):
    return fixture_data["people"]["patients"][1]["id"]


@pytest.fixture
def mock_api_for():
    """``mock_api_for(app)``: the API of another mock app (one served on a port), with a fresh token."""
    def make(app) -> Api:
        client = app.test_client()
        return Api(client, bearer(token_from(client, app.config)))
    return make
