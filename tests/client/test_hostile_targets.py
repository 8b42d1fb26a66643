"""``canvas-conformance run`` against hostile targets (issue 14, the harness's half).

Each test is one real run against the mock behind a hostile front or wrapper (hostile.py),
on loopback, bounded in time (every attack ends within ``hostile.ATTACK_S``) and in count
(a handful of scenarios picked by ``--tags``). The rules under test: credentials go only to
the target's own origin, never across a redirect; every answer is bounded in size (after
decoding) and in time (headers included); no spelling of a secret reaches any output; a bad
configuration is one line and exit 2, without the secret; report files are not written
through links.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

import pytest
from flask import Response, request

from .conftest import COMMAND, Echo, assert_no_secret_anywhere, spellings
from .hostile import Front, endless_body, gzip_bomb, padded, run_measured, slow_headers
from .test_runs_under_faults import EVERY_FILE, assert_full_report

MIB = 1024 * 1024



def _bearers(front: Front) -> list[str]:
    return [s.headers["authorization"] for s in front.seen if "authorization" in s.headers]


# -- 1. credentials only to the target's own origin ------------------------------------------------

def test_a_next_link_to_another_host_is_not_followed_and_gets_no_token(serve, fronts, run_harness):
    other: dict[str, Front] = {}

    def send_next_elsewhere(app) -> None:
        @app.after_request
        def rewrite(response):
            body = response.get_json(silent=True)
            if isinstance(body, dict) and body.get("resourceType") == "Bundle":
                for link in body.get("link") or []:
                    if link.get("relation") == "next":  # same path and query, another origin
                        parts = urlsplit(link["url"])
                        link["url"] = urlunsplit(parts._replace(netloc=urlsplit(other["front"].base_url).netloc))
                response.set_data(json.dumps(body))
            return response

    target = serve(send_next_elsewhere)
    other["front"] = fronts(target.base_url)  # a host that answers like the target: following it would pass
    run = run_harness(target, "--tags", "FHIR-7")
    assert_full_report(run)
    assert other["front"].seen == [], [s.path for s in other["front"].seen]  # no request at all, so no token
    assert run.code == 1, run.err
    paging = [row for row in run.rows() if "page by page" in row["name"]]
    assert len(paging) == 1 and paging[0]["status"] == "failed", paging
    assert "the next link of page 1" in paging[0]["message"]
    assert "not on the target's origin: not followed" in " ".join(paging[0]["notes"])
    assert run.rule_status("FHIR-7") == "failed"


def test_a_redirect_from_the_token_endpoint_is_not_followed_with_the_secret(serve, fronts, run_harness):
    other: dict[str, Front] = {}

    def redirect_token(app) -> None:
        @app.before_request
        def moved():
            if request.path.startswith("/auth/token"):
                return Response(status=307, headers={"Location": f"{other['front'].base_url}/auth/token/"})
            return None

    target = serve(redirect_token)
    other["front"] = fronts(target.base_url)
    run = run_harness(target, "--tags", "FHIR-3")
    assert run.code == 2 and len(run.err_lines) == 1, run.err
    assert "refused the client credentials: HTTP 307" in run.err
    assert other["front"].seen == []  # neither the pre-flight nor anything after re-posted the secret
    assert not any(s in run.err + run.out for s in spellings(target.client_secret))


# -- 3. every answer bounded in size, after decoding ---------------------------------------------

def test_a_gzip_bomb_on_metadata_is_cut_at_the_answer_bound(serve, fronts, tmp_path):
    mock = serve()
    front = fronts(mock.base_url, lambda seen: gzip_bomb(400 * MIB) if seen.path == "/metadata" else None)
    run = run_measured(COMMAND, front.base_url, mock.client_id, mock.client_secret, tmp_path / "r")
    print(f"gzip bomb (400 MiB inflated) on /metadata: exit {run.code}, peak RSS {run.peak_mib:.0f} MiB, "
          f"{run.elapsed_s:.1f} s")
    assert run.code == 2 and len(run.err_lines) == 1, run.err
    assert f"/metadata: the answer is larger than {16 * MIB} bytes" in run.err
    assert run.peak_mib < 150


def test_an_endless_metadata_answer_is_cut_at_the_answer_bound(serve, fronts, tmp_path):
    mock = serve()
    front = fronts(mock.base_url, lambda seen: endless_body(400 * MIB) if seen.path == "/metadata" else None)
    run = run_measured(COMMAND, front.base_url, mock.client_id, mock.client_secret, tmp_path / "r",
                       "--max-answer-bytes", str(MIB))
    print(f"endless /metadata: exit {run.code}, peak RSS {run.peak_mib:.0f} MiB, {run.elapsed_s:.1f} s")
    assert run.code == 2 and len(run.err_lines) == 1, run.err
    assert f"/metadata: the answer is larger than {MIB} bytes" in run.err
    assert run.peak_mib < 150


def test_huge_read_backs_are_errors_and_are_not_kept(serve, fronts, tmp_path):
    mock = serve()
    read_back = re.compile(r"^/Communication/[^/?]+$")
    front = fronts(mock.base_url, lambda seen: padded(mock.base_url, 200 * MIB)
                   if seen.method == "GET" and read_back.match(seen.path) else None)
    run = run_measured(COMMAND, front.base_url, mock.client_id, mock.client_secret, tmp_path / "r",
                       "--tags", "ID-2 and not explored")
    print(f"200 MiB read-backs: exit {run.code}, peak RSS {run.peak_mib:.0f} MiB, {run.elapsed_s:.1f} s")
    # every scenario is an error (the read-backs are refused), so the run checked nothing: exit 2
    assert run.code == 2 and "no rule could be checked" in run.err, run.err
    assert_full_report(run)
    reads = [e for row in run.results()["scenarios"] for e in row["exchanges"]
             if e["method"] == "GET" and read_back.match(urlsplit(e["url"]).path)]
    assert len(reads) >= 2
    for exchange in reads:
        assert exchange["status"] is None and exchange["response_body"] is None
        assert f"the answer is larger than {16 * MIB} bytes" in exchange["error"]
    assert all(row["status"] == "error" for row in run.results()["scenarios"]
               if any(e in row["exchanges"] for e in reads))
    assert run.peak_mib < 200
    assert (run.report / "report.html").stat().st_size < 5 * MIB


# -- 4. the timeout bounds the headers too ---------------------------------------------------------

def test_headers_sent_a_byte_at_a_time_end_at_the_timeout(serve, fronts, run_harness):
    mock = serve()
    read_back = re.compile(r"^/Communication/[^/?]+$")
    front = fronts(mock.base_url, lambda seen: slow_headers(0.2, most_s=15)
                   if seen.method == "GET" and read_back.match(seen.path) else None)
    run = run_harness(mock._replace(base_url=front.base_url), "--tags", "ID-2 and not explored", "--timeout", "1")
    print(f"headers a byte every 0.2 s, --timeout 1: exit {run.code} after {run.elapsed_s:.1f} s")
    assert_full_report(run)
    # every read-back is cut off, so every scenario is an error and the run checked nothing: exit 2
    assert run.code == 2 and "no rule could be checked" in run.err, run.err
    assert run.elapsed_s < 35  # a run takes 5-10 s here; three read-backs held 15 s each would add 45 s
    reads = [e for row in run.rows() for e in row["exchanges"] if e["method"] == "GET"
             and read_back.match(urlsplit(e["url"]).path)]
    assert len(reads) == 3, reads
    for exchange in reads:
        assert re.search(r"no (complete )?answer within 1 s \(timeout", exchange["error"]), exchange["error"]
        assert exchange["duration_ms"] < 3000


# -- 5. credentials in the base URL ------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--base-url", "--token-url"])
def test_a_password_in_a_url_is_refused_in_one_line_without_the_password(serve, run_harness, flag):
    target = serve()
    password = "url-password-6b1f0e2d"
    netloc = urlsplit(target.base_url).netloc
    url = f"http://someone:{password}@{netloc}" + ("/auth/token/" if flag == "--token-url" else "")
    args = ("--base-url", url) if flag == "--base-url" else ("--token-url", url)
    run = run_harness(target, *args)
    assert run.code == 2 and len(run.err_lines) == 1, run.err
    assert "user name or password" in run.err and "never sends" in run.err
    for spelled in (password, quote(password), quote_plus(password)):
        assert spelled not in run.err + run.out
    assert not run.report.exists() or not any(run.report.iterdir())


# -- 6. escaped spellings of a secret ----------------------------------------------------------------

ODD_SECRET = "odd/secret'with\\quote\"s-3f9a"


class EscapingEcho(Echo):
    """``Echo``, and on top: every JSON answer also carries the request's Authorization with each character
    ``\\uXXXX``-escaped (JSON readers decode it to the token itself), its slashes written ``\\/``, and every
    OperationOutcome names the client secret (which checks then quote, Python-escaped)."""

    def __init__(self, app) -> None:
        app.after_request(self.escape)  # Flask runs these last registered first: this one after the echo
        super().__init__(app)

    def escape(self, response):
        body = response.get_json(silent=True)
        if isinstance(body, dict):
            authorization = request.headers.get("Authorization", "")
            if body.get("resourceType") == "OperationOutcome":
                for issue in body.get("issue") or []:
                    issue["diagnostics"] = f"{issue.get('diagnostics')} secret {ODD_SECRET}"
            text = json.dumps(body).replace("/", "\\/")
            escaped = "".join(f"\\u{ord(c):04x}" for c in authorization)
            response.set_data(text[:-1] + f', "escaped_echo": "{escaped}"' + "}")
        return response


def _odd_spellings(secret: str) -> set[str]:
    as_json = json.dumps(secret)[1:-1]
    return spellings(secret) | {as_json, as_json.replace("/", "\\/"), repr(secret)[1:-1],
                                repr(as_json)[1:-1], secret.replace("\\", "\\\\").replace("'", "\\'")}


def test_secrets_in_escaped_spellings_are_redacted_in_every_output(serve, run_harness):
    made = {}
    target = serve(lambda app: made.setdefault("echo", EscapingEcho(app)), CLIENT_SECRET=ODD_SECRET)
    run = run_harness(target, "--tags", "FHIR-2 or FHIR-3 or ID-2")
    assert run.code == 1, run.err
    assert_full_report(run)
    issued = made["echo"].issued
    assert len(issued) >= 3
    secrets = _odd_spellings(ODD_SECRET).union(*(spellings(t) for t in issued))
    assert_no_secret_anywhere(run, secrets, report_files=EVERY_FILE)
    assert "escaped_echo" in (run.report / "report.html").read_text()  # the echo is there, masked


# -- 7. --suite says what it hands over -----------------------------------------------------------------

def test_help_says_a_suite_folder_runs_with_the_secret():
    done = subprocess.run([COMMAND, "run", "--help"], capture_output=True, text=True, timeout=30,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    text = " ".join(done.stdout.split())
    assert "--suite DIR" in text and "client secret" in text.rsplit("--suite DIR", 1)[1][:400]


# -- report files are not written through links -------------------------------------------------------

@pytest.mark.parametrize("planted", ["report.html", ".report.html.tmp", "pytest.log", ".pytest.log.tmp"])
def test_a_link_planted_in_the_report_folder_does_not_redirect_a_write(serve, run_harness, tmp_path, planted):
    target = serve()
    report = tmp_path / "report-1"  # the folder run_harness writes its first run to
    report.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched\n")
    (report / planted).symlink_to(victim)
    run = run_harness(target, "--tags", "ID-1")
    assert run.code == 0, run.err
    assert victim.read_text() == "untouched\n"
    name = planted.strip(".").removesuffix(".tmp")
    assert (report / name).is_file() and not (report / name).is_symlink()
