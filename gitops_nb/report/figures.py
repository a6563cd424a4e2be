"""Drift timeline figure (matplotlib, Agg, no pyplot state) and PNG encoding.

Lives under ``report`` so the HTML exporter can embed it without importing the notebook
layer; :mod:`gitops_nb.notebook.plots` re-exports it. Needs matplotlib (``notebook`` extra).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd
from matplotlib import colors as _mcolors
from matplotlib import dates as _mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gitops_nb.history.frames import to_utc

UNKNOWN_MANAGER = "(unknown)"
UNKNOWN_COLOUR = "#8c959f"  # grey: kept for "(unknown)", never given to a named manager
OPEN_HATCH = "///"
#: colour-blind friendly (Okabe-Ito, without its grey-like black), then Tol's muted colours;
#: beyond these, evenly spaced hues, so every manager keeps a colour of its own
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#F0E442",
    "#882255",
    "#117733",
    "#332288",
    "#999933",
    "#44AA99",
)
ROW_HEIGHT = 0.36  # inches per lane (one object and field)
LABEL_CHARS = 72

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


def _label(value: str, limit: int = LABEL_CHARS) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def lane_label(obj: str, path: str) -> str:
    """``Kind/namespace/name  field``; a long field path keeps its end (the field itself)."""
    field = path or "(whole object)"
    room = max(LABEL_CHARS - len(obj) - 2, 24)
    if len(field) > room:
        field = "…" + field[-(room - 1) :]
    return f"{_label(obj, LABEL_CHARS - 2 - len(field))}  {field}"


def manager_colours(managers: list[str]) -> dict[str, str]:
    """A distinct colour per manager: the palette in order, grey for ``(unknown)``."""
    named = sorted(m for m in set(managers) if m != UNKNOWN_MANAGER)
    if len(named) <= len(PALETTE):
        colours = dict(zip(named, PALETTE, strict=False))
    else:
        colours = {}
        for i, m in enumerate(named):
            r, g, b = (float(v) for v in _mcolors.hsv_to_rgb((i / len(named), 0.75, 0.8)))
            colours[m] = _mcolors.to_hex((r, g, b))
    if UNKNOWN_MANAGER in managers:
        colours[UNKNOWN_MANAGER] = UNKNOWN_COLOUR
    return colours


def _episodes(intervals: pd.DataFrame, now: pd.Timestamp) -> list[dict[str, Any]]:
    out = []
    for row in intervals.itertuples():
        start = _utc(row.first_seen)
        is_open = bool(row.open)
        stop = max(now, _utc(row.last_seen)) if is_open else _utc(row.resolved_at)
        manager = row.manager if isinstance(row.manager, str) and row.manager else None
        out.append(
            {
                "lane": (str(row.object), str(row.path)),
                "start": start,
                "stop": stop,
                "open": is_open,
                "manager": manager or UNKNOWN_MANAGER,
            }
        )
    return out


def timeline_figure(intervals: pd.DataFrame, *, now: datetime | None = None) -> Figure:
    """One lane per object and field, one bar per drift episode from ``first_seen`` to
    ``resolved_at`` at its true length (open episodes run to ``now`` and are hatched),
    coloured by the manager that wrote the drifted value; every manager is in the legend."""
    if intervals is None or intervals.empty:
        return message_figure("no drift in period")
    stamp = to_utc(now if now is not None else datetime.now(UTC))
    episodes = _episodes(intervals, stamp)
    lanes = sorted({e["lane"] for e in episodes})
    lane_of = {lane: i for i, lane in enumerate(lanes)}
    colour = manager_colours([e["manager"] for e in episodes])
    managers = sorted(m for m in colour if m != UNKNOWN_MANAGER)
    if UNKNOWN_MANAGER in colour:
        managers.append(UNKNOWN_MANAGER)

    lo = min(e["start"] for e in episodes)
    hi = max(e["stop"] for e in episodes)
    span = max((hi - lo).total_seconds() / 86400, 1 / 24)  # days; at least an hour
    fig = new_figure(12, 1.9 + ROW_HEIGHT * len(lanes))
    ax = fig.add_subplot()
    for e in episodes:
        left = float(mdates.date2num(e["start"].to_pydatetime()))
        width = float(mdates.date2num(e["stop"].to_pydatetime())) - left
        ax.barh(
            lane_of[e["lane"]],
            width,  # the true length: an episode seen once and resolved at once is thin
            left=left,
            height=0.62,
            color=colour[e["manager"]],
            alpha=0.55 if e["open"] else 0.95,
            hatch=OPEN_HATCH if e["open"] else None,
            edgecolor="#333333",
            linewidth=0.6,
        )
        if e["open"]:  # still drifted: an arrow at "now", visible however short the bar
            ax.plot(
                left + width,
                lane_of[e["lane"]],
                marker=">",
                markersize=7,
                color=colour[e["manager"]],
                markeredgecolor="#333333",
                linestyle="none",
            )
    ax.set_yticks(range(len(lanes)), [lane_label(*lane) for lane in lanes], fontsize=8)
    ax.set_ylim(len(lanes) - 0.5, -0.5)  # first lane at the top
    pad = span * 0.02
    ax.set_xlim(
        float(mdates.date2num(lo.to_pydatetime())) - pad,
        float(mdates.date2num(hi.to_pydatetime())) + pad,
    )
    date_axis(ax)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("time (UTC)")
    ax.set_title("Drift episodes per object and field", loc="left", fontsize=11)
    handles = [Patch(facecolor=colour[m], edgecolor="#333333", label=m) for m in managers]
    handles.append(
        Patch(
            facecolor="white", edgecolor="#333333", hatch=OPEN_HATCH, label="open (still drifted)"
        )
    )
    legend_right(ax, "manager", handles=handles)
    return fig
