"""Drift timeline figure (matplotlib, Agg, no pyplot state) and PNG encoding.

Lives under ``report`` so the HTML exporter can embed it without importing the notebook
layer; :mod:`gitops_nb.notebook.plots` re-exports it. Needs matplotlib (``notebook`` extra).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd
from matplotlib import dates as _mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gitops_nb.history.frames import to_utc

UNKNOWN_MANAGER = "(unknown)"
OPEN_HATCH = "///"
#: colour-blind friendly (Okabe-Ito); cycled when there are more managers
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
ROW_HEIGHT = 0.42  # inches per object row
MIN_BAR_SHARE = 0.004  # of the time span: a short episode stays visible

mdates: Any = _mdates  # matplotlib.dates is not annotated


def new_figure(width: float, height: float) -> Figure:
    """A figure bound to an Agg canvas, independent of pyplot's global state."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def message_figure(text: str) -> Figure:
    """A small figure that only says ``text`` (empty data)."""
    fig = new_figure(8, 1.6)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=14, color="#555555")
    return fig


def legend_right(ax: Any, title: str, **kwargs: Any) -> None:
    """A small frameless legend just right of the axes (every figure places it so)."""
    ax.legend(
        title=title,
        fontsize=8,
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        **kwargs,
    )


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, facecolor="white")
    return buf.getvalue()


def date_axis(ax: Any) -> None:
    """Concise UTC date ticks on the x axis."""
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _utc(value: Any) -> pd.Timestamp:
    return to_utc(cast(pd.Timestamp, value))  # a frame cell: a Timestamp or NaT


def _label(value: str, limit: int = 48) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _episodes(intervals: pd.DataFrame, now: pd.Timestamp) -> list[dict[str, Any]]:
    out = []
    for row in intervals.itertuples():
        start = _utc(row.first_seen)
        is_open = bool(row.open)
        stop = max(now, _utc(row.last_seen)) if is_open else _utc(row.resolved_at)
        manager = row.last_manager if isinstance(row.last_manager, str) else UNKNOWN_MANAGER
        out.append(
            {
                "object": str(row.object),
                "path": str(row.path),
                "start": start,
                "stop": stop,
                "open": is_open,
                "manager": manager or UNKNOWN_MANAGER,
            }
        )
    return out


def timeline_figure(intervals: pd.DataFrame, *, now: datetime | None = None) -> Figure:
    """One row per object, one bar per drift episode from ``first_seen`` to ``resolved_at``
    (open episodes run to ``now`` and are hatched), coloured by ``last_manager``."""
    if intervals is None or intervals.empty:
        return message_figure("no drift in period")
    stamp = to_utc(now if now is not None else datetime.now(UTC))
    episodes = _episodes(intervals, stamp)
    objects = sorted({e["object"] for e in episodes})
    row_of = {name: i for i, name in enumerate(objects)}
    managers = sorted({e["manager"] for e in episodes})
    colour = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(managers)}

    lo = min(e["start"] for e in episodes)
    hi = max(e["stop"] for e in episodes)
    span = max((hi - lo).total_seconds() / 86400, 1 / 24)  # days; at least an hour
    fig = new_figure(11, 1.8 + ROW_HEIGHT * len(objects))
    ax = fig.add_subplot()
    for e in episodes:
        left = float(mdates.date2num(e["start"].to_pydatetime()))
        width = float(mdates.date2num(e["stop"].to_pydatetime())) - left
        ax.barh(
            row_of[e["object"]],
            max(width, span * MIN_BAR_SHARE),
            left=left,
            height=0.6,
            color=colour[e["manager"]],
            alpha=0.55 if e["open"] else 0.9,
            hatch=OPEN_HATCH if e["open"] else None,
            edgecolor="#333333",
            linewidth=0.6,
        )
    ax.set_yticks(range(len(objects)), [_label(o) for o in objects], fontsize=9)
    ax.set_ylim(len(objects) - 0.5, -0.5)  # first object at the top
    pad = span * 0.02
    ax.set_xlim(
        float(mdates.date2num(lo.to_pydatetime())) - pad,
        float(mdates.date2num(hi.to_pydatetime())) + pad,
    )
    date_axis(ax)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("time (UTC)")
    ax.set_title("Drift episodes per object", loc="left", fontsize=11)
    handles = [Patch(facecolor=colour[m], edgecolor="#333333", label=m) for m in managers]
    handles.append(
        Patch(
            facecolor="white", edgecolor="#333333", hatch=OPEN_HATCH, label="open (still drifted)"
        )
    )
    legend_right(ax, "last manager", handles=handles)
    return fig
