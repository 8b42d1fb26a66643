"""The project's catalogue keeps step with the shared rules pages (when they are there):
``../shared/spec/rules.md`` for canvas-2022 and ``../shared/spec/canvas-current.md`` for canvas-current."""
import re
from pathlib import Path

import pytest

from canvas_conformance import catalogue

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec"
RULES_MD = SPEC / "rules.md"
CURRENT_MD = SPEC / "canvas-current.md"

# Where the project's catalogue deliberately differs from canvas-current.md, because Canvas's v2 pages say
# otherwise (sources in /work/notes/current-findings.md and in each rule's canvas-current `section`):
# rule ID -> (what the shared page says, what the catalogue holds). "absent" = not in the profile.
CURRENT_CORRECTIONS = {
    # communication.md says nothing about several payload elements (payload is an array with contentString
    # required); "only the first is saved" is the 2022 page's text alone, so the rule is carried over.
    "PAY-2": ("documented", "inferred"),
    # errors.md: "401 - Unauthorized | No valid Bearer token provided.", and every v2 endpoint lists 401 with
    # its OperationOutcome: the rule is stated by the v2 docs.
    "FHIR-3": ("inferred", "documented"),
}


def test_catalogue_rows_are_complete():
    for profile in catalogue.PROFILES:
        rules = catalogue.rules(profile)
        assert len({r.id for r in rules}) == len(rules)
        for r in rules:
            assert r.kind in ("documented", "inferred")
            assert r.surface in ("api", "ui")
            assert r.section and r.title
            assert r.surface == ("ui" if r.id.startswith(("UI-", "RECV-3")) else "api"), r.id


def test_every_profile_names_its_sources():
    for profile in catalogue.PROFILES:
        info = catalogue.profile_info(profile)
        assert info.source and info.source_title and info.edition and info.api
    assert any("communication" in s for s in catalogue.profile_info("canvas-current").sources)


@pytest.mark.skipif(not RULES_MD.exists(), reason="../shared/spec/rules.md is not beside this checkout")
def test_catalogue_matches_the_rules_page():
    rows = re.findall(r"^\| ([A-Z]+-[0-9]+) \| (documented|inferred) \|", RULES_MD.read_text(), re.M)
    assert [(r.id, r.kind) for r in catalogue.rules("canvas-2022")] == rows


def _kind(cell: str) -> str:
    """A kind cell of canvas-current.md: 'documented', '**documented**', 'documented, open', 'inferred',
    'not in this profile' -> documented | inferred | absent."""
    cell = cell.replace("*", "").strip().lower()
    if cell.startswith("not in"):
        return "absent"
    kind = cell.split(",")[0].strip()
    assert kind in ("documented", "inferred"), cell
    return kind


def _table(text: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after ``## <heading>``, as lists of cells."""
    part = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in part.splitlines() if line.startswith("|")]
    return [r for r in rows[2:]]  # header and separator first


def _current_page() -> tuple[dict[str, str], dict[str, str]]:
    """canvas-current.md as {rule ID: kind or 'absent'} and {new rule ID: surface}."""
    text = CURRENT_MD.read_text(encoding="utf-8")
    kinds, surfaces = {}, {}
    for ids, kind, *_ in _table(text, "How the 2022 rules apply"):
        for rule_id in re.findall(r"[A-Z]+-[0-9]+", ids):
            kinds[rule_id] = _kind(kind)
    for rule_id, kind, surface, *_ in _table(text, "New rules"):
        assert rule_id not in kinds, f"{rule_id} is in both tables"
        kinds[rule_id], surfaces[rule_id] = _kind(kind), surface
    return kinds, surfaces


@pytest.mark.skipif(not CURRENT_MD.exists(), reason="../shared/spec/canvas-current.md is not beside this checkout")
def test_catalogue_matches_the_current_page():
    page, surfaces = _current_page()
    ours = {r.id: r.kind for r in catalogue.rules("canvas-current")}
    every = set(catalogue.all_rule_ids())
    assert set(page) == every, "each catalogue rule is in one of the page's two tables, and no other"
    for rule_id, (said, held) in CURRENT_CORRECTIONS.items():
        assert page[rule_id] == said, f"{rule_id}: the page now says {page[rule_id]}; revisit the correction"
        page[rule_id] = held
    assert {i: k for i, k in page.items() if k != "absent"} == ours
    for rule_id, surface in surfaces.items():
        assert catalogue.surface(rule_id) == surface, rule_id


@pytest.mark.skipif(not CURRENT_MD.exists(), reason="../shared/spec/canvas-current.md is not beside this checkout")
def test_the_current_page_table_reader_reads_every_kind_spelling():
    page, _ = _current_page()
    assert page["FHIR-5"] == page["FHIR-7"] == "documented"  # **documented**
    assert page["RCPT-3"] == "documented"  # documented, open
    assert page["PAY-4"] == page["UI-2"] == page["UI-3"] == "absent"
    assert page["SENT-3"] == "inferred"
    assert len(page) == len(catalogue.all_rule_ids())
