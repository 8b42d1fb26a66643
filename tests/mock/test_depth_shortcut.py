"""parse_body walks a document for its depth only when it has more brackets than the limit (FHIR-1).

Every object or array opens with a bracket, so a body with few brackets cannot nest deeper than
their number; these cases sit on either side of the limit, brackets inside strings included.
"""
from __future__ import annotations

import pytest

from mock_server.outcome import FhirError
from mock_server.validation import parse_body

LIMIT = 32


@pytest.mark.parametrize("raw, too_deep", [
    (b"[" * LIMIT + b"]" * LIMIT, False),
    (b"[" * (LIMIT + 1) + b"]" * (LIMIT + 1), True),
    (b'{"a":' * (LIMIT - 1) + b"[]" + b"}" * (LIMIT - 1), False),
    (b'{"a":' * LIMIT + b"[]" + b"}" * LIMIT, True),
    (b'{"text": "' + b"[{" * 100 + b'"}', False),  # many brackets, all in a string: walked, shallow
    (b'[{"t": "[[[["}' + b"]", False),
])
def test_the_limit_holds_on_both_sides(raw, too_deep):
    if too_deep:
        with pytest.raises(FhirError) as refused:
            parse_body("application/fhir+json", raw, max_depth=LIMIT)
        assert refused.value.status == 400 and "nested deeper" in refused.value.issues[0].text
    else:
        parse_body("application/fhir+json", raw, max_depth=LIMIT)
