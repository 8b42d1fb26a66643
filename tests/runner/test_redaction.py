"""No secret in any report file: planted in headers, bodies, URLs, messages, notes, names."""
import base64
import json
from urllib.parse import quote, quote_plus

from canvas_conformance.redact import MASK, harvest, redact
from canvas_conformance.report.writer import REPORT_FILES, scrub_file, write_all

SECRET = "s3cret/with+odd&chars=="
TOKEN = "harvested-only-token-5c1d9e7a"  # never handed to the writer: found in the exchanges


def _every_spelling(value):
    return {value, quote(value, safe=""), quote_plus(value)}


def test_no_secret_anywhere_in_the_report_folder(tmp_path, results, scenario, exchange):
    token_answer = exchange("get a token", url="http://127.0.0.1:5999/auth/token/", request_headers={
        "Content-Type": "application/x-www-form-urlencoded"},
        request_body=f"grant_type=client_credentials&client_id=me&client_secret={quote_plus(SECRET)}",
        response_body=json.dumps({"access_token": TOKEN, "token_type": "Bearer"}), status=200)
    echo = exchange(f"echo of {SECRET}", method="GET", url=f"http://127.0.0.1:5999/Communication?access_token={TOKEN}",
                    request_headers={"Authorization": f"Bearer {TOKEN}"},
                    response_headers={"X-Echo": f"token {TOKEN} secret {SECRET}", "Set-Cookie": "session=abc"},
                    response_body=f"<p>you sent {SECRET} and {quote(SECRET, safe='')}</p>")
    s = scenario("failed", ["FHIR-3"], message=f"401 for Bearer {TOKEN}", notes=[f"secret was {SECRET}"],
                 exchanges=[token_answer, echo])
    out = tmp_path / "report"
    write_all(results([s]), out, secrets=[SECRET])
    files = list(out.iterdir())
    assert sorted(p.name for p in files) == sorted(REPORT_FILES)  # every report file is checked below
    for path in files:
        text = path.read_text()
        for planted in _every_spelling(SECRET) | _every_spelling(TOKEN):
            assert planted not in text, (path.name, planted)
        assert MASK in text, path.name
    doc = json.loads((out / "conformance.json").read_text())
    recorded = doc["rules"][[r["id"] for r in doc["rules"]].index("FHIR-3")]["scenarios"][0]["exchanges"]
    assert recorded[1]["request_headers"]["Authorization"] == f"Bearer {MASK}"
    assert recorded[1]["response_headers"]["Set-Cookie"] == MASK
    assert json.loads(recorded[0]["response_body"])["token_type"] == "Bearer"  # the rest stays readable


def test_harvest_finds_credentials_where_they_travel():
    basic = base64.b64encode(b"me:pw-basic-123").decode()
    found = harvest({
        "request_headers": {"Authorization": "Bearer tok-from-header-1"},
        "other": {"authorization": f"Basic {basic}"},
        "response_body": json.dumps({"access_token": "tok-from-json-2", "refresh_token": "refresh-3-xyz",
                                     "expires_in": 3600}),
        "request_body": "grant_type=client_credentials&client_secret=form-secret-4",
        "url": "https://x.test/cb?access_token=tok-in-url-5&state=1",
        "nested": [{"client_secret": "dict-secret-6"}],
        "short": {"access_token": "abc"},  # too short to mask safely everywhere
        "already": {"access_token": MASK},
    })
    assert found == {"tok-from-header-1", basic, "tok-from-json-2", "refresh-3-xyz", "form-secret-4",
                     "tok-in-url-5", "dict-secret-6"}


def test_redact_masks_plain_url_and_html_spellings():
    secret = 'a&b<c>"d'
    text = f"{secret} {quote(secret, safe='')} {quote_plus(secret)} a&amp;b&lt;c&gt;&quot;d"
    assert redact(text, [secret]) == " ".join([MASK] * 4)
    assert redact({"k": (secret, [secret])}, [secret]) == {"k": (MASK, [MASK])}
    assert redact("abc ordinary", ["abc"]) == "abc ordinary"  # too short to be a secret


def test_scrub_file_cleans_what_the_suite_wrote(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"scenarios": [{"exchanges": [{
        "response_body": json.dumps({"access_token": TOKEN}), "request_body": f"client_secret={SECRET}"}]}],
        "echo": f"{TOKEN}"}))
    scrub_file(path, [SECRET])
    text = path.read_text()
    assert TOKEN not in text and quote_plus(SECRET) not in text and SECRET not in text
    json.loads(text)


# -- escaped spellings (issue 14) ----------------------------------------------------------------

ODD = "odd/secret'with\\back\"slash-9c2e"
SLASHED_TOKEN = "tok/with/slashes-5b7e0a1c"


def _escaped_forms(value):
    as_json = json.dumps(value)[1:-1]
    return _every_spelling(value) | {as_json, as_json.replace("/", "\\/"), repr(value)[1:-1],
                                     repr(as_json)[1:-1], value.replace("\\", "\\\\").replace("'", "\\'")}


def test_a_secret_echoed_in_escaped_spellings_is_masked_in_every_report_file(tmp_path, results, scenario, exchange):
    # the token only in a JSON body with "\/" escapes, and once more with every character \u-escaped: a
    # writer that pretty-prints (report.html) decodes both back to the token itself
    unicode_escaped = "".join(f"\\u{ord(c):04x}" for c in SLASHED_TOKEN)
    echoed = '{"resourceType": "OperationOutcome", "echo": "%s", "again": "%s", "issue": []}' % (
        SLASHED_TOKEN.replace("/", "\\/"), unicode_escaped)
    x = exchange("echo", method="GET", url="http://127.0.0.1:5999/Communication", status=400,
                 response_body=echoed, response_headers={"Content-Type": "application/fhir+json"})
    # the secret as Python quotes it (a check's message, pytest's output) and as JSON quotes it
    s = scenario("failed", ["FHIR-2"], message=f"[FHIR-2] expected a code, got {json.dumps(ODD)!r} and {ODD!r}",
                 exchanges=[x])
    out = tmp_path / "report"
    write_all(results([s]), out, secrets=[ODD, SLASHED_TOKEN])
    for path in out.iterdir():
        text = path.read_text()
        for planted in _escaped_forms(ODD) | _escaped_forms(SLASHED_TOKEN):
            assert planted not in text, (path.name, planted)
    assert "echo" in (out / "report.html").read_text()


def test_redact_masks_json_python_and_decoded_spellings():
    assert redact('{"a": "x\\/y\\/secret-1"}', ["x/y/secret-1"]) == '{"a": "[REDACTED]"}'
    escaped = "".join(f"\\u{ord(c):04x}" for c in "token-abcdef")
    assert redact('{"a": "%s", "b": 1}' % escaped, ["token-abcdef"]) == '{"a": "[REDACTED]", "b": 1}'
    assert redact(repr("it's\\a-secret"), ["it's\\a-secret"]) == '"[REDACTED]"'
    assert redact(repr(json.dumps({"k": 'q"uo\\te'})), ['q"uo\\te']).count(MASK) == 1
    assert redact("x%2fy%2fsecret-1", ["x/y/secret-1"]) == MASK  # lower-case percent-encoding
    assert redact('{"a": "plain \\n text"}', ["secret-absent"]) == '{"a": "plain \\n text"}'  # untouched
