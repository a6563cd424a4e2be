"""History tables that fit a terminal: key columns, short ids, one-line cells (``-o table``),
at most :data:`MAX_WIDTH` columns wide (the widest text columns are cut with ``…``).

``-o wide`` prints every column as it is; ``csv``, ``json`` and ``parquet`` are never narrowed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gitops_nb.history.views import WHEN_COLUMNS, when_labels
from gitops_nb.report.fmt import duration_text

#: the columns ``-o table`` keeps per view, in this order (those present)
NARROW: dict[str, tuple[str, ...]] = {
    "runs": (
        "started",
        "mode",
        "outcome",
        "health",
        "commit",
        "duration_s",
        "in_sync",
        "drifted",
        "created",
        "configured",
        "pruned",
        "failed",
        "error",
    ),
    "deployments": (
        "commit",
        "author",
        "message",
        "commit_time",
        "applied_at",
        "lead_time",
        "is_revert",
        "effective",
        "n_objects",
    ),
    "drift": ("started", "object", "path", "live", "desired", "manager", "time", "cause"),
    "timeline": (
        "object",
        "path",
        "live",
        "manager",
        "changed_at",
        "first_seen",
        "duration",
        "resolution",
    ),
    "health": (
        "object",
        "status",
        "reason",
        "synced",
        "first_seen",
        "healthy_at",
        "open",
        "duration",
    ),
    "time_to_healthy": (
        "commit",
        "message",
        "commit_time",
        "applied_at",
        "healthy_at",
        "lead_time",
        "time_to_healthy",
        "degraded",
    ),
    "dora": (
        "app",
        "deployments",
        "lead_time_median",
        "change_failure_rate",
        "failed_changes",
        "restores",
        "time_to_restore_median",
    ),
    "commits": ("short", "time", "author", "subject", "n_files", "effect"),
    "changes": ("commit", "time", "author", "object", "change", "file", "fields"),
}
ID_CHARS = {"commit": 12, "run_id": 8, "resolving_commit": 12}
CELL_CHARS = 48
MAX_WIDTH = 160
MIN_CUT = 16  # a text column is never cut shorter than this to fit MAX_WIDTH
KEEP_CHARS = {"object": 40, "path": 32}  # ... and these are cut last, never below this
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _cell(value: Any, limit: int = CELL_CHARS) -> str:
    if value is None or (not isinstance(value, list | tuple | dict) and pd.isna(value)):
        return ""
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    text = text.strip().splitlines()[0] if text.strip() else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rate(value: Any) -> str:
    return "" if pd.isna(value) else f"{float(value):.1%}"


def _author(value: Any) -> str:
    """The name without the e-mail address (``-o wide`` keeps both)."""
    return _cell(value).split(" <", 1)[0]


def narrow(df: pd.DataFrame, view: str, width: int = MAX_WIDTH) -> pd.DataFrame:
    """The key columns of ``view`` as one-line text: ids shortened, times to the second
    (UTC), rates in per cent, messages cut at their first line, long values ended with
    ``…``; then the widest text columns are cut until the table is at most ``width`` wide."""
    keep = [c for c in NARROW.get(view, tuple(df.columns)) if c in df.columns]
    out = pd.DataFrame(index=df.index)
    fixed: set[str] = set()  # times, durations and ids: never cut to fit
    for col in keep:
        series = df[col]
        if col in WHEN_COLUMNS and pd.api.types.is_datetime64_any_dtype(series):
            out[col] = when_labels(df, col, lambda t: t.strftime(TIME_FORMAT))
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime(TIME_FORMAT).fillna("")
        elif pd.api.types.is_timedelta64_dtype(series):
            out[col] = series.map(lambda v: duration_text(v, style="clock"))
        elif col in ID_CHARS:
            out[col] = series.map(lambda v, n=ID_CHARS[col]: _cell(v, 10_000)[:n])
        elif pd.api.types.is_bool_dtype(series):
            out[col] = series.map(lambda v: "yes" if v else "")
        elif col.endswith("_rate"):
            out[col] = series.map(_rate)
        elif col == "author":
            out[col] = series.map(_author)
        else:
            out[col] = series.map(_cell)
            continue
        fixed.add(col)
    if view in ("drift", "timeline") and "path" in out.columns:
        out["path"] = out["path"].replace("", "(whole object)")
    return fit(out.reset_index(drop=True), width, fixed)


def table_width(df: pd.DataFrame) -> int:
    """How wide ``df.to_string(index=False)`` is."""
    return max((len(line) for line in df.to_string(index=False).splitlines()), default=0)


def fit(df: pd.DataFrame, width: int = MAX_WIDTH, fixed: set[str] | None = None) -> pd.DataFrame:
    """Cut text columns (not in ``fixed``), the one with the most to spare first, ending
    their cells with ``…``, until the table is at most ``width`` wide: first down to
    :data:`KEEP_CHARS` for the object and field (:data:`MIN_CUT` for the others), then, if
    that is not enough, every text column down to :data:`MIN_CUT`."""
    out = df.copy()
    for floors in (KEEP_CHARS, {}):  # spare the object and field first, then cut them too
        while len(out) and (excess := table_width(out) - width) > 0:
            lengths = {
                c: int(out[c].astype(str).str.len().max())
                for c in out.columns
                if c not in (fixed or set())
            }
            room = {c: n - floors.get(c, MIN_CUT) for c, n in lengths.items()}
            col = max(room, key=lambda c: room[c], default=None)
            if col is None or room[col] <= 0:
                break
            limit = max(floors.get(col, MIN_CUT), lengths[col] - excess)
            out[col] = out[col].map(lambda v, n=limit: _cell(v, n))
    return out


__all__ = ["MAX_WIDTH", "NARROW", "fit", "narrow"]
