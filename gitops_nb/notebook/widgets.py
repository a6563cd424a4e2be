"""Notebook tables and dashboards: pure filter / styling / diff-rendering helpers, and the
ipywidgets builders that call them.

The helpers are plain functions of DataFrames and records (unit-tested without a kernel);
the builders only wire widgets to them. ipywidgets is imported here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

import ipywidgets as widgets
import pandas as pd
from pandas.io.formats.style import Styler
from pandas.io.formats.style_render import CSSDict

from gitops_nb.errors import ConfigError
from gitops_nb.history.frames import to_utc
from gitops_nb.model import DiffStatus, ResourceDiff
from gitops_nb.notebook.plots import OUTCOME_COLOURS
from gitops_nb.report.fmt import duration_text, percent_text, value_text
from gitops_nb.report.redact import raw_secrets, safe_change, safe_text

ALL = "(all)"
#: filter name → the columns it may apply to, first match wins (runs have ``outcome``)
FILTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "app": ("app",),
    "namespace": ("namespace",),
    "kind": ("kind",),
    "status": ("status", "outcome", "change"),
}
TIME_COLUMNS = ("started", "first_seen", "time")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SHORT_SHA = 7
#: columns holding commit ids: tables show them short (the frame keeps the full id)
SHA_COLUMNS = ("commit", "reverts")
STATUS_COLOURS = {
    str(DiffStatus.IN_SYNC): "#1a7f37",
    str(DiffStatus.DRIFTED): "#cf222e",
    str(DiffStatus.MISSING): "#bc4c00",
    str(DiffStatus.EXTRANEOUS): "#8250df",
    str(DiffStatus.ERROR): "#9a6700",
}
# drift first, then failures, in-sync last: the object picker lists what matters on top
_STATUS_ORDER = {
    DiffStatus.DRIFTED: 0,
    DiffStatus.MISSING: 1,
    DiffStatus.EXTRANEOUS: 2,
    DiffStatus.ERROR: 3,
    DiffStatus.IN_SYNC: 4,
}
RUN_DISPLAY = (
    "started",
    "app",
    "mode",
    "trigger",
    "outcome",
    "duration_s",
    "commit",
    "author",
    "desired",
    "in_sync",
    "drifted",
    "created",
    "configured",
    "pruned",
    "failed",
    "error",
)
INTERVAL_DISPLAY = (
    "object",
    "path",
    "first_seen",
    "last_seen",
    "resolved_at",
    "duration",
    "resolution",
    "open",
    "managers",
    "runs_seen",
)
TABLE_STYLES: list[CSSDict] = [
    {"selector": "th", "props": "background:#eef1f4; text-align:left; padding:3px 8px;"},
    {
        "selector": "td",
        "props": "font-family:ui-monospace,Menlo,Consolas,monospace; font-size:12px;"
        " text-align:left; padding:2px 8px; border-bottom:1px solid #e5e8eb;",
    },
    {"selector": "", "props": "border-collapse:collapse;"},
]
DIFF_LINE_STYLES = {
    "head": "color:#57606a; font-weight:600;",
    "hunk": "color:#0550ae;",
    "add": "color:#116329; background:#dafbe1;",
    "del": "color:#82071e; background:#ffebe9;",
    "ctx": "",
}

FilterValue = str | Iterable[str] | None
TimeValue = str | datetime | pd.Timestamp | None


# --- filtering ----------------------------------------------------------------------------


def _column(df: pd.DataFrame, name: str) -> str:
    for col in FILTER_COLUMNS[name]:
        if col in df.columns:
            return col
    raise ConfigError(
        f"cannot filter by {name}: the table has none of the columns "
        f"{', '.join(FILTER_COLUMNS[name])}"
    )


def _wanted(value: FilterValue) -> list[str] | None:
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


def _bound(value: TimeValue) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        ts = to_utc(value)
    else:
        ts = pd.Timestamp(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
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
        chosen = _wanted(value)
        if chosen is not None:
            mask &= df[_column(df, name)].astype(str).isin(chosen)
    lo, hi = _bound(start), _bound(end)
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


# --- styling ------------------------------------------------------------------------------


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


def _formatter(col: str, dtype: Any) -> Callable[[Any], str] | None:
    if col in SHA_COLUMNS:
        return short_sha
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
    chosen: dict[Hashable, str | Callable[[object], str] | None] = {}
    for col, dtype in df.dtypes.items():
        name = str(col)
        fn = (formats or {}).get(name) or _formatter(name, dtype)
        if fn is not None:
            chosen[col] = fn
    # one format() call: a later call with a dict would reset every other column
    styler = df.style.format(chosen).hide(axis="index").set_table_styles(TABLE_STYLES)
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
    characters, duration in seconds, drifted / failed counts red when not zero."""
    cols = [c for c in RUN_DISPLAY if c in df.columns]
    styler = style_table(df, columns=cols, formats={"duration_s": duration_label})
    if "outcome" in cols:
        styler = styler.map(_colour(OUTCOME_COLOURS), subset=pd.Index(["outcome"]))
    red: list[Hashable] = [c for c in ("drifted", "failed") if c in cols]
    if red:
        styler = styler.map(_nonzero_red, subset=red)
    return styler


