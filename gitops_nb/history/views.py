"""Drift before deployments, open drift first: the order every output shows them in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from gitops_nb.model import TIME_UNKNOWN

#: columns holding a field manager's write time (``history.drift``'s ``time``, an
#: episode's ``changed_at``), next to its ``manager``
WHEN_COLUMNS = ("time", "changed_at")


def episodes_view(intervals: pd.DataFrame) -> pd.DataFrame:
    """Drift episodes with the open ones first, each group by first sighting."""
    if intervals.empty:
        return intervals
    order = intervals.assign(_closed=~intervals["open"].astype(bool))
    order = order.sort_values(["_closed", "first_seen"], kind="stable")
    return order.drop(columns="_closed").reset_index(drop=True)


def when_labels(
    df: pd.DataFrame, column: str, fmt: Callable[[pd.Timestamp], str] = str
) -> pd.Series:
    """``df[column]`` (a manager's write time) as text: ``fmt(time)``, ``time unknown``
    when a manager wrote without a time (``kubectl scale``), "" when no manager is known."""
    managers = df["manager"] if "manager" in df.columns else pd.Series("", index=df.index)

    def one(time: Any, manager: Any) -> str:
        if time is not None and not pd.isna(time):
            return fmt(pd.Timestamp(time))
        has_manager = isinstance(manager, str) and bool(manager)
        return TIME_UNKNOWN if has_manager else ""

    return pd.Series(
        [one(t, m) for t, m in zip(df[column], managers, strict=True)], index=df.index, dtype=object
    )


def with_when_labels(df: pd.DataFrame, fmt: Callable[[pd.Timestamp], str] = str) -> pd.DataFrame:
    """``df`` with its :data:`WHEN_COLUMNS` as :func:`when_labels` (tables, not exports)."""
    labels = {c: when_labels(df, c, fmt) for c in WHEN_COLUMNS if c in df.columns}
    return df.assign(**labels) if labels else df


__all__ = [
    "WHEN_COLUMNS",
    "episodes_view",
    "when_labels",
    "with_when_labels",
]
