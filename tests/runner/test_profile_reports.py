"""Every report format names the profile the run was judged by, and a rule outside that profile is not
judged: no row, no count, no failure under --strict, in no file; a --tags naming one says so."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from fhir.resources.R4B import testreport as fhir_testreport

from canvas_conformance import catalogue, config, diff
from canvas_conformance.report import conformance_json
from canvas_conformance.report.writer import write_all
from canvas_conformance.results_plugin import provenance
from canvas_conformance.summary import print_summary

CURRENT, V1 = "canvas-current", "canvas-2022"


def _provenance(profile: str) -> dict:
    return provenance(config.resolve([config.env_layer({"CANVAS_PROFILE": profile})]))


@pytest.fixture
def current_run(scenario, results):
    """A canvas-current results file holding, beside its own rules' scenarios, scenarios of rules the
    profile does not have (PAY-4, UI-2), failing: a --suite of its own could have run them."""
    doc = results([
        scenario("passed", ["STAT-1"], name="status is required"),
        scenario("failed", ["SENT-2"], message="sent was not the creation time"),
        scenario("failed", ["PAY-4"], name="content is accepted", message="content was refused"),
        scenario("manual", ["UI-2"], name="the draft caption", message="MANUAL: look", exchanges=[],
                 tags=["UI-2", "documented", "ui"]),
        scenario("failed", ["PAY-4", "PAY-2"], name="both payload forms", message="refused"),
    ])
    doc["provenance"] = _provenance(CURRENT)
    return doc


def test_every_report_file_names_the_profile(tmp_path, current_run, capsys):
    written = write_all(current_run, tmp_path)
    conformance = json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))
    assert conformance["profile"] == conformance["provenance"]["profile"] == CURRENT
    assert conformance["source"] == catalogue.source(CURRENT)

    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    header = page[page.index("<header>"):page.index("</header>")]
    assert f"<dt>Profile</dt><dd>{CURRENT}: " in header

    props = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "junit.xml").getroot().iter("property")}
    assert props["profile"] == CURRENT

    features = json.loads((tmp_path / "cucumber.json").read_text(encoding="utf-8"))
    assert features and all({"name": f"@profile:{CURRENT}", "line": 1} in f["tags"] for f in features)
    assert all(CURRENT in f["description"] for f in features)

    report = json.loads((tmp_path / "testreport.json").read_text(encoding="utf-8"))
    fhir_testreport.TestReport.model_validate(report)
    assert f"profile {CURRENT}" in report["testScript"]["display"] and f"profile {CURRENT}" in report["text"]["div"]
    parts = {e["url"]: e for e in report["extension"][0]["extension"]}
    assert parts["profile"]["valueString"] == CURRENT

    print_summary(written, tmp_path, base_url="http://127.0.0.1:5999", embedded=False)
    first = capsys.readouterr().out.splitlines()[0]
    assert f"{len(catalogue.rules(CURRENT))} rules of profile {CURRENT}" in first


def test_a_results_file_without_provenance_still_names_its_profile(tmp_path, results, scenario):
    write_all(results([scenario("passed", ["SENT-1"])]), tmp_path)
    assert json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))["profile"] == V1
    props = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "junit.xml").getroot().iter("property")}
    assert props["profile"] == V1
    assert f"<dt>Profile</dt><dd>{V1}: " in (tmp_path / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("strict", [False, True])
def test_rules_outside_the_profile_are_neither_judged_nor_counted(tmp_path, current_run, strict):
    written = write_all(current_run, tmp_path, strict=strict)
    conformance = json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))
    ids = [r["id"] for r in conformance["rules"]]
    assert ids == [r.id for r in catalogue.rules(CURRENT)]
    assert not {"PAY-4", "UI-2", "UI-3"} & set(ids)
    assert conformance["unmatched_scenarios"] == []
    assert conformance["summary"]["scenarios"]["total"] == 2  # STAT-1 and SENT-2 only
    everything = json.dumps(conformance) + (tmp_path / "junit.xml").read_text(encoding="utf-8") + \
        (tmp_path / "cucumber.json").read_text(encoding="utf-8") + (tmp_path / "testreport.json").read_text("utf-8")
    for name in ("content is accepted", "the draft caption", "both payload forms"):
        assert name not in everything
    failing = conformance["failing"]
    assert "SENT-2" in failing and not {"PAY-4", "UI-2"} & set(failing)
    if strict:  # the canvas-current rules no scenario checked fail a strict run; PAY-4 and UI-2 never
        assert "STAT-2" in failing
    assert list(written.failing) == failing


def test_the_schema_knows_every_profile():
    schema = json.loads(conformance_json.SCHEMA_FILE.read_text(encoding="utf-8"))
    assert tuple(schema["properties"]["profile"]["enum"]) == catalogue.PROFILES
    prov = next(a for a in schema["properties"]["provenance"]["anyOf"] if "properties" in a)
    assert tuple(prov["properties"]["profile"]["enum"]) == catalogue.PROFILES


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_listing_names_the_profile_and_only_its_rules(run_command, fmt):
    out = run_command(["run", "--list", "--profile", CURRENT, *(["--format", "json"] if fmt == "json" else [])])
    assert out.code == 0, out.err
    if fmt == "json":
        doc = json.loads(out.out)
        assert doc["profile"] == CURRENT
        assert [r["id"] for r in doc["rules"]] == [r.id for r in catalogue.rules(CURRENT)]
    else:
        assert out.out.splitlines()[0].startswith(f"profile {CURRENT}: ")
        listed = {line.split()[0] for line in out.out.splitlines()[1:] if line[:1].isalpha() and "-" in line.split()[0]}
        assert "PAY-4" not in listed and "STAT-1" in listed


@pytest.mark.parametrize(("profile", "tags", "rule", "owner"), [
    (CURRENT, "PAY-4", "PAY-4", V1),
    (CURRENT, "SENT-1 or UI-2", "UI-2", V1),
    (V1, "STAT-1", "STAT-1", CURRENT),
])
def test_tags_naming_another_profiles_rule_say_so_in_one_line(run_command, profile, tags, rule, owner):
    out = run_command(["run", "--list", "--profile", profile, "--tags", tags])
    assert out.code == 2
    assert len(out.err_lines) == 1, out.err
    line = out.err_lines[0]
    assert f"{rule} is not a rule of profile {profile}" in line and owner in line and "unknown" not in line


def test_an_unknown_tag_is_still_unknown(run_command):
    out = run_command(["run", "--list", "--profile", CURRENT, "--tags", "PAY-99"])
    assert out.code == 2 and "unknown tag(s): PAY-99" in out.err


def test_diff_of_two_profiles_says_so(tmp_path, scenario, results, run_command):
    old, new = results([scenario("passed", ["SENT-1"]), scenario("passed", ["PAY-4"])]), \
        results([scenario("passed", ["SENT-1"]), scenario("passed", ["STAT-1"])])
    new["provenance"] = _provenance(CURRENT)
    write_all(old, tmp_path / "old")
    write_all(new, tmp_path / "new")
    text = run_command(["diff", str(tmp_path / "old"), str(tmp_path / "new")])
    lines = text.out.splitlines()
    assert lines[0].endswith(f"profile {V1})") and lines[1].endswith(f"profile {CURRENT})")
    assert lines[2].startswith(f"profiles differ: OLD was judged by {V1}, NEW by {CURRENT}")
    assert any(ln.strip().startswith("PAY-4") for ln in lines) and any(ln.strip().startswith("STAT-1") for ln in lines)
    doc = json.loads(run_command(["diff", "--format", "json", str(tmp_path / "old"), str(tmp_path / "new")]).out)
    assert doc["same_profile"] is False and (doc["old"]["profile"], doc["new"]["profile"]) == (V1, CURRENT)
    assert {c["id"] for c in doc["rules"]["removed"]} >= {"PAY-4", "UI-2", "UI-3"}
    assert {c["id"] for c in doc["rules"]["added"]} >= {"STAT-1", "FHIR-9"}


def test_diff_of_one_profile_says_nothing_about_profiles(tmp_path, scenario, results):
    for side in ("old", "new"):
        write_all(results([scenario("passed", ["SENT-1"])]), tmp_path / side)
    d = diff.compare(diff.load_report(tmp_path / "old", label="OLD"), diff.load_report(tmp_path / "new", label="NEW"))
    assert diff.profiles_line(d) is None and "profiles differ" not in diff.render_text(d)


def test_rerunning_a_report_of_another_profile_says_so(tmp_path, current_run, run_command):
    write_all(current_run, tmp_path / "current")
    out = run_command(["run", "--rerun-failed", str(tmp_path / "current"), "--profile", V1])
    assert out.code == 2 and len(out.err_lines) == 1, out.err
    assert f"was judged by profile {CURRENT}, this run by {V1}: run again with --profile {CURRENT}" in out.err
