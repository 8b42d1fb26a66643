"""curl commands for recorded exchanges: the exact text, what a shell makes of it, and what curl sends."""
from __future__ import annotations

import html
import http.server
import json
import shlex
import shutil
import subprocess
import threading

import pytest

from canvas_conformance.report.curl import curl_command
from canvas_conformance.report.writer import write_all

from .conftest import BEARER, CLIENT_SECRET

TOKEN = '"Authorization: Bearer $CANVAS_TOKEN"'


def _x(method="GET", url="http://127.0.0.1:5999/Communication", headers=None, body=None):
    return {"method": method, "url": url, "request_headers": headers or {}, "request_body": body}


@pytest.mark.parametrize(("exchange", "expected"), [
    pytest.param(_x(), "curl -X GET http://127.0.0.1:5999/Communication", id="bare GET"),
    pytest.param(_x(url="http://h/Communication?patient=Patient/a b&_count=1"),
                 "curl -X GET 'http://h/Communication?patient=Patient/a b&_count=1'", id="URL quoted"),
    pytest.param(_x(url="http://h/Communication?sent=[2020,2021]"),
                 "curl -X GET --globoff 'http://h/Communication?sent=[2020,2021]'", id="brackets: no globbing"),
    pytest.param(_x(headers={"Authorization": f"Bearer {BEARER}", "Accept": "application/fhir+json"}),
                 f"curl -X GET http://127.0.0.1:5999/Communication -H {TOKEN} -H 'Accept: application/fhir+json'",
                 id="token as a variable"),
    pytest.param(_x(headers={"Authorization": "Bearer [REDACTED]"}),
                 f"curl -X GET http://127.0.0.1:5999/Communication -H {TOKEN}", id="masked token as a variable"),
    pytest.param(_x(headers={"Connection": "keep-alive", "Keep-Alive": "timeout=5", "Transfer-Encoding": "chunked",
                             "Upgrade": "h2c", "TE": "trailers", "Proxy-Authorization": "Basic eA==",
                             "Host": "h", "Content-Length": "12", "Accept-Encoding": "gzip, deflate",
                             "Cookie": "session=[REDACTED]", "User-Agent": "python-requests/2.32.3"}),
                 "curl -X GET http://127.0.0.1:5999/Communication -H 'User-Agent: python-requests/2.32.3'",
                 id="hop-by-hop and curl's own headers left out"),
    pytest.param(_x("POST", headers={"Content-Type": "application/fhir+json"},
                    body='{"resourceType": "Communication", "payload": [{"contentString": "it\'s $5 & `ok`"}]}'),
                 "curl -X POST http://127.0.0.1:5999/Communication -H 'Content-Type: application/fhir+json' "
                 "--data-binary '{\"resourceType\": \"Communication\", \"payload\": [{\"contentString\": "
                 "\"it'\"'\"'s $5 & `ok`\"}]}'", id="JSON body with shell characters"),
    pytest.param(_x("POST", body=""), "curl -X POST http://127.0.0.1:5999/Communication --data-binary ''",
                 id="empty body"),
    pytest.param(_x("POST", "http://h/auth/token/", {"Content-Type": "application/x-www-form-urlencoded"},
                    f"grant_type=client_credentials&client_id=my-client&client_secret={CLIENT_SECRET}"),
                 "curl -X POST http://h/auth/token/ -H 'Content-Type: application/x-www-form-urlencoded' "
                 "--data-binary 'grant_type=client_credentials&client_id=my-client' "
                 '--data-urlencode "client_secret=$CANVAS_CLIENT_SECRET"', id="form secret as a variable"),
    pytest.param(_x("POST", "http://h/auth/token/", {"Content-Type": "application/x-www-form-urlencoded"},
                    "client_secret=[REDACTED]"),
                 "curl -X POST http://h/auth/token/ -H 'Content-Type: application/x-www-form-urlencoded' "
                 '--data-urlencode "client_secret=$CANVAS_CLIENT_SECRET"', id="form of the secret alone"),
    pytest.param(_x("HEAD"), "curl --head http://127.0.0.1:5999/Communication", id="HEAD"),
    pytest.param(_x("delete"), "curl -X DELETE http://127.0.0.1:5999/Communication", id="method upper-cased"),
])
def test_command_for_each_exchange(exchange, expected):
    assert curl_command(exchange) == expected


def test_no_secret_is_ever_written(exchange):
    form = exchange("get a token", url="http://h/auth/token/",
                    request_headers={"Content-Type": "application/x-www-form-urlencoded",
                                     "Authorization": f"Bearer {BEARER}"},
                    request_body=f"client_id=c&client_secret={CLIENT_SECRET}&grant_type=client_credentials")
    command = curl_command(form)
    assert BEARER not in command and CLIENT_SECRET not in command
    assert "$CANVAS_TOKEN" in command and "$CANVAS_CLIENT_SECRET" in command


