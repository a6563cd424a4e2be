"""Text forms shared by the exporters: field values, timestamps, durations, commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


def duration_text(seconds: float | None) -> str:
    """``1d 2h 3m`` style; "" for ``None``."""
    if seconds is None or pd.isna(seconds):
        return ""
    total = round(float(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
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
