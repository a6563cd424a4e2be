"""Plots for notebooks: drift timeline and sync-run outcomes (matplotlib Agg, no pyplot)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gitops_nb.report.figures import (
    date_axis,
    figure_png,
    legend_right,
    mdates,
    message_figure,
    new_figure,
    timeline_figure,
)

OUTCOME_COLOURS = {
    "succeeded": "#1a7f37",
    "failed": "#cf222e",
    "interrupted": "#E69F00",
    "skipped": "#8c959f",
}
OTHER_COLOUR = "#0072B2"


def runs_figure(runs_df: pd.DataFrame) -> Figure:
    """Run durations (top) and drift per run (bottom: objects the cluster moved, never
    deployments) over time, coloured by outcome.

    ``runs_df`` is :func:`gitops_nb.history.frames.runs` output.
    """
    if runs_df is None or runs_df.empty:
        return message_figure("no sync runs in period")
    drift = "drift" if "drift" in runs_df.columns else "drifted"  # frames built elsewhere
    fig = new_figure(11, 5.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    started = pd.to_datetime(runs_df["started"], utc=True)
    x = mdates.date2num(started.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())
    outcomes = runs_df["outcome"].astype(str)
    # bar width: a third of the median gap between runs (one hour when there is one run)
    gaps = pd.Series(x).sort_values().diff().dropna()
    width = float(gaps.median()) / 3 if len(gaps) and float(gaps.median()) > 0 else 1 / 72
    known = [o for o in OUTCOME_COLOURS if (outcomes == o).any()]
    others = sorted(set(outcomes) - set(OUTCOME_COLOURS))
    for outcome in [*known, *others]:
        sel = (outcomes == outcome).to_numpy()
        colour = OUTCOME_COLOURS.get(outcome, OTHER_COLOUR)
        top.scatter(
            x[sel],
            runs_df["duration_s"].to_numpy()[sel],
            s=36,
            color=colour,
            label=outcome,
            edgecolors="#333333",
            linewidths=0.5,
            zorder=3,
        )
        bottom.bar(x[sel], runs_df[drift].to_numpy()[sel], width=width, color=colour)
    top.set_ylabel("duration (s)")
    longest = float(runs_df["duration_s"].max())
    top.set_ylim(0, longest * 1.15 if longest > 0 else 1.0)
    top.set_title("Sync runs", loc="left", fontsize=11)
    legend_right(top, "outcome")
    bottom.set_ylabel("drifted objects\n(cluster-caused)")
    bottom.set_ylim(0, max(float(runs_df[drift].max()) * 1.15, 1.0))
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_xlabel("started (UTC)")
    date_axis(bottom)
    for ax in (top, bottom):
        ax.grid(axis="both", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    return fig


__all__ = ["figure_png", "runs_figure", "timeline_figure"]


def drift_days_figure(days_df: pd.DataFrame) -> Figure:
    """Heatmap of :func:`gitops_nb.history.drift_days`: apps (rows) × days, shaded by the
    number of drift episodes open that day."""
    if days_df is None or days_df.empty:
        return message_figure("no drift in period")
    fig = new_figure(11, max(2.5, 0.35 * len(days_df) + 1.5))
    ax = fig.subplots()
    image = ax.imshow(days_df.to_numpy(), aspect="auto", cmap="Reds", vmin=0, interpolation="none")
    ax.set_yticks(range(len(days_df)), [str(a) for a in days_df.index])
    step = max(1, len(days_df.columns) // 15)
    ticks = list(range(0, len(days_df.columns), step))
    ax.set_xticks(ticks, [pd.Timestamp(days_df.columns[i]).strftime("%m-%d") for i in ticks])
    ax.set_xlabel("day (UTC)")
    fig.colorbar(image, ax=ax, label="open drift episodes").locator = MaxNLocator(integer=True)
    return fig