def _parse(command: str) -> dict:
    """What curl would be told, from the words a POSIX shell gives it (variables unexpanded)."""
    words = shlex.split(command)
    assert words[0] == "curl"
    out = {"method": None, "url": None, "headers": {}, "data": []}
    it = iter(words[1:])
    for word in it:
        if word == "-X":
            out["method"] = next(it)
        elif word == "--head":
            out["method"] = "HEAD"
        elif word == "-H":
            name, _, value = next(it).partition(": ")
            out["headers"][name] = value
        elif word in ("--data-binary", "--data-urlencode"):
            out["data"].append(next(it))
        elif word == "--globoff":
            pass
        else:
            assert out["url"] is None, f"a second URL {word!r}"
            out["url"] = word
    return out


@pytest.mark.parametrize("body", [
    '{"payload": [{"contentString": "Don\'t forget: $HOME, `date`, \\"quotes\\" & ünïcödé\\nline two"}]}',
    "a body\nwith 'single' and \"double\" quotes\tand a tab",
    "",
])
def test_round_trip_through_a_shell_gives_back_the_request(exchange, body):
    x = exchange(url="http://127.0.0.1:5999/Communication?subject=Patient/a&_count=2", request_body=body,
                 request_headers={"Authorization": f"Bearer {BEARER}", "Content-Type": "application/fhir+json",
                                  "Accept": "application/fhir+json", "X-Odd": "it's \"quoted\" $x"})
    parsed = _parse(curl_command(x))
    assert parsed["method"] == "POST"
    assert parsed["url"] == x["url"]
    assert parsed["headers"] == {"Authorization": "Bearer $CANVAS_TOKEN", "Content-Type": "application/fhir+json",
                                 "Accept": "application/fhir+json", "X-Odd": "it's \"quoted\" $x"}
    assert parsed["data"] == [body]


def test_round_trip_of_a_token_request(exchange):
    x = exchange("get a token", url="http://127.0.0.1:5999/auth/token/",
                 request_headers={"Content-Type": "application/x-www-form-urlencoded"},
                 request_body=f"grant_type=client_credentials&client_id=my%20client&client_secret={CLIENT_SECRET}")
    parsed = _parse(curl_command(x))
    assert parsed["method"] == "POST" and parsed["url"] == x["url"]
    assert parsed["headers"] == {"Content-Type": "application/x-www-form-urlencoded"}
    # curl joins its data arguments with "&": the body, with the secret from the environment.
    assert parsed["data"] == ["grant_type=client_credentials&client_id=my%20client",
                              "client_secret=$CANVAS_CLIENT_SECRET"]


class _Capture(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                          "body": self.rfile.read(length).decode("utf-8")})
        self.send_response(204)
        self.end_headers()

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def capture_server():
    _Capture.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Capture.seen
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("bash")), reason="needs curl and bash")
def test_the_command_run_by_bash_sends_the_recorded_request(capture_server, exchange):
    base, seen = capture_server
    body = json.dumps({"payload": [{"contentString": "Don't $HOME `date` \"q\" ünï\nline"}]}, ensure_ascii=False)
    post = exchange(url=f"{base}/Communication?subject=Patient/a&_count=2", request_body=body,
                    request_headers={"Authorization": "Bearer [REDACTED]", "Content-Type": "application/fhir+json"})
    token = exchange("get a token", url=f"{base}/auth/token/",
                     request_headers={"Content-Type": "application/x-www-form-urlencoded"},
                     request_body="grant_type=client_credentials&client_id=c&client_secret=[REDACTED]")
    env = {"PATH": "/usr/bin:/bin", "CANVAS_TOKEN": "tok-123", "CANVAS_CLIENT_SECRET": "s&cret+%/="}
    for x in (post, token):
        subprocess.run(["bash", "-c", curl_command(x) + " --silent --show-error --fail"], env=env, check=True,
                       timeout=30)
    assert seen[0]["method"] == "POST"
    assert seen[0]["path"] == "/Communication?subject=Patient/a&_count=2"
    assert seen[0]["headers"]["Authorization"] == "Bearer tok-123"
    assert seen[0]["headers"]["Content-Type"] == "application/fhir+json"
    assert seen[0]["body"] == body
    assert seen[1]["body"] == "grant_type=client_credentials&client_id=c&client_secret=s%26cret%2B%25%2F%3D"


def test_the_report_files_carry_each_exchange_s_command(tmp_path, scenario, results, exchange):
    create = exchange()
    search = exchange("search", method="GET", url="http://127.0.0.1:5999/Communication?_count=1",
                      request_body=None)
    write_all(results([scenario("passed", ["SENT-1"], exchanges=[create, search]),
                       scenario("failed", [], name="outside the catalogue", tags=["api"], exchanges=[search])]),
              tmp_path, secrets=[BEARER])
    doc = json.loads((tmp_path / "conformance.json").read_text())
    row = next(r for r in doc["rules"] if r["id"] == "SENT-1")
    commands = [x["curl"] for x in row["scenarios"][0]["exchanges"]]
    assert commands == [curl_command(create), curl_command(search)]
    assert doc["unmatched_scenarios"][0]["exchanges"][0]["curl"] == curl_command(search)
    page = (tmp_path / "report.html").read_text()
    assert page.count('<pre class="curl">') == 3
    assert f'<pre class="curl">{html.escape(curl_command(create), quote=True)}</pre>' in page
