"""http_dates.py: the HTTP date forms RFC 9110 has a recipient accept, and nothing else (table-driven)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from canvas_conformance.http_dates import parse_http_date

NOV_6 = datetime(1994, 11, 6, 8, 49, 37, tzinfo=timezone.utc)

READ = [
    pytest.param("Sun, 06 Nov 1994 08:49:37 GMT", NOV_6, id="IMF-fixdate"),
    pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", NOV_6, id="obsolete RFC 850"),
    pytest.param("Sun Nov  6 08:49:37 1994", NOV_6, id="obsolete asctime, no zone: UTC"),
    pytest.param("Sun, 06 Nov 1994 08:49:37 UTC", NOV_6, id="UTC spelt out"),
    pytest.param("Sun, 06 Nov 1994 10:49:37 +0200", NOV_6, id="numeric offset"),
    pytest.param("Sun, 06 Nov 1994 08:49:37 -0000", NOV_6, id="-0000: no zone, taken as UTC"),
    pytest.param("  Sun, 06 Nov 1994 08:49:37 GMT  ", NOV_6, id="surrounding blanks"),
]

UNREAD = [None, 0, 1.5, {}, [], b"Sun, 06 Nov 1994 08:49:37 GMT", "", "   ", "120", "soon",
          "1994-11-06T08:49:37Z", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
          "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 99999 08:49:37 GMT", "1 2 3 4 5 6 7"]


@pytest.mark.parametrize("value, moment", READ)
def test_an_http_date_reads_as_an_aware_datetime(value, moment):
    parsed = parse_http_date(value)
    assert parsed == moment
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize("value", UNREAD)
def test_anything_else_reads_as_none(value):
    assert parse_http_date(value) is None


def test_the_offset_is_kept_not_dropped():
    assert parse_http_date("Sun, 06 Nov 1994 10:49:37 +0200").utcoffset() == timedelta(hours=2)
