"""Fault injection, seen from a client: every kind is observable over HTTP and fires deterministically.

Faults that need a real socket (a dropped connection, a client time-out) run against the mock
under waitress in a thread; the rest use the in-process test client.
"""
from __future__ import annotations

import time

import pytest
import requests

from mock_server.faults import FaultError, FaultRule, rule_from_spec

from ..mock_helpers import COMMAND, fetch_token, grant_form


def set_faults(client, auth, *rules: dict):
    answer = client.put("/_mock/faults", headers=auth, json={"rules": list(rules)})
    assert answer.status_code == 200, answer.json
    return answer


def statuses(client, n: int, path: str = "/metadata", **kwargs) -> list[int]:
    return [client.get(path, **kwargs).status_code for _ in range(n)]


def stored_total(client, auth) -> int:
    return client.get("/_mock/communications", headers=auth).json["total"]


# -- each kind, observable --------------------------------------------------------------------
@pytest.mark.parametrize("kind, status, issue_code", [("503", 503, "transient"), ("429", 429, "throttled")])
def test_unavailable_and_throttled_answers_carry_retry_after(client, auth, kind, status, issue_code):
    set_faults(client, auth, {"kind": kind, "every": 2, "retry_after": 7})
    answers = [client.get("/metadata") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, status, 200, status]
    faulted = answers[1]
    assert faulted.headers["Retry-After"] == "7"
    assert faulted.headers["x-mock-fault"] == kind
    assert faulted.headers["fumage-correlation-id"]
    assert faulted.json["resourceType"] == "OperationOutcome"
    assert faulted.json["issue"][0]["code"] == issue_code


def test_html_500_is_an_html_page(client, auth):
    set_faults(client, auth, {"kind": "html500"})
    answer = client.get("/metadata")
    assert answer.status_code == 500
    assert answer.mimetype == "text/html"
    assert answer.get_data(as_text=True).startswith("<!DOCTYPE html>")


