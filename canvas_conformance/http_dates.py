"""HTTP dates (RFC 9110 5.6.7), read the one way the whole harness reads them.

Why one parser: the same header value is read for a ``Retry-After`` (how long to wait)
and for a ``Date`` (when the target says it created a message); read two ways, a date
one reader accepts could be ignored by the other.

Read: the preferred IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``) and the obsolete
forms RFC 9110 says a recipient accepts (RFC 850, asctime), as ``email.utils`` reads
them. A date without a zone is taken as UTC, as HTTP dates always are. Anything else
(absent, empty, not text, unreadable) is None: ``parse_http_date`` never raises.
"""
from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


def parse_http_date(value: object) -> datetime | None:
    """``value`` as an aware datetime, or None when it is no HTTP date."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
