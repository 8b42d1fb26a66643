"""Every report says what its verdicts rest on: the tool version, the catalogue edition and digest,
the profile, the explored cases' seed and depth, and the digest of the features and steps that ran
(saying when --suite replaced the shipped ones)."""
from __future__ import annotations

import argparse
import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from fhir.resources.R4B import testreport as fhir_testreport

from canvas_conformance import catalogue, config
from canvas_conformance.config import ConfigError, resolve
from canvas_conformance.report.writer import write_all
from canvas_conformance.results_plugin import provenance, suite_digest

HEX64 = r"^[0-9a-f]{64}$"


def settings(**env: str) -> config.RunConfig:
    return resolve([config.env_layer(env)])


def test_the_run_configuration_has_depth_and_seed_with_fixed_defaults():
    default = settings()
    assert (default.depth, default.seed) == ("standard", config.DEFAULT_SEED)
    assert (settings(CANVAS_DEPTH="Thorough", CANVAS_SEED="7").depth, settings(CANVAS_SEED="7").seed) == ("thorough", 7)
    parser = argparse.ArgumentParser()
    config.add_arguments(parser)
    args = parser.parse_args(["--depth", "quick", "--seed", "99"])
    chosen = config.from_command_line(args, {"CANVAS_DEPTH": "thorough", "CANVAS_SEED": "1"})
    assert (chosen.depth, chosen.seed) == ("quick", 99)  # a flag wins over its variable
    assert config.RunConfig.from_json(chosen.to_json()) == chosen


@pytest.mark.parametrize("env, words", [
    ({"CANVAS_DEPTH": "deep"}, ["--depth or CANVAS_DEPTH", "quick, standard, thorough"]),
    ({"CANVAS_SEED": "-1"}, ["--seed or CANVAS_SEED", "whole number"]),
    ({"CANVAS_SEED": "1.5"}, ["--seed or CANVAS_SEED"]),
    ({"CANVAS_SEED": "²"}, ["--seed or CANVAS_SEED"]),
])
def test_a_bad_depth_or_seed_is_one_clear_line(env, words):
    with pytest.raises(ConfigError) as caught:
        settings(**env)
    line = str(caught.value)
    assert "\n" not in line and all(w in line for w in words), line


def test_provenance_names_the_shipped_suite_and_its_digest():
    p = provenance(settings(CANVAS_SEED="5", CANVAS_DEPTH="quick"))
    assert p["tool_version"] == "0.1.0" and p["profile"] == "canvas-2022"
    assert (p["seed"], p["depth"]) == (5, "quick")
    assert p["catalogue"]["edition"] == "mid-2022" and p["catalogue"]["rules"] == len(catalogue.rules())
    assert p["catalogue"]["sha256"] == catalogue.edition()["sha256"]
    assert p["suite"]["shipped"] is True and p["suite"]["source"] == "shipped with the tool"
    assert p["suite"]["sha256"] == suite_digest(config.ROOT)["sha256"]
    assert p["suite"]["files"] == len(list(config.ROOT.glob("features/*.feature"))) + \
        len(list(config.ROOT.glob("steps/**/*.py")))


def test_a_replaced_suite_is_named_and_any_change_to_it_changes_the_digest(tmp_path):
    copy = tmp_path / "suite"
    shutil.copytree(config.ROOT / "features", copy / "features")
    shutil.copytree(config.ROOT / "steps", copy / "steps", ignore=shutil.ignore_patterns("__pycache__"))
    same = provenance(settings(CANVAS_SUITE=str(copy)))["suite"]
    assert same["shipped"] is False and same["source"] == f"--suite {copy}"
    assert same["sha256"] == suite_digest(config.ROOT)["sha256"], "the same files give the same digest"
    feature = copy / "features" / "sender.feature"
    feature.write_text(feature.read_text(encoding="utf-8").replace("refused", "refused!", 1), encoding="utf-8")
    assert suite_digest(copy)["sha256"] != same["sha256"]
    (copy / "features" / "sender.feature").rename(copy / "features" / "sender2.feature")
    assert suite_digest(copy)["sha256"] not in (same["sha256"],)


def test_every_report_file_carries_the_provenance(tmp_path, results, every_status):
    doc = results(every_status)
    doc["provenance"] = provenance(settings(CANVAS_SEED="31337", CANVAS_DEPTH="thorough"))
    write_all(doc, tmp_path)  # conformance.json is checked against its schema as it is built (conftest)
    conformance = json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))
    assert conformance["provenance"] == doc["provenance"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    header = page[page.index("<header>"):page.index("</header>")]
    for shown in ("canvas-2022", "seed 31337, depth thorough", doc["provenance"]["suite"]["sha256"],
                  doc["provenance"]["catalogue"]["sha256"], "mid-2022"):
        assert shown in header, shown
    props = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "junit.xml").getroot().iter("property")}
    assert props["seed"] == "31337" and props["depth"] == "thorough" and props["profile"] == "canvas-2022"
    assert props["suite_sha256"] == doc["provenance"]["suite"]["sha256"] and props["suite_shipped"] == "true"
    report = json.loads((tmp_path / "testreport.json").read_text(encoding="utf-8"))
    fhir_testreport.TestReport.model_validate(report)
    parts = {e["url"]: e for e in report["extension"][0]["extension"]}
    assert parts["seed"]["valueString"] == "31337" and parts["suiteShipped"]["valueBoolean"] is True
    assert parts["catalogueSha256"]["valueString"] == doc["provenance"]["catalogue"]["sha256"]


def test_a_results_file_without_provenance_still_reports(tmp_path, results, every_status):
    write_all(results(every_status), tmp_path)
    assert json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))["provenance"] == {}
    assert "Explored cases" not in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_suite_writes_its_provenance_into_results_json(run_suite):
    run = run_suite({"CANVAS_SEED": "11", "CANVAS_DEPTH": "quick"}, marks="SNDR-1")
    p = run.results["provenance"]
    assert (p["seed"], p["depth"], p["profile"]) == (11, "quick", "canvas-2022")
    assert p["suite"]["shipped"] is True and p["suite"]["sha256"] == suite_digest(config.ROOT)["sha256"]
    explored = next(r for r in run.rows if r["name"].endswith("(explored)"))
    assert explored["status"] == "passed"
    assert any("seed 11" in n and "depth quick" in n for n in explored["notes"])


def test_the_terminal_summary_prints_the_seed_and_depth(tmp_path, results, every_status, capsys):
    from canvas_conformance.summary import print_summary

    doc = results(every_status)
    doc["provenance"] = provenance(settings(CANVAS_SEED="424242"))
    written = write_all(doc, tmp_path)
    print_summary(written, tmp_path, base_url="http://127.0.0.1:5999", embedded=False)
    lines = capsys.readouterr().out.splitlines()
    assert "  explored:   seed 424242, depth standard (the same seed draws the same cases)" in lines
