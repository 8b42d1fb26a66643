"""``canvas-conformance diff``: the categories, and the command on real report folders."""
from __future__ import annotations

import json
import os

import pytest

from canvas_conformance import diff
from canvas_conformance.report.writer import write_all


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("passed", "failed", "regression"),
    ("passed", "error", "regression"),
    ("manual", "failed", "regression"),
    ("skipped", "error", "regression"),
    ("failed", "passed", "fixed"),
    ("error", "passed", "fixed"),
    ("failed", "error", "changed"),
    ("error", "failed", "changed"),
    ("failed", "skipped", "changed"),
    ("error", "manual", "changed"),
    ("passed", "skipped", "changed"),
    ("skipped", "passed", "changed"),
    ("manual", "passed", "changed"),
    ("passed", "passed", "unchanged"),
    ("failed", "failed", "unchanged"),
    (None, "failed", "added"),
    (None, "passed", "added"),
    ("passed", None, "removed"),
])
def test_category_of_each_status_pair(old, new, expected):
    assert diff.category(old, new) == expected


def test_a_rule_absent_from_both_runs_has_no_category():
    with pytest.raises(ValueError):
        diff.category(None, None)


@pytest.fixture
def two_reports(tmp_path, scenario, results):
    """OLD and NEW report folders written by the report writer, with every category present.

    OLD's catalogue lacks FHIR-8 and NEW's lacks FHIR-7 (their rows are taken out of the files),
    as when the catalogue changed between two tool versions.
    """
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    write_all(results([
        scenario("passed", ["SENT-1"]),
        scenario("failed", ["SENT-2"], message="sent was not the creation time"),
        scenario("failed", ["RCPT-1"], message="answered 200"),
        scenario("passed", ["RCPT-2"]),
        scenario("passed", ["FHIR-7"]),
    ]), old_dir)
    write_all(results([
        scenario("error", ["SENT-1"], message="ConnectionError: connection dropped"),
        scenario("passed", ["SENT-2"]),
        scenario("error", ["RCPT-1"], message="timed out"),
        scenario("passed", ["RCPT-2"]),
        scenario("failed", ["FHIR-8"], message="no OperationOutcome"),
    ]), new_dir)
    for folder, drop in ((old_dir, "FHIR-8"), (new_dir, "FHIR-7")):
        path = folder / "conformance.json"
        doc = json.loads(path.read_text())
        doc["rules"] = [r for r in doc["rules"] if r["id"] != drop]
        path.write_text(json.dumps(doc))
    return old_dir, new_dir


def test_text_lists_each_category_and_ends_with_the_summary(two_reports, run_command):
    old_dir, new_dir = two_reports
    out = run_command(["diff", str(old_dir), str(new_dir)])
    assert out.code == 1, out.err
    sections = {}
    current = None
    for line in out.out.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            current = line.split(" (")[0]
            sections[current] = []
        elif line.startswith("  ") and current:
            sections[current].append(line.split()[0:4])
    assert sections["Newly failing"] == [["SENT-1", "passed", "->", "error"]]
    assert sections["Fixed"] == [["SENT-2", "failed", "->", "passed"]]
    assert sections["Changed"] == [["RCPT-1", "failed", "->", "error"]]
    assert sections["Added"] == [["FHIR-8", "-", "->", "failed"]]
    assert sections["Removed"] == [["FHIR-7", "passed", "->", "-"]]
    assert "ConnectionError: connection dropped" in out.out  # why the regression fails
    # 30 catalogue rules less one in each run: 29 in NEW, of which 4 moved or are new.
    assert out.out.splitlines()[-1] == "1 newly failing, 1 fixed, 1 changed, 1 added, 1 removed, 25 unchanged"
    assert out.err == ""


