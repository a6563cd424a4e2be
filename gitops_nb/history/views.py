"""Drift before deployments, open drift first: the order every output shows them in."""

from __future__ import annotations

import pandas as pd

DRIFT_CAUSES = ("cluster", "both", "unknown")


def episodes_view(intervals: pd.DataFrame) -> pd.DataFrame:
    """Drift episodes with the open ones first, each group by first sighting."""
    if intervals.empty:
        return intervals
    order = intervals.assign(_closed=~intervals["open"].astype(bool))
    order = order.sort_values(["_closed", "first_seen"], kind="stable")
    return order.drop(columns="_closed").reset_index(drop=True)


def drift_rows(drift: pd.DataFrame) -> pd.DataFrame:
    """Per-run differing fields the cluster caused (``history.drift`` rows)."""
    return drift[drift["cause"].isin(DRIFT_CAUSES)].reset_index(drop=True)


def git_rows(drift: pd.DataFrame) -> pd.DataFrame:
    """Per-run differing fields Git caused: deployments on their way."""
    return drift[~drift["cause"].isin(DRIFT_CAUSES)].reset_index(drop=True)


__all__ = ["DRIFT_CAUSES", "drift_rows", "episodes_view", "git_rows"]
