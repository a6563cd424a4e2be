"""Timeline and runs figures: bars, hatching, colours, labels, empty input, no pyplot."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from gitops_nb.history.frames import runs
from gitops_nb.history.timeline import drift_intervals
from gitops_nb.notebook.plots import OUTCOME_COLOURS, figure_png, runs_figure, timeline_figure
from gitops_nb.report.figures import (
    PALETTE,
    UNKNOWN_COLOUR,
    UNKNOWN_MANAGER,
    lane_label,
    manager_colours,
    mdates,
)
from tests.factories import (
    DEP,
    NOW,
    REPLICAS,
    at,
    change,
    drifted,
    history_runs,
    in_sync,
    report_run,
)


def bars(fig: Figure, index: int = 0) -> list[Rectangle]:
    return [p for p in fig.axes[index].patches if isinstance(p, Rectangle)]


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def lanes(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def lane_of(bar: Rectangle) -> int:
    return round(bar.get_y() + bar.get_height() / 2)


def test_timeline_one_lane_per_object_and_field_one_bar_per_episode() -> None:
    intervals = drift_intervals(history_runs())
    fig = timeline_figure(intervals, now=NOW)
    ax = fig.axes[0]
    assert lanes(fig) == [
        "ConfigMap/web/settings  data.color",
        "Deployment/web/api  spec.replicas",
        "Secret/web/db  data.token",
    ]
    drawn = bars(fig)
    assert len(drawn) == len(intervals) == 3
    hatched = [b for b in drawn if b.get_hatch()]
    assert len(hatched) == 2  # the two open episodes
    assert legend_texts(ax) == ["helm", "kubectl-edit", "open (still drifted)"]
    # kubectl-edit bars share a colour, helm's differs
    by_lane = {lane_of(b): b.get_facecolor()[:3] for b in drawn}
    assert by_lane[1] == by_lane[2] != by_lane[0]


def _episodes_on_one_object() -> pd.DataFrame:
    """Four fields of one Deployment drifted at overlapping times by four managers (one
    without a name), one of them twice: the case where one row per object overlapped."""
    dep_image = "spec.template.spec.containers[name=web].image"
    scale = change(REPLICAS, 5, 2, "kubectl-scale", time=None)
    image = change(dep_image, "nginx:hotfix", "nginx:1", "kubectl-set", time=at(0.9))
    label = change("metadata.labels.owner", "carol", None, "kubectl-label", time=at(0.9))
    nameless = change("metadata.annotations.note", "x", None, None, time=None)
    patched = change(REPLICAS, 7, 2, "kubectl-patch", time=at(2.5))
    runs_ = [
        report_run(0, in_sync(DEP)),
        report_run(1, drifted(scale, image, label, nameless, ref=DEP)),
        report_run(1.1, drifted(scale, image, ref=DEP)),
        report_run(2, drifted(image, ref=DEP)),
        report_run(3, drifted(patched, ref=DEP)),
        report_run(4, in_sync(DEP)),
    ]
    return drift_intervals(runs_)


def test_timeline_lanes_never_hold_overlapping_bars() -> None:
    intervals = _episodes_on_one_object()
    fig = timeline_figure(intervals, now=NOW)
    assert len(lanes(fig)) == 4 == intervals[["object", "path"]].drop_duplicates().shape[0]
    drawn = bars(fig)
    assert len(drawn) == len(intervals) == 5
    per_lane: dict[int, list[tuple[float, float]]] = {}
    for b in drawn:
        per_lane.setdefault(lane_of(b), []).append((b.get_x(), b.get_x() + b.get_width()))
    assert sorted(len(v) for v in per_lane.values()) == [1, 1, 1, 2]
    for spans in per_lane.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start + 1e-9


def test_timeline_bars_have_their_true_length() -> None:
    intervals = _episodes_on_one_object()
    fig = timeline_figure(intervals, now=NOW)
    widths = sorted(b.get_width() * 24 for b in bars(fig))  # matplotlib dates are days
    expected = sorted(d.total_seconds() / 3600 for d in intervals["duration"])
    assert widths == pytest.approx(expected)
    assert min(widths) == pytest.approx(0.1)  # a 6-minute episode stays 6 minutes wide


def test_timeline_every_manager_has_its_own_colour_and_legend_entry() -> None:
    intervals = _episodes_on_one_object()
    fig = timeline_figure(intervals, now=NOW)
    names = legend_texts(fig.axes[0])
    assert names == [
        "kubectl-label",
        "kubectl-patch",
        "kubectl-scale",
        "kubectl-set",
        UNKNOWN_MANAGER,
        "open (still drifted)",
    ]
    legend = fig.axes[0].get_legend()
    assert legend is not None
    handles = legend.legend_handles[:-1]
    colours = [to_hex(h.get_facecolor()) for h in handles]  # type: ignore[union-attr]
    assert len(set(colours)) == len(colours)
    assert colours[names.index(UNKNOWN_MANAGER)] == UNKNOWN_COLOUR
    for b in bars(fig):
        assert to_hex(b.get_facecolor()) in colours


def test_manager_colours_stay_distinct_beyond_the_palette() -> None:
    managers = [f"m{i}" for i in range(len(PALETTE) + 5)] + [UNKNOWN_MANAGER]
    colours = manager_colours(managers)
    assert set(colours) == set(managers)
    assert len(set(colours.values())) == len(managers)
    assert colours[UNKNOWN_MANAGER] == UNKNOWN_COLOUR


def test_a_long_field_path_keeps_its_end() -> None:
    label = lane_label(
        "Deployment/prod/checkout-frontend",
        "spec.template.spec.containers[name=checkout-frontend].resources.limits.memory",
    )
    assert label.startswith("Deployment/prod/checkout-frontend  …")
    assert label.endswith("limits.memory") and len(label) <= 72


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


def test_an_open_episode_ends_in_an_arrow_at_now() -> None:
    fig = timeline_figure(drift_intervals(history_runs()), now=NOW)
    arrows = [line for line in fig.axes[0].lines if line.get_marker() == ">"]
    assert len(arrows) == 2  # one per open episode
    now = mdates.date2num(NOW.replace(tzinfo=None))
    assert all(line.get_xdata()[0] == pytest.approx(now) for line in arrows)  # type: ignore[index]
