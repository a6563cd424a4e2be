"""Notebook table styling: readable formats, escaped text, coloured statuses (pandas Styler)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler
from pandas.io.formats.style_render import CSSDict

from gitops_nb.history.metrics import HEALTH_LABELS, METRIC_DEFINITIONS, METRIC_LABELS
from gitops_nb.history.views import WHEN_COLUMNS, episodes_view, with_when_labels
from gitops_nb.model import COUNT_KEYS, DiffStatus
from gitops_nb.notebook.plots import OUTCOME_COLOURS
from gitops_nb.report.fmt import duration_text, percent_text

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SHORT_SHA = 7
SHORT_RUN_ID = 8
#: columns holding commit ids: tables show them short (the frame keeps the full id)
SHA_COLUMNS = ("commit", "reverts", "resolving_commit")
#: columns holding run ids (32 hex digits): tables show the first 8
RUN_ID_COLUMNS = ("run_id",)
STATUS_COLOURS = {
    str(DiffStatus.IN_SYNC): "#1a7f37",
    str(DiffStatus.DRIFTED): "#cf222e",
    str(DiffStatus.MISSING): "#bc4c00",
    str(DiffStatus.EXTRANEOUS): "#8250df",
    str(DiffStatus.ERROR): "#9a6700",
}
#: the columns :func:`style_runs` shows
RUN_DISPLAY = (
    "started",
    "app",
    "mode",
    "trigger",
    "outcome",
    "health",
    "duration_s",
    "commit",
    "author",
    *(k for k in COUNT_KEYS if k != "drifted"),
    "drift",
    "git_changes",
    "error",
)
#: key columns first: object, field, live → desired, manager, when; then how it ended
INTERVAL_DISPLAY = (
    "object",
    "path",
    "live",
    "desired_at_start",
    "manager",
    "changed_at",
    "first_seen",
    "resolved_at",
    "duration",
    "resolved_by",
    "cause",
    "commit",
    "runs_seen",
    "open",
)
#: per-run drifted fields (``history.drift``), key columns first: object, field,
#: live → desired, manager, when; then the run that saw it (the rest follow)
DRIFT_DISPLAY = (
    "object",
    "path",
    "live",
    "desired",
    "manager",
    "time",
    "cause",
    "op",
    "started",
    "run_id",
)
#: per-object results of each run (``history.resource_results``), key columns first
RESULT_DISPLAY = (
    "object",
    "status",
    "action",
    "cause",
    "n_changes",
    "health",
    "health_reason",
    "error",
    "started",
    "run_id",
    "outcome",
)
#: header names tables show instead of the frame's column names
HEADERS = {
    "path": "field",
    "desired_at_start": "desired (git)",
    "changed_at": "changed at",
    "first_seen": "first seen",
    "time": "changed at",
    **HEALTH_LABELS,  # never two different figures under one name
}
DEPLOYMENT_DISPLAY = (
    "commit",
    "author",
    "message",
    "commit_time",
    "applied_at",
    "in_sync_at",
    "lead_time",
    "is_revert",
    "reverted_by",
    "n_objects",
    "fields",
)
TABLE_STYLES: list[CSSDict] = [
    {"selector": "th", "props": "background:#eef1f4; text-align:left; padding:3px 8px;"},
    {
        "selector": "td",
        "props": "font-family:ui-monospace,Menlo,Consolas,monospace; font-size:12px;"
        " text-align:left; padding:2px 8px; border-bottom:1px solid #e5e8eb;"
        " vertical-align:top;",
    },
    {"selector": "", "props": "border-collapse:collapse;"},
]


def duration_label(value: Any) -> str:
    """A timedelta (or seconds) for humans: ``0.52s`` under a minute, else ``1h 2m``."""
    if value is None:
        return ""
    if isinstance(value, pd.Timedelta | datetime) or hasattr(value, "total_seconds"):
        if pd.isna(value):
            return ""
        seconds = float(value.total_seconds())
    else:
        if pd.isna(value):
            return ""
        seconds = float(value)
    return f"{seconds:.2f}s" if abs(seconds) < 60 else duration_text(seconds)


def _time_label(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    ts = pd.Timestamp(value)
    return ts.strftime(TIME_FORMAT)


def _float_label(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.2f}"


def _cell_text(value: Any) -> str:
    """Any cell as escaped text: lists joined, missing values blank."""
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return escape(str(value))


def short_sha(value: Any) -> str:
    """A commit id cut to 7 characters (blank when missing)."""
    return _cell_text(value)[:SHORT_SHA]


def short_run_id(value: Any) -> str:
    """A run id cut to 8 characters (blank when missing)."""
    return _cell_text(value)[:SHORT_RUN_ID]


def _formatter(col: str, dtype: Any) -> Callable[[Any], str] | None:
    if col in SHA_COLUMNS:
        return short_sha
    if col in RUN_ID_COLUMNS:
        return short_run_id
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _time_label
    if pd.api.types.is_timedelta64_dtype(dtype):
        return duration_label
    if pd.api.types.is_float_dtype(dtype):
        return _float_label
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return None  # pandas' own display is fine (and needs no escaping)
    return _cell_text


def style_table(
    df: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
    caption: str | None = None,
) -> Styler:
    """``df`` (optionally only ``columns`` that exist) with readable formats and no index:
    times to the second, durations, floats with two decimals, commit ids short, lists
    joined, missing values blank, text HTML-escaped. ``formats`` overrides per column (its
    functions must escape what they return)."""
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    # a manager's write time reads "time unknown" when it has none (kubectl scale)
    df = with_when_labels(df, lambda t: t.strftime(TIME_FORMAT))
    chosen: dict[Hashable, str | Callable[[object], str] | None] = {}
    for col, dtype in df.dtypes.items():
        name = str(col)
        fn = (formats or {}).get(name) or _formatter(name, dtype)
        if fn is not None:
            chosen[col] = fn
    # one format() call: a later call with a dict would reset every other column
    styler = df.style.format(chosen).hide(axis="index").set_table_styles(TABLE_STYLES)
    styler = styler.format_index(lambda c: escape(HEADERS.get(str(c), str(c))), axis="columns")
    nowrap: list[Hashable] = [
        col
        for col, dtype in df.dtypes.items()
        if pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or str(col) in (*SHA_COLUMNS, *RUN_ID_COLUMNS, *WHEN_COLUMNS)
    ]
    if nowrap:  # a timestamp or an id never breaks over two lines
        styler = styler.set_properties(subset=nowrap, **{"white-space": "nowrap"})
    if caption:
        styler = styler.set_caption(escape(caption))
    return styler


def _colour(colours: Mapping[str, str]) -> Callable[[Any], str]:
    def css(value: Any) -> str:
        c = colours.get(str(value))
        return f"color:{c}; font-weight:600;" if c else ""

    return css


def _nonzero_red(value: Any) -> str:
    return "color:#cf222e; font-weight:600;" if isinstance(value, int | float) and value else ""


def style_runs(df: pd.DataFrame) -> Styler:
    """Sync runs (:func:`gitops_nb.history.runs`): outcome coloured, commit shortened to 7
    characters, duration in seconds, drift (objects the cluster moved; ``git_changes``:
    objects Git moved) and failed counts red when not zero."""
    cols = [c for c in RUN_DISPLAY if c in df.columns]
    styler = style_table(df, columns=cols, formats={"duration_s": duration_label})
    if "outcome" in cols:
        styler = styler.map(_colour(OUTCOME_COLOURS), subset=pd.Index(["outcome"]))
    red: list[Hashable] = [c for c in ("drift", "failed") if c in cols]
    if red:
        styler = styler.map(_nonzero_red, subset=red)
    return styler


def _open_row(row: pd.Series) -> list[str]:
    css = "background:#fff1f0;" if bool(row.get("open", False)) else ""
    return [css] * len(row)


def style_intervals(df: pd.DataFrame) -> Styler:
    """Drift episodes (:func:`gitops_nb.history.drift_intervals`): open ones first and
    highlighted, key columns first (object, field, live, desired, manager, when)."""
    df = episodes_view(df)
    styler = style_table(df, columns=INTERVAL_DISPLAY)
    if "open" in df.columns and "open" in INTERVAL_DISPLAY:
        styler = styler.apply(_open_row, axis=1)
    return styler


def key_columns_first(df: pd.DataFrame, key: Sequence[str]) -> list[str]:
    """``key`` columns that ``df`` has, then every other column in its own order."""
    first = [c for c in key if c in df.columns]
    return [*first, *(str(c) for c in df.columns if c not in first)]


def style_drift(df: pd.DataFrame) -> Styler:
    """Drifted fields per run (:func:`gitops_nb.history.drift`): object, field, live →
    desired, manager and when first; the run and the API details after."""
    return style_table(df, columns=key_columns_first(df, DRIFT_DISPLAY))


def style_results(df: pd.DataFrame) -> Styler:
    """Each run's per-object results: object, status and action first, status coloured."""
    shown = df[key_columns_first(df, RESULT_DISPLAY)]
    return style_status(shown)