def test_latency_delays_the_answer_and_trips_client_timeouts(threaded_mock):
    base, auth = threaded_mock({"FAULTS": ["latency:ms=400,path=/metadata"]})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{base}/metadata", timeout=0.1)
    started = time.monotonic()
    assert requests.get(f"{base}/metadata", timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.4  # a lower bound: the promised delay, not a speed claim
    assert requests.get(f"{base}/Patient", headers=auth, timeout=0.3).status_code == 200  # other paths untouched


def test_drop_closes_the_connection_without_an_answer(threaded_mock):
    base, auth = threaded_mock()
    requests.put(f"{base}/_mock/faults", headers=auth, timeout=10,
                 json={"rules": [{"kind": "drop", "path": "/Communication", "every": 2}]})
    outcomes = []
    for _ in range(4):
        try:
            outcomes.append(requests.get(f"{base}/Communication", headers=auth, timeout=10).status_code)
        except requests.exceptions.ConnectionError as err:
            outcomes.append(type(err).__name__)
    assert outcomes == [200, "ConnectionError", 200, "ConnectionError"]
    rules = requests.get(f"{base}/_mock/faults", headers=auth, timeout=10).json()["rules"]
    assert (rules[0]["matched"], rules[0]["fired"]) == (4, 2)


def test_drop_on_a_kept_alive_connection_is_a_connection_error_too(threaded_mock):
    base, auth = threaded_mock()
    with requests.Session() as session:
        assert session.get(f"{base}/metadata", timeout=10).status_code == 200  # the connection is now open
        session.put(f"{base}/_mock/faults", headers=auth, timeout=10, json={"rules": [{"kind": "drop", "path": "/metadata"}]})
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(f"{base}/metadata", timeout=10)


# -- what is stored ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["503", "html500"])
def test_a_faulted_create_is_not_stored(client, auth, message, kind):
    set_faults(client, auth, {"kind": kind, "methods": ["POST"], "path": "/Communication"})
    assert client.post("/Communication", json=message(), headers=auth).status_code >= 500
    assert stored_total(client, auth) == 0


def test_after_stores_the_create_and_loses_the_answer(client, auth, message):
    set_faults(client, auth, {"kind": "503", "path": "/Communication", "methods": ["POST"], "after": True})
    assert client.post("/Communication", json=message(), headers=auth).status_code == 503
    assert stored_total(client, auth) == 1


def test_drop_after_the_commit_is_stored_though_the_client_saw_nothing(threaded_mock, message):
    base, auth = threaded_mock({"FAULTS": [{"kind": "drop", "path": "/Communication", "methods": ["POST"],
                                            "after": True, "times": 1}]})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(f"{base}/Communication", json=message(), headers=auth, timeout=10)
    assert requests.post(f"{base}/Communication", json=message(), headers=auth, timeout=10).status_code == 201
    assert requests.get(f"{base}/_mock/communications", headers=auth, timeout=10).json()["total"] == 2


# -- determinism ------------------------------------------------------------------------------
def test_a_seeded_share_replays_exactly(app, client, auth):
    from mock_server import create_app

    rule = {"kind": "503", "share": 0.3, "seed": 42}
    set_faults(client, auth, rule)
    first = statuses(client, 60)
    other = create_app({"DATABASE": ":memory:", "FAULTS": [rule]}).test_client()
    assert statuses(other, 60) == first
    assert 5 <= first.count(503) <= 35  # both outcomes occur: a share, not all or nothing
    set_faults(client, auth, {**rule, "seed": 43})
    assert statuses(client, 60) != first


def test_times_fails_a_fixed_number_of_requests_then_recovers(client, auth):
    set_faults(client, auth, {"kind": "429", "times": 2})
    assert statuses(client, 4) == [429, 429, 200, 200]


def test_rules_apply_in_order_and_filter_on_method_and_path(client, auth, message):
    set_faults(client, auth, {"kind": "503", "methods": ["POST"], "path": "/Communication*"},
               {"kind": "429", "path": "/Patient/*"})
    assert client.get("/Communication", headers=auth).status_code == 200
    assert client.post("/Communication", json=message(), headers=auth).status_code == 503
    assert client.get("/Patient", headers=auth).status_code == 200
    assert client.get("/Patient/anyone", headers=auth).status_code == 429


# -- what is never faulted --------------------------------------------------------------------
def test_token_and_control_are_spared_by_wildcards(client, auth, app):
    set_faults(client, auth, {"kind": "503"})
    assert client.get("/metadata").status_code == 503
    form = grant_form(app.config)
    assert client.post("/auth/token/", data=form).status_code == 200
    assert client.get("/_mock/clock", headers=auth).status_code == 200
    set_faults(client, auth, {"kind": "503", "path": "/auth/token/"})
    assert client.post("/auth/token/", data=form).status_code == 503  # named explicitly: faulted


def test_the_fault_switch_itself_is_never_faulted(client, auth):
    set_faults(client, auth, {"kind": "html500", "path": "/_mock/faults"}, {"kind": "503", "path": "/_mock/*"})
    assert client.get("/_mock/faults", headers=auth).status_code == 200
    assert client.get("/_mock/clock", headers=auth).status_code == 503
    assert client.delete("/_mock/faults", headers=auth).json == {"rules": []}
    assert client.get("/_mock/clock", headers=auth).status_code == 200


# -- the control surface ----------------------------------------------------------------------
def test_faults_are_off_by_default(client, auth):
    assert client.get("/_mock/faults", headers=auth).json == {"rules": []}


def test_the_control_needs_a_token(client):
    answer = client.put("/_mock/faults", json={"rules": [{"kind": "503"}]})
    assert answer.status_code == 401
    assert client.get("/metadata").status_code == 200


def test_post_adds_a_rule_and_get_shows_counters(client, auth):
    assert client.post("/_mock/faults", headers=auth, json={"kind": "503", "every": 3}).status_code == 201
    statuses(client, 3)
    (rule,) = client.get("/_mock/faults", headers=auth).json["rules"]
    assert (rule["kind"], rule["every"], rule["matched"], rule["fired"]) == ("503", 3, 3, 1)


@pytest.mark.parametrize("rule, named", [
    ({"kind": "teapot"}, "kind"),
    ({"kind": "latency"}, "ms"),
    ({"kind": "503", "share": 1.5}, "share"),
    ({"kind": "503", "share": 0.5, "every": 2}, "either every or share"),
    ({"kind": "503", "every": 0}, "every"),
    ({"kind": "503", "retry_after": "soon"}, "retry_after"),
    ({"kind": "503", "path": "Communication"}, "path"),
    ({"kind": "503", "methods": ["GET", 5]}, "methods"),
    ({"kind": "latency", "ms": 5, "after": True}, "after"),
    ({"kind": "503", "colour": "red"}, "colour"),
    ("503", "JSON object"),
])
def test_a_bad_rule_is_refused_naming_the_field(client, auth, rule, named):
    answer = client.put("/_mock/faults", headers=auth, json={"rules": [rule]})
    assert answer.status_code == 400
    assert named in answer.json["issue"][0]["diagnostics"]
    assert client.get("/_mock/faults", headers=auth).json == {"rules": []}  # nothing half-applied


def test_a_body_that_is_not_json_is_refused(client, auth):
    answer = client.put("/_mock/faults", headers=auth, data=b"\xff{", content_type="application/json")
    assert answer.status_code == 400
    assert answer.json["resourceType"] == "OperationOutcome"


# -- the command-line form ----------------------------------------------------------------------
def test_spec_strings_parse_to_rules():
    assert rule_from_spec("503:share=0.2,seed=7,retry-after=2") == FaultRule(
        kind="503", share=0.2, seed=7, retry_after=2)
    assert rule_from_spec("latency:ms=300,path=/Communication*,methods=GET+POST") == FaultRule(
        kind="latency", ms=300, path="/Communication*", methods=("GET", "POST"))
    assert rule_from_spec("drop:every=5,after=true") == FaultRule(kind="drop", every=5, after=True)
    assert rule_from_spec('{"kind": "html500", "times": 1}') == FaultRule(kind="html500", times=1)


@pytest.mark.parametrize("spec", ["teapot", "503:every", "503:every=x", "latency", "{not json"])
def test_bad_spec_strings_are_refused(spec):
    with pytest.raises(FaultError):
        rule_from_spec(spec)


@pytest.mark.slow
@pytest.mark.parametrize("server_kind", ["waitress"])  # granian's drop: the test below
def test_serve_fault_flags_take_effect_at_start_up(serve_process, server_kind):
    server = serve_process("--server", server_kind, "--fault", "503:every=2,retry_after=3,path=/metadata",
                           "--fault", "drop:path=/Patient", db=":memory:")
    base = server.base_url
    got = [requests.get(f"{base}/metadata", timeout=10) for _ in range(2)]
    assert [a.status_code for a in got] == [200, 503]
    assert got[1].headers["Retry-After"] == "3"
    auth = {"Authorization": f"Bearer {fetch_token(base)}"}  # the token endpoint is spared
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{base}/Patient", headers=auth, timeout=10)
    rules = requests.get(f"{base}/_mock/faults", headers=auth, timeout=10).json()["rules"]
    assert [r["kind"] for r in rules] == ["503", "drop"]


@pytest.mark.slow
def test_serve_on_granian_drop_gives_no_usable_answer_and_the_flags_count_across_workers(serve_process):
    """Under granian the app never sees its socket: a drop aborts the answer, at the latest right after
    the status line (see faults._drop); the client never gets a usable answer, and the rules are shared."""
    server = serve_process("--workers", "2", "--fault", "503:every=2,retry_after=3,path=/metadata",
                           "--fault", "drop:path=/Patient", db=":memory:")
    base = server.base_url
    got = [requests.get(f"{base}/metadata", timeout=10) for _ in range(4)]
    assert [a.status_code for a in got] == [200, 503, 200, 503]
    auth = {"Authorization": f"Bearer {fetch_token(base)}"}
    for _ in range(5):
        with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            requests.get(f"{base}/Patient", headers=auth, timeout=10)
    rules = requests.get(f"{base}/_mock/faults", headers=auth, timeout=10).json()["rules"]
    assert [(r["kind"], r["fired"]) for r in rules] == [("503", 2), ("drop", 5)]
    assert "Traceback" not in server.stderr()


@pytest.mark.slow
def test_serve_refuses_a_bad_fault_flag_in_one_line(tmp_path):
    import subprocess


    done = subprocess.run([COMMAND, "serve", "--port", "0",
                           "--db", ":memory:", "--fault", "503:share=2"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--fault" in done.stderr and "share" in done.stderr