def _open_row(row: pd.Series) -> list[str]:
    css = "background:#fff1f0;" if bool(row.get("open", False)) else ""
    return [css] * len(row)


def style_intervals(df: pd.DataFrame) -> Styler:
    """Drift episodes (:func:`gitops_nb.history.drift_intervals`): open ones highlighted."""
    styler = style_table(df, columns=INTERVAL_DISPLAY)
    if "open" in df.columns and "open" in INTERVAL_DISPLAY:
        styler = styler.apply(_open_row, axis=1)
    return styler


def style_status(df: pd.DataFrame, column: str = "status") -> Styler:
    """Any table with a diff status column, the status coloured."""
    styler = style_table(df)
    if column in df.columns:
        styler = styler.map(_colour(STATUS_COLOURS), subset=pd.Index([column]))
    return styler


def summary_frame(summary: Mapping[str, Any]) -> pd.DataFrame:
    """``history.metrics.summary`` output as a two-column ``metric`` / ``value`` table."""
    rows: list[tuple[str, str]] = []
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
        rows.append((key.removesuffix("_s").replace("_", " "), text))
    return pd.DataFrame(rows, columns=["metric", "value"])


# --- live diffs ---------------------------------------------------------------------------


def diff_table(diffs: Iterable[ResourceDiff]) -> pd.DataFrame:
    """One row per evaluated object: identity, status, drifted fields and their managers."""
    rows = []
    for d in diffs:
        managers = sorted({c.manager for c in d.changes if c.manager})
        rows.append(
            {
                "object": str(d.ref),
                "kind": d.ref.kind,
                "namespace": d.ref.namespace,
                "name": d.ref.name,
                "status": str(d.status),
                "fields": len(d.changes),
                "changed by": ", ".join(managers),
                "error": d.error or "",
            }
        )
    columns = ["object", "kind", "namespace", "name", "status", "fields", "changed by", "error"]
    return pd.DataFrame(rows, columns=columns).astype({"fields": "int64"})


def object_choices(diffs: Iterable[ResourceDiff]) -> list[tuple[str, ResourceDiff]]:
    """``(label, diff)`` options for a picker: drifted first, then errors, in-sync last."""
    ordered = sorted(diffs, key=lambda d: (_STATUS_ORDER.get(d.status, 9), str(d.ref)))
    return [(f"[{d.status}] {d.ref}", d) for d in ordered]


def _diff_line_class(line: str) -> str:
    if line.startswith(("---", "+++")):
        return "head"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return "ctx"


def diff_text_html(text: str) -> str:
    """A unified diff as a ``<pre>`` with coloured lines (inline styles; escaped)."""
    spans = []
    for line in text.rstrip("\n").split("\n"):
        css = DIFF_LINE_STYLES[_diff_line_class(line)]
        spans.append(f'<span style="display:block; {css}">{escape(line) or " "}</span>')
    return (
        '<pre style="font:12px/1.4 ui-monospace,Menlo,Consolas,monospace; background:#f6f8fa;'
        ' border:1px solid #d0d7de; padding:6px; overflow-x:auto;">' + "".join(spans) + "</pre>"
    )


def render_diff_html(diff: ResourceDiff) -> str:
    """One object's diff as HTML: status, who changed each drifted field, and the diff text.

    Every value is HTML-escaped and Secret values are masked again (defence in depth: the
    engine masks them already).
    """
    ref = diff.ref
    secrets = raw_secrets(ref, diff.changes)
    changes = [safe_change(ref, c) for c in diff.changes]
    colour = STATUS_COLOURS.get(str(diff.status), "#57606a")
    parts = [
        f'<div class="gitops-nb-diff"><h4 style="margin:4px 0;">'
        f'<span style="color:{colour};">{escape(str(diff.status))}</span> '
        f"<code>{escape(str(ref))}</code></h4>"
    ]
    if diff.error:
        parts.append(f"<p><b>error:</b> {escape(safe_text(ref, diff.error, secrets))}</p>")
    if changes:
        header = ("field", "live", "git", "changed by", "operation", "time")
        head = "".join(f'<th style="text-align:left;">{escape(h)}</th>' for h in header)
        body = []
        for c in changes:
            cells = (
                c.path,
                value_text(c.live),
                value_text(c.desired),
                c.manager or "(unknown)",
                c.operation or "",
                c.time or "",
            )
            body.append("<tr>" + "".join(f"<td><code>{escape(x)}</code></td>" for x in cells))
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    elif diff.status is DiffStatus.IN_SYNC:
        parts.append("<p>In sync with Git.</p>")
    if diff.diff_text:
        parts.append(diff_text_html(safe_text(ref, diff.diff_text, secrets)))
    parts.append("</div>")
    return "".join(parts)


