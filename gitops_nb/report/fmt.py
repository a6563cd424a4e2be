"""Text forms shared by the exporters: field values, timestamps, durations, commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd

from gitops_nb.history.frames import to_json, to_utc
from gitops_nb.model import format_time

ABSENT = "(absent)"


def value_text(value: Any, *, none: str = ABSENT) -> str:
    """A field value as one string: strings unchanged, everything else as compact JSON."""
    if value is None:
        return none
    return to_json(value)


def ts_text(value: Any) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` for a timestamp, datetime or ISO string; "" when missing."""
    ts = to_utc(value)
    if pd.isna(ts):
        return ""
    return format_time(ts)


def iso_now(now: datetime | None) -> str:
    """``now`` (default: the current time) as an ISO UTC string."""
    return ts_text(now if now is not None else pd.Timestamp.now(tz="UTC"))


DurationStyle = Literal["brief", "fixed", "clock"]


def duration_text(
    value: float | timedelta | None, *, style: DurationStyle = "brief", missing: str = ""
) -> str:
    """A duration in seconds (or a timedelta) as text; ``missing`` for None/NaN/NaT.

    - ``brief`` (reports): rounded to the second, zero parts left out, seconds only under a
      day: ``2d 1h``, ``3h 1m``, ``59s``, ``0s``.
    - ``fixed`` (the fleet table): truncated to the second, every part from the largest down
      to minutes, seconds only under an hour: ``1d 0h 5m``, ``2h 0m``, ``0m 5s``.
    - ``clock`` (CLI tables): truncated, no days, two-digit minutes or seconds:
      ``27h05m``, ``3h00m``, ``4m07s``.
    """
    if value is None or pd.isna(value):
        return missing
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    total = round(seconds) if style == "brief" else int(seconds)
    if style == "clock":
        hours, rest = divmod(total, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if style == "fixed":
        if days:
            return f"{days}d {hours}h {minutes}m"
        return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s"
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs and not days:
        parts.append(f"{secs}s")
    return " ".join(parts) or "0s"


def percent_text(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.0f}%"