def test_json_is_the_documented_object(two_reports, run_command):
    old_dir, new_dir = two_reports
    out = run_command(["diff", str(old_dir / "conformance.json"), str(new_dir), "--format", "json"])
    assert out.code == 1, out.err
    doc = json.loads(out.out)
    assert doc["format"] == "canvas-conformance/diff@1"
    assert doc["has_regressions"] is True
    assert doc["old"]["path"] == str(old_dir / "conformance.json")
    assert doc["new"]["path"] == str(new_dir / "conformance.json")
    assert doc["new"]["started"] == "2026-11-25T12:00:00+00:00"
    assert doc["summary"] == {"regression": 1, "fixed": 1, "changed": 1, "added": 1, "removed": 1, "unchanged": 25}
    assert list(doc["rules"]) == list(diff.CATEGORIES)
    assert doc["rules"]["regression"] == [{"id": "SENT-1", "title": doc["rules"]["regression"][0]["title"],
                                           "old": "passed", "new": "error",
                                           "reason": "ConnectionError: connection dropped"}]
    assert doc["rules"]["regression"][0]["title"]
    assert [(c["id"], c["old"], c["new"]) for c in doc["rules"]["fixed"]] == [("SENT-2", "failed", "passed")]
    assert doc["rules"]["fixed"][0]["reason"] is None
    assert [(c["id"], c["old"], c["new"]) for c in doc["rules"]["added"]] == [("FHIR-8", None, "failed")]
    assert [(c["id"], c["old"], c["new"]) for c in doc["rules"]["removed"]] == [("FHIR-7", "passed", None)]
    assert {c["id"] for c in doc["rules"]["unchanged"]} >= {"RCPT-2", "ID-1"}


def test_no_regression_exits_0(two_reports, run_command):
    old_dir, new_dir = two_reports
    out = run_command(["diff", str(new_dir), str(new_dir)])
    assert out.code == 0, out.err
    assert out.out.splitlines()[-1] == "0 newly failing, 0 fixed, 0 changed, 0 added, 0 removed, 29 unchanged"
    # NEW -> OLD turns SENT-2 from passed into failed: a regression that way round.
    back = run_command(["diff", str(new_dir), str(old_dir), "--format", "json"])
    assert back.code == 1
    assert [c["id"] for c in json.loads(back.out)["rules"]["regression"]] == ["SENT-2"]


def test_a_fixed_only_comparison_exits_0(tmp_path, scenario, results, run_command):
    write_all(results([scenario("failed", ["SENT-2"], message="wrong")]), tmp_path / "a")
    write_all(results([scenario("passed", ["SENT-2"])]), tmp_path / "b")
    out = run_command(["diff", str(tmp_path / "a"), str(tmp_path / "b")])
    assert out.code == 0, out.out
    assert "Fixed (1):" in out.out and "Newly failing" not in out.out


def _bad_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notjson.json").write_text("<html>not json</html>")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "junit.json").write_text(json.dumps({"testsuites": []}))
    (tmp_path / "norules.json").write_text(json.dumps({"format": "canvas-conformance/conformance.json@1",
                                                       "rules": [{"title": "no id"}]}))
    return {
        "missing": (tmp_path / "nowhere", "does not exist"),
        "folder without conformance.json": (tmp_path / "empty", "has no conformance.json"),
        "not JSON": (tmp_path / "notjson.json", "not JSON"),
        "not UTF-8": (tmp_path / "binary.json", "not UTF-8"),
        "another format": (tmp_path / "junit.json", "no format"),
        "rules without ids": (tmp_path / "norules.json", "lack an id or status"),
    }


@pytest.mark.parametrize("case", ["missing", "folder without conformance.json", "not JSON", "not UTF-8",
                                  "another format", "rules without ids"])
@pytest.mark.parametrize("side", ["OLD", "NEW"])
def test_an_input_that_is_not_a_report_is_one_line_and_exit_2(tmp_path, two_reports, run_command, case, side):
    bad, words = _bad_inputs(tmp_path)[case]
    good = two_reports[0]
    argv = ["diff", str(bad), str(good)] if side == "OLD" else ["diff", str(good), str(bad)]
    out = run_command(argv)
    assert out.code == 2
    assert out.out == ""
    assert len(out.err_lines) == 1, out.err
    assert out.err_lines[0].startswith(f"canvas-conformance: {side}: ")
    assert words in out.err_lines[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_exit_2(two_reports, run_command):
    path = two_reports[0] / "conformance.json"
    path.chmod(0)
    out = run_command(["diff", str(path), str(two_reports[1])])
    assert out.code == 2
    assert "cannot read" in out.err_lines[0]


def test_a_conformance_json_that_cannot_be_read_is_exit_2(tmp_path, two_reports, run_command):
    (tmp_path / "odd" / "conformance.json").mkdir(parents=True)  # a folder where the file should be
    out = run_command(["diff", str(two_reports[0]), str(tmp_path / "odd")])
    assert out.code == 2
    assert len(out.err_lines) == 1
    assert out.err_lines[0].startswith("canvas-conformance: NEW: cannot read ")


def test_a_bad_format_choice_is_argparse_exit_2(two_reports, run_command):
    out = run_command(["diff", str(two_reports[0]), str(two_reports[1]), "--format", "xml"])
    assert out.code == 2
    assert len(out.err_lines) == 1
