"""The fleet notebook's views for one selection of apps and one time range (pure pandas).

Notebook 05 has one app filter and one time range; every view follows them. This module
computes all views of a selection at once, so the widgets (``widgets.FleetDashboard``) only
redraw, and the unit tests check the numbers without a kernel:

- ``heatmap``: :func:`~gitops_nb.history.drift_days` of the episodes overlapping the range,
  its days cut to the range;
- ``most_drifting``: the apps with the most drift episodes in the range (its own table);
- ``mttr``: mean time to restore per app, from the episodes resolved in the range;
- ``managers``: who made the hand changes in the range, ranked;
- ``failing``: the apps whose newest run in the range failed (with no range end: now);
- ``apps``: :func:`~gitops_nb.history.fleet` of the selection;
- ``episodes``: the drift episodes themselves.

A coalesced record is in the range when any run it stands for is; an episode when it was open
at some time in the range (an open one lasts until now).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from gitops_nb.history.fleetview import drift_days, fleet, managers
from gitops_nb.notebook.filters import ALL, FilterValue, TimeValue, filter_frame, time_bound, wanted

MOST_DRIFTING = ["app", "episodes", "open_episodes", "top_manager"]
MTTR = ["app", "resolved_episodes", "mean_time_to_restore_s", "longest_s"]


@dataclass(frozen=True)
class FleetViews:
    """Every view of notebook 05 for one selection."""

    apps: pd.DataFrame
    heatmap: pd.DataFrame
    most_drifting: pd.DataFrame
    mttr: pd.DataFrame
    managers: pd.DataFrame
    failing: list[str]
    episodes: pd.DataFrame
    runs: int
    records: int

    def summary(self) -> str:
        """``2 apps, 31 sync runs in 9 records; failing now: billing``."""
        return (
            f"{len(self.apps)} apps, {self.runs} sync runs in {self.records} records; "
            f"failing now: {', '.join(self.failing) or 'none'}"
        )


def select_runs(
    runs_df: pd.DataFrame, app: FilterValue = None, start: TimeValue = None, end: TimeValue = None
) -> pd.DataFrame:
    """The records of the chosen apps whose runs overlap ``start``..``end``."""
    out = filter_frame(runs_df, app=app) if wanted(app) else runs_df
    lo, hi = time_bound(start), time_bound(end)
    last = out["last_started"] if "last_started" in out.columns else out["started"]
    if lo is not None:
        out = out[last.fillna(out["started"]) >= lo]
    if hi is not None:
        out = out[out["started"] <= hi]
    return out


def fleet_views(
    runs_df: pd.DataFrame,
    intervals_df: pd.DataFrame,
    *,
    app: FilterValue = None,
    start: TimeValue = None,
    end: TimeValue = None,
    top: int = 10,
) -> FleetViews:
    """All views of the apps ``app`` (one, several, or None / ``ALL``: every app) in the
    range ``start``..``end`` (either may be None: open-ended)."""
    runs = select_runs(runs_df, app, start, end)
    eps = (
        filter_frame(intervals_df, app=app, start=start, end=end)
        if len(intervals_df)
        else (intervals_df)
    )
    apps = fleet(runs, eps)
    lo, hi = time_bound(start), time_bound(end)
    days = drift_days(eps, end=hi)
    if not days.empty and (lo is not None or hi is not None):
        cols = [pd.Timestamp(d) for d in days.columns]
        keep = [
            d
            for d in cols
            if (lo is None or d >= lo.floor("D")) and (hi is None or d <= hi.floor("D"))
        ]
        days = days[keep]
        days = days[days.sum(axis=1) > 0]
    drifting = apps[apps["episodes"] > 0].sort_values(
        ["episodes", "open_episodes", "app"], ascending=[False, False, True]
    )
    return FleetViews(
        apps=apps,
        heatmap=days,
        most_drifting=drifting[MOST_DRIFTING].head(top).reset_index(drop=True),
        mttr=_mttr(eps),
        managers=managers(eps),
        failing=sorted(str(a) for a in apps.loc[apps["failing_now"], "app"]),
        episodes=eps,
        runs=int(runs["repeats"].sum()) if "repeats" in runs.columns else len(runs),
        records=len(runs),
    )


def _mttr(eps: pd.DataFrame) -> pd.DataFrame:
    """Per app: resolved episodes, their mean and longest duration (s), slowest first."""
    if eps.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in MTTR}).astype({"app": "str"})
    resolved = eps[~eps["open"].astype(bool)].assign(
        seconds=lambda d: d["duration"].dt.total_seconds()
    )
    df = (
        resolved.groupby("app")
        .agg(
            resolved_episodes=("seconds", "size"),
            mean_time_to_restore_s=("seconds", "mean"),
            longest_s=("seconds", "max"),
        )
        .reset_index()
        .sort_values(["mean_time_to_restore_s", "app"], ascending=[False, True])
        .reset_index(drop=True)
    )
    return df.astype({"app": "str", "resolved_episodes": "int64"})[MTTR]


def day_range(runs_df: pd.DataFrame, intervals_df: pd.DataFrame) -> list[pd.Timestamp]:
    """The UTC days the records and episodes span (the time-range widget's choices)."""
    times = [t for t in runs_df.get("started", pd.Series(dtype=object)).dropna()]
    times += [t for t in intervals_df.get("first_seen", pd.Series(dtype=object)).dropna()]
    if not times:
        return []
    lo, hi = min(times).floor("D"), max(times).floor("D")
    return list(pd.date_range(lo, hi, freq="D"))


def app_choices(runs_df: pd.DataFrame) -> list[str]:
    """``ALL`` and every app of the records, sorted."""
    return [ALL, *sorted({str(a) for a in runs_df.get("app", pd.Series(dtype=str))})]


__all__ = ["FleetViews", "app_choices", "day_range", "fleet_views", "select_runs"]
