"""Drift before deployments, open drift first: the order every output shows them in."""

from __future__ import annotations

import pandas as pd


def episodes_view(intervals: pd.DataFrame) -> pd.DataFrame:
    """Drift episodes with the open ones first, each group by first sighting."""
    if intervals.empty:
        return intervals
    order = intervals.assign(_closed=~intervals["open"].astype(bool))
    order = order.sort_values(["_closed", "first_seen"], kind="stable")
    return order.drop(columns="_closed").reset_index(drop=True)


__all__ = ["episodes_view"]
