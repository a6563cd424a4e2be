"""History tables that fit a terminal: key columns, short ids, one-line cells (``-o table``).

``-o wide`` prints every column as it is; ``csv``, ``json`` and ``parquet`` are never narrowed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

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
    "drift": ("started", "object", "path", "live", "desired", "manager", "cause"),
    "timeline": (
        "object",
        "path",
        "live",
        "manager",
        "changed_at",
        "first_seen",
        "resolved_at",
        "duration",
        "resolution",
    ),
    "commits": ("short", "time", "author", "subject", "n_files", "effect"),
    "changes": ("commit", "time", "author", "object", "change", "file", "fields"),
}
ID_CHARS = {"commit": 12, "run_id": 8, "resolving_commit": 12}
CELL_CHARS = 48
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _cell(value: Any, limit: int = CELL_CHARS) -> str:
    if value is None or (not isinstance(value, list | tuple | dict) and pd.isna(value)):
        return ""
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    text = text.strip().splitlines()[0] if text.strip() else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def narrow(df: pd.DataFrame, view: str) -> pd.DataFrame:
    """The key columns of ``view`` as one-line text: ids shortened, times to the second
    (UTC), messages cut at their first line, long values ended with ``…``."""
    keep = [c for c in NARROW.get(view, tuple(df.columns)) if c in df.columns]
    out = pd.DataFrame(index=df.index)
    for col in keep:
        series = df[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime(TIME_FORMAT).fillna("")
        elif pd.api.types.is_timedelta64_dtype(series):
            out[col] = series.map(lambda v: duration_text(v, style="clock"))
        elif col in ID_CHARS:
            out[col] = series.map(lambda v, n=ID_CHARS[col]: _cell(v, 10_000)[:n])
        elif pd.api.types.is_bool_dtype(series):
            out[col] = series.map(lambda v: "yes" if v else "")
        else:
            out[col] = series.map(_cell)
    if view in ("drift", "timeline") and "path" in out.columns:
        out["path"] = out["path"].replace("", "(whole object)")
    return out.reset_index(drop=True)


__all__ = ["NARROW", "narrow"]
