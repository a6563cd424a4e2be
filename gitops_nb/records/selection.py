"""Which records a read returns: one rule for every store.

A record is in the range when any run it stands for is (a coalesced record that began
before ``since`` and ran on into it counts); ``outcome`` keeps the records of that outcome
or of any of several. PostgreSQL narrows the rows in SQL first; every store then applies
this rule, so the same filters give the same records whichever store holds them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from gitops_nb.model import SyncRun, parse_time


def select_runs(
    runs: Iterable[SyncRun],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    outcome: str | Sequence[str] | None = None,
) -> list[SyncRun]:
    """The records of ``runs`` (order kept) within ``since``..``until`` and of ``outcome``."""
    outcomes = [outcome] if isinstance(outcome, str) else outcome
    return [
        r
        for r in runs
        if within(r, since, until) and (outcomes is None or r.outcome.value in outcomes)
    ]


def within(run: SyncRun, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    """Whether any run ``run`` stands for started in ``since``..``until``."""
    first, last = parse_time(run.started), parse_time(run.last_started)
    if first is None or last is None:
        return since is None and until is None
    return (since is None or last >= since) and (until is None or first <= until)
