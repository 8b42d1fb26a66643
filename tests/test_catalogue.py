"""The project's catalogue keeps step with ../shared/spec/rules.md (when that file is there)."""
import re
from pathlib import Path

import pytest

from canvas_conformance import catalogue

RULES_MD = Path(__file__).resolve().parents[2] / "shared" / "spec" / "rules.md"


def test_catalogue_rows_are_complete():
    rules = catalogue.rules()
    assert len({r.id for r in rules}) == len(rules)
    for r in rules:
        assert r.kind in ("documented", "inferred")
        assert r.surface in ("api", "ui")
        assert r.section and r.title
        assert r.surface == ("ui" if r.id.startswith("UI-") else "api")


@pytest.mark.skipif(not RULES_MD.exists(), reason="../shared/spec/rules.md is not beside this checkout")
def test_catalogue_matches_the_rules_page():
    rows = re.findall(r"^\| ([A-Z]+-[0-9]+) \| (documented|inferred) \|", RULES_MD.read_text(), re.M)
    assert [(r.id, r.kind) for r in catalogue.rules()] == rows