def diffs_html(diffs: Iterable[ResourceDiff], *, in_sync: bool = False) -> str:
    """:func:`render_diff_html` of every object not in sync (or of all, with ``in_sync``)."""
    parts = [render_diff_html(d) for d in diffs if in_sync or d.status is not DiffStatus.IN_SYNC]
    return "<hr>".join(parts) or "<p><i>every object is in sync with Git</i></p>"


# --- widget builders ----------------------------------------------------------------------


def time_range(df: pd.DataFrame, column: str | None = None) -> widgets.SelectionRangeSlider | None:
    """A range slider over the distinct times of ``column`` (default :func:`time_column`);
    None when the table has fewer than two distinct times."""
    col = column or time_column(df)
    if col is None:
        return None
    times = sorted({pd.Timestamp(t) for t in df[col].dropna()})
    if len(times) < 2:
        return None
    options = [(t.strftime(TIME_FORMAT), t) for t in times]
    return widgets.SelectionRangeSlider(
        options=options,
        index=(0, len(options) - 1),
        description="time",
        layout=widgets.Layout(width="640px"),
        continuous_update=False,
    )


def filter_panel(df: pd.DataFrame, on_change: Callable[[pd.DataFrame], None]) -> widgets.VBox:
    """Dropdowns for the filters ``df`` supports (``description`` = filter name) and a time
    range; every change calls ``on_change`` with :func:`filter_frame`'s result."""
    dropdowns = {
        name: widgets.Dropdown(options=options, value=ALL, description=name)
        for name, options in filter_options(df).items()
        if len(options) > 1
    }
    slider = time_range(df)

    def changed(_: object = None) -> None:
        kwargs: dict[str, Any] = {name: w.value for name, w in dropdowns.items()}
        if slider is not None:
            kwargs["start"], kwargs["end"] = slider.value
        on_change(filter_frame(df, **kwargs))

    for w in dropdowns.values():
        w.observe(changed, names="value")
    controls: list[widgets.Widget] = [widgets.HBox(list(dropdowns.values()))]
    if slider is not None:
        slider.observe(changed, names="value")
        controls.append(slider)
    return widgets.VBox(controls)


def panel_controls(panel: widgets.VBox) -> dict[str, widgets.Widget]:
    """The input widgets of a :func:`filter_panel`, by description."""
    out: dict[str, widgets.Widget] = {}
    stack: list[widgets.Widget] = [panel]
    while stack:
        w = stack.pop()
        if isinstance(w, widgets.Box):
            stack.extend(w.children)
        elif getattr(w, "description", ""):
            out[str(w.description)] = w
    return out


def filtered_table(
    df: pd.DataFrame, style: Callable[[pd.DataFrame], Styler] = style_table
) -> widgets.VBox:
    """A :func:`filter_panel` above the styled table it filters (an HTML widget)."""
    count = widgets.Label()
    table = widgets.HTML()

    def show(rows: pd.DataFrame) -> None:
        count.value = f"{len(rows)} of {len(df)} rows"
        table.value = style(rows).to_html() if len(rows) else "<p><i>no rows match</i></p>"

    panel = filter_panel(df, show)
    show(df)
    return widgets.VBox([panel, count, table])


def object_picker(diffs: Iterable[ResourceDiff]) -> widgets.VBox:
    """A dropdown of objects (drifted first) and, below it, the picked object's diff."""
    choices = object_choices(diffs)
    view = widgets.HTML()
    if not choices:
        view.value = "<p><i>no objects</i></p>"
        return widgets.VBox([view])
    picker = widgets.Dropdown(
        options=choices, value=choices[0][1], description="object", layout={"width": "640px"}
    )

    def show(_: object = None) -> None:
        view.value = render_diff_html(picker.value)

    picker.observe(show, names="value")
    show()
    return widgets.VBox([picker, view])


__all__ = [
    "ALL",
    "diff_table",
    "diff_text_html",
    "diffs_html",
    "duration_label",
    "filter_frame",
    "filter_options",
    "filter_panel",
    "filtered_table",
    "object_choices",
    "object_picker",
    "panel_controls",
    "render_diff_html",
    "short_sha",
    "style_intervals",
    "style_runs",
    "style_status",
    "style_table",
    "summary_frame",
    "time_column",
    "time_range",
]
