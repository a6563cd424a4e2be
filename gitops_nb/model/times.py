"""The one time parser and the one formatter of a time to the second (UTC)."""

from __future__ import annotations

import datetime as dt

EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)
"""Where a record without a start time sorts: before every other run."""


def parse_time(value: str | None) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive means UTC); None if empty.

    The one time parser: records, history frames (``history.frames.to_utc``), reports, the
    notebooks and the CLI all read times through it.
    """
    if not value:
        return None
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


#: the "when" of a field manager that wrote without a timestamp (``kubectl scale``)
TIME_UNKNOWN = "time unknown"


def format_time(t: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC (naive means UTC): how records, Events and reports
    write a time to the second."""
    t = t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
