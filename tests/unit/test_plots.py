"""Timeline and runs figures: bars, hatching, colours, labels, empty input, no pyplot."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from gitops_nb.history.frames import runs
from gitops_nb.history.timeline import drift_intervals
from gitops_nb.notebook.plots import OUTCOME_COLOURS, figure_png, runs_figure, timeline_figure
from tests.factories import NOW, history_runs


def bars(fig: Figure, index: int = 0) -> list[Rectangle]:
    return [p for p in fig.axes[index].patches if isinstance(p, Rectangle)]


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def test_timeline_one_row_per_object_one_bar_per_episode() -> None:
    intervals = drift_intervals(history_runs())
    fig = timeline_figure(intervals, now=NOW)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["ConfigMap/web/settings", "Deployment/web/api", "Secret/web/db"]
    drawn = bars(fig)
    assert len(drawn) == len(intervals) == 3
    hatched = [b for b in drawn if b.get_hatch()]
    assert len(hatched) == 2  # the two open episodes
    assert legend_texts(ax) == ["helm", "kubectl-edit", "open (still drifted)"]
    # kubectl-edit bars share a colour, helm's differs
    by_row = {round(b.get_y() + b.get_height() / 2): b.get_facecolor()[:3] for b in drawn}
    assert by_row[1] == by_row[2] != by_row[0]


def test_open_episode_runs_to_now() -> None:
    intervals = drift_intervals(history_runs())
    later = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    short = max(b.get_x() + b.get_width() for b in bars(timeline_figure(intervals, now=NOW)))
    long = max(b.get_x() + b.get_width() for b in bars(timeline_figure(intervals, now=later)))
    assert long - short == pytest.approx(19 / 24)  # matplotlib dates are days


def test_empty_intervals_say_so() -> None:
    empty = drift_intervals([])
    fig = timeline_figure(empty)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["no drift in period"]
    assert figure_png(fig).startswith(b"\x89PNG\r\n\x1a\n")


def test_figure_png_is_a_png() -> None:
    png = figure_png(timeline_figure(drift_intervals(history_runs()), now=NOW))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_runs_figure_colours_by_outcome() -> None:
    fig = runs_figure(runs(history_runs()))
    top, _ = fig.axes
    assert legend_texts(top) == ["succeeded", "failed"]
    (ok, failed) = top.collections
    assert len(np.asarray(ok.get_offsets())) == 4 and len(np.asarray(failed.get_offsets())) == 1
    heights = [(p.get_height(), p.get_facecolor()[:3]) for p in bars(fig, 1)]
    assert [h for h, _ in heights] == [0, 1, 2, 2, 0]  # succeeded runs, then the failed one
    assert heights[0][1] != heights[-1][1]
    assert figure_png(fig).startswith(b"\x89PNG")
    assert OUTCOME_COLOURS["failed"] != OUTCOME_COLOURS["succeeded"]


def test_runs_figure_empty() -> None:
    fig = runs_figure(runs([]))
    assert [t.get_text() for ax in fig.axes for t in ax.texts] == ["no sync runs in period"]


def test_plots_do_not_touch_pyplot() -> None:
    code = (
        "import sys\n"
        "from gitops_nb.history.timeline import drift_intervals\n"
        "from gitops_nb.notebook.plots import figure_png, timeline_figure\n"
        "from gitops_nb.report import from_diff, to_html\n"
        "figure_png(timeline_figure(drift_intervals([])))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_drift_days_figure_draws_apps_by_days() -> None:
    from gitops_nb.history import drift_days, drift_intervals
    from gitops_nb.notebook.plots import drift_days_figure, figure_png
    from tests.factories import change, drifted, in_sync, run

    recs = [
        run(0, drifted(change()), app="web"),
        run(30, in_sync(), app="web"),
        run(0, in_sync(), app="shop"),
        run(50, drifted(change(manager="helm")), app="shop"),
    ]
    days = drift_days(drift_intervals(recs))
    fig = drift_days_figure(days)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["shop", "web"]
    assert ax.images[0].get_array().shape == days.shape == (2, 3)
    assert figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
    assert drift_days_figure(days.iloc[0:0]).axes[0].texts  # "no drift in period"