def style_deployments(df: pd.DataFrame) -> Styler:
    """Deployments (:func:`gitops_nb.history.deployments`): reverts and reverted highlighted."""
    styler = style_table(df, columns=DEPLOYMENT_DISPLAY)
    if "failed" in df.columns:
        failed = [bool(v) for v in df["failed"]]
        styler = styler.apply(
            lambda col: ["background:#fff8e1;" if f else "" for f in failed], axis=0
        )
    return styler


def style_status(df: pd.DataFrame, column: str = "status") -> Styler:
    """Any table with a diff status column, the status coloured."""
    styler = style_table(df)
    if column in df.columns:
        styler = styler.map(_colour(STATUS_COLOURS), subset=pd.Index([column]))
    return styler


def hide_in_sync(table: pd.DataFrame, column: str = "status") -> pd.DataFrame:
    """The rows not in sync (what an audit looks at first); every row when all are."""
    if column not in table.columns:
        return table
    keep = table[table[column].astype(str) != str(DiffStatus.IN_SYNC)]
    return keep.reset_index(drop=True)


def summary_frame(summary: Mapping[str, Any]) -> pd.DataFrame:
    """``history.metrics.summary`` output as a ``metric`` / ``value`` / ``definition`` table:
    each number is shown with what it means (:data:`METRIC_DEFINITIONS`)."""
    rows: list[tuple[str, str, str]] = []
    for key, value in summary.items():
        if value is None:
            text = "n/a"
        elif key.endswith("_rate"):
            text = percent_text(float(value))
        elif key.endswith("_s"):
            text = duration_label(float(value))
        elif key == "sync_frequency":
            text = f"{float(value):.1f} runs/hour"
        elif isinstance(value, list):
            text = ", ".join(f"{name} ({n})" for name, n in value) or "none"
        else:
            text = str(value)
        label = METRIC_LABELS.get(key) or key.removesuffix("_s").replace("_", " ")
        rows.append((label, text, METRIC_DEFINITIONS.get(key, "")))
    return pd.DataFrame(rows, columns=["metric", "value", "definition"])
