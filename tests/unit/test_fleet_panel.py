"""Notebook 05: one app filter and one time range drive every fleet view (known answers).

The history (tests/unit/test_fleet_views.py): ``web`` drifts from hour 24 to 30 (kubectl-edit,
resolved after 6 h) and again from hour 50 (helm, still open); ``shop`` fails at hour 50;
``quiet`` never drifts.
"""

from __future__ import annotations

import base64

import pandas as pd
import pytest

from gitops_nb.history import drift_intervals, runs
from gitops_nb.notebook import widgets as w
from gitops_nb.notebook.fleetpanel import FleetViews, app_choices, day_range, fleet_views
from tests.factories import at, fleet_history


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    recs = fleet_history()
    return runs(recs), drift_intervals(recs)


def views(frames: tuple[pd.DataFrame, pd.DataFrame], **kw: object) -> FleetViews:
    return fleet_views(*frames, **kw)  # type: ignore[arg-type]


def test_every_app_every_day(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    v = views(frames)
    assert v.summary() == f"3 apps, {52 + 51 + 52} sync runs in {v.records} records; " + (
        "failing now: shop"
    )
    assert list(v.most_drifting["app"]) == ["web"]
    assert v.most_drifting.iloc[0][["episodes", "open_episodes"]].tolist() == [2, 1]
    assert v.mttr.to_dict("records") == [
        {
            "app": "web",
            "resolved_episodes": 1,
            "mean_time_to_restore_s": 21600.0,
            "longest_s": 21600.0,
        }
    ]
    assert v.managers[["manager", "episodes"]].values.tolist() == [["helm", 1], ["kubectl-edit", 1]]
    assert list(v.heatmap.index) == ["web"]
    assert list(v.apps["app"]) == ["shop", "web", "quiet"]
    assert len(v.episodes) == 2


def test_the_app_filter_drives_every_view(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    v = views(frames, app="shop")
    assert (list(v.apps["app"]), v.failing) == (["shop"], ["shop"])
    assert v.most_drifting.empty and v.mttr.empty and v.managers.empty and v.heatmap.empty
    assert v.runs == 51 and v.episodes.empty
    web = views(frames, app="web")
    assert (web.failing, list(web.heatmap.index), len(web.managers)) == ([], ["web"], 2)


def test_the_time_range_drives_every_view(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    early = views(frames, start=at(0), end=at(40))  # the first episode; no failure yet
    assert early.failing == []  # as of the end of the range
    assert early.managers["manager"].tolist() == ["kubectl-edit"]
    assert early.most_drifting.iloc[0][["episodes", "open_episodes"]].tolist() == [1, 0]
    assert early.mttr["mean_time_to_restore_s"].tolist() == [21600.0]
    assert max(early.heatmap.columns) <= pd.Timestamp(at(40)).floor("D")
    # whole coalesced records that overlap the range: web 0-50, shop 0-50, quiet 0-52
    assert early.runs == 50 + 50 + 52
    late = views(frames, start=at(45))  # the helm episode, open; shop failing
    assert late.failing == ["shop"]
    assert late.managers["manager"].tolist() == ["helm"]
    assert late.mttr.empty  # nothing resolved in the range
    assert min(late.heatmap.columns) >= pd.Timestamp(at(45)).floor("D")
    assert late.most_drifting.iloc[0][["episodes", "open_episodes"]].tolist() == [1, 1]
    both = views(frames, app="web", start=at(45))
    assert (both.failing, both.managers["manager"].tolist()) == ([], ["helm"])


def test_choices(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assert app_choices(frames[0]) == ["(all)", "quiet", "shop", "web"]
    days = day_range(*frames)
    assert days[0] == pd.Timestamp(at(0)).floor("D") and days[-1] == pd.Timestamp(at(51)).floor("D")


def test_dashboard_controls_redraw_every_view(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    dash = w.FleetDashboard(*frames)
    assert "failing now: shop" in dash.summary.value
    assert "helm" in dash.managers.value and "kubectl-edit" in dash.managers.value
    first_png = dash.heatmap.value
    dash.app.value = "shop"
    assert dash.summary.value.startswith("1 apps") and "failing now: shop" in dash.summary.value
    for view in (dash.most_drifting, dash.mttr, dash.managers, dash.episodes):
        assert "no " in view.value and "helm" not in view.value
    assert dash.heatmap.value != first_png
    dash.app.value = "(all)"
    dash.days.index = (0, 1)  # the first two days: the first episode only
    assert "failing now: none" in dash.summary.value
    assert "kubectl-edit" in dash.managers.value and "helm" not in dash.managers.value
    assert dash.selection()["end"] == pd.Timestamp(at(0)).floor("D") + pd.Timedelta(days=2)
    # Static fallbacks next to the live widget: readable where widgets do not run.
    bundle = dash.managers._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == dash.managers.value
    png = base64.b64decode(dash.heatmap._repr_mimebundle_()["image/png"])
    assert png.startswith(b"\x89PNG")


def test_dashboard_summary_names_the_selection(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Even a fleet of one app shows which choice is on screen (the browser test changes the
    drop-down and expects the cell to say so)."""
    dash = w.FleetDashboard(*frames)
    assert dash.summary.value.endswith(
        f"(every app, {dash.days.options[0][0]} → {dash.days.options[-1][0]})"
    )
    dash.app.value = "quiet"
    assert "(app quiet, " in dash.summary.value
