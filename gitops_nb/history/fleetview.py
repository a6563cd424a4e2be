"""Fleet views: many apps at once, from runs and drift episodes (pure; frames in, frames out).

- :func:`fleet` — one row per app: runs (coalesced records count their ``repeats``),
  records, drift episodes, open episodes, mean time to restore, the manager behind most
  episodes, the newest run's outcome, whether the app is failing now, and whether its newest
  record is the fleet's prune of it (``removed``: no generator makes it any more);
- :func:`drift_days` — app × day: how many of the app's drift episodes were open on that day
  (the heatmap of the fleet notebook);
- :func:`managers` — who makes the hand changes, ranked by episodes across the fleet.

Inputs are :func:`gitops_nb.history.runs` and :func:`gitops_nb.history.drift_intervals`
frames, so the same functions serve a directory, an export or PostgreSQL.
"""

from __future__ import annotations

import pandas as pd

from gitops_nb.history.frames import TIME_DTYPE, frame
from gitops_nb.model import FIELD_MANAGER, REMOVED_TRIGGER

"""The trigger of the record a fleet writes when it prunes a removed app."""

FLEET_COLUMNS: dict[str, str] = {
    "app": "str",
    "runs": "int64",
    "records": "int64",
    "episodes": "int64",
    "open_episodes": "int64",
    "mean_time_to_restore_s": "float64",
    "top_manager": "object",
    "last_run": TIME_DTYPE,
    "last_outcome": "str",
    "failing_now": "bool",
    "removed": "bool",
}


def fleet(runs_df: pd.DataFrame, intervals_df: pd.DataFrame) -> pd.DataFrame:
    """One row per app, apps failing now first, then by drift episodes (most first)."""
    rows = []
    for app, runs in runs_df.groupby("app", sort=True):
        eps = intervals_df[intervals_df["app"] == app]
        resolved = eps[~eps["open"].astype(bool)]
        mttr = resolved["duration"].dt.total_seconds().mean() if len(resolved) else None
        hands = eps["manager"].dropna()
        hands = hands[hands != FIELD_MANAGER]
        newest = runs.sort_values("started").iloc[-1]
        last = newest["last_started"] if "last_started" in runs.columns else newest["started"]
        rows.append(
            {
                "app": str(app),
                "runs": int(runs["repeats"].sum()) if "repeats" in runs.columns else len(runs),
                "records": len(runs),
                "episodes": len(eps),
                "open_episodes": int(eps["open"].astype(bool).sum()),
                "mean_time_to_restore_s": float(mttr) if mttr is not None else float("nan"),
                "top_manager": str(hands.value_counts().index[0]) if len(hands) else None,
                "last_run": last,
                "last_outcome": str(newest["outcome"]),
                "failing_now": newest["outcome"] == "failed",
                "removed": newest.get("trigger") == REMOVED_TRIGGER,
            }
        )
    df = frame(rows, FLEET_COLUMNS)
    if df.empty:
        return df
    return df.sort_values(
        ["failing_now", "episodes", "app"], ascending=[False, False, True]
    ).reset_index(drop=True)


def drift_days(intervals_df: pd.DataFrame, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """App × UTC day: the number of the app's drift episodes open at some time that day.

    Open episodes count up to ``end`` (default: the newest ``last_seen``).
    """
    if intervals_df.empty:
        return pd.DataFrame(dtype="int64")
    stop = end if end is not None else intervals_df["last_seen"].max()
    counts: dict[tuple[str, pd.Timestamp], int] = {}
    for app, first, resolved in zip(
        intervals_df["app"], intervals_df["first_seen"], intervals_df["resolved_at"], strict=True
    ):
        last = stop if pd.isna(resolved) else resolved
        for day in pd.date_range(first.floor("D"), last.floor("D"), freq="D"):
            counts[(str(app), day)] = counts.get((str(app), day), 0) + 1
    s = pd.Series(counts, dtype="int64")
    s.index = s.index.set_names(["app", "day"])
    return s.unstack("day", fill_value=0).sort_index()


def managers(intervals_df: pd.DataFrame) -> pd.DataFrame:
    """Who makes the hand changes: episodes and apps per manager, most episodes first."""
    eps = intervals_df[intervals_df["manager"].notna()]
    eps = eps[eps["manager"] != FIELD_MANAGER]
    df = (
        eps.groupby("manager")
        .agg(episodes=("app", "size"), apps=("app", "nunique"))
        .reset_index()
        .sort_values(["episodes", "manager"], ascending=[False, True])
        .reset_index(drop=True)
    )
    return df.astype({"manager": "str", "episodes": "int64", "apps": "int64"})


__all__ = ["drift_days", "fleet", "managers"]
