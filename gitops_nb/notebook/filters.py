"""Notebook table filters: by app, namespace, kind, status and time range (pure pandas)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd

from gitops_nb.errors import ConfigError
from gitops_nb.history.frames import to_utc

ALL = "(all)"
#: filter name → the columns it may apply to, first match wins (runs have ``outcome``)
FILTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "app": ("app",),
    "namespace": ("namespace",),
    "kind": ("kind",),
    "status": ("status", "outcome", "change"),
}
TIME_COLUMNS = ("started", "first_seen", "time")

FilterValue = str | Iterable[str] | None
TimeValue = str | datetime | pd.Timestamp | None


def _column(df: pd.DataFrame, name: str) -> str:
    for col in FILTER_COLUMNS[name]:
        if col in df.columns:
            return col
    raise ConfigError(
        f"cannot filter by {name}: the table has none of the columns "
        f"{', '.join(FILTER_COLUMNS[name])}"
    )


def wanted(value: FilterValue) -> list[str] | None:
    """The values a filter keeps; None means "no filter" (None, "", ALL, empty selection)."""
    if value is None or value in ("", ALL):
        return None
    if isinstance(value, str):
        return [value]
    chosen = [str(v) for v in value if v not in ("", ALL)]
    return chosen or None


def time_column(df: pd.DataFrame) -> str | None:
    """The column a time range applies to: ``started``, ``first_seen`` or ``time``."""
    return next((c for c in TIME_COLUMNS if c in df.columns), None)


def time_bound(value: TimeValue) -> pd.Timestamp | None:
    ts = to_utc(value)
    return None if pd.isna(ts) else ts


def filter_frame(
    df: pd.DataFrame,
    *,
    app: FilterValue = None,
    namespace: FilterValue = None,
    kind: FilterValue = None,
    status: FilterValue = None,
    start: TimeValue = None,
    end: TimeValue = None,
) -> pd.DataFrame:
    """Rows of ``df`` matching every given filter (None / ``ALL`` / "" = any).

    ``status`` applies to ``status`` (results, live diffs), else ``outcome`` (runs), else
    ``change`` (Git changes). ``start``/``end`` bound the time column inclusively (naive
    times are UTC); drift episodes (``first_seen`` … ``resolved_at``) are kept when they
    overlap the range, open ones count as lasting until now. Filtering on a column the
    table lacks raises ``ConfigError``.
    """
    mask = pd.Series(True, index=df.index)
    for name, value in (("app", app), ("namespace", namespace), ("kind", kind), ("status", status)):
        chosen = wanted(value)
        if chosen is not None:
            mask &= df[_column(df, name)].astype(str).isin(chosen)
    lo, hi = time_bound(start), time_bound(end)
    if lo is not None or hi is not None:
        col = time_column(df)
        if col is None:
            raise ConfigError(f"cannot filter by time: the table has none of {TIME_COLUMNS}")
        times = df[col]
        if col == "first_seen" and "resolved_at" in df.columns:
            # an episode overlaps [lo, hi] if it began by hi and had not ended before lo
            if hi is not None:
                mask &= times <= hi
            if lo is not None:
                is_open = df["open"].astype(bool) if "open" in df.columns else False
                mask &= is_open | (df["resolved_at"] >= lo)
        else:
            if lo is not None:
                mask &= times >= lo
            if hi is not None:
                mask &= times <= hi
    return df[mask]


def filter_options(df: pd.DataFrame) -> dict[str, list[str]]:
    """For each filter the table supports: ``ALL`` then its distinct values, sorted."""
    out: dict[str, list[str]] = {}
    for name in FILTER_COLUMNS:
        try:
            col = _column(df, name)
        except ConfigError:
            continue
        values = sorted({str(v) for v in df[col].dropna()})
        out[name] = [ALL, *values]
    return out
