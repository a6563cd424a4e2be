"""Health over time: unhealthy episodes per object, commit → applied → healthy, DORA figures.

Reads the health the reconciler records (:attr:`SyncRun.health`, :attr:`ObjectResult.health`);
runs from before health was recorded carry none and are skipped, neither opening nor closing
an episode.

- :func:`health_intervals`: per object, the stretches of runs that saw it not Current after
  the run (:data:`EPISODES_TITLE`), like drift episodes: first seen, last seen, when it was
  next Current, and which commit that run was at. Whatever its sync status: a Service
  deleted by hand is a NotFound episode too. ``synced`` tells the two stories apart: True
  when every run of the episode left the object as Git has it (in sync, or written by a
  correct-mode run), i.e. "synced but not Current" (a rollout that does not become ready);
  False when the object was also out of sync (missing, drifted and not corrected).
- :func:`time_to_healthy`: per commit the runs rendered, when it was first applied, when a
  run at it was first Healthy, and the lead times from the commit to each.
- :func:`dora`: lead time for changes (commit → healthy), change failure rate (deployed
  commits with a run that ended Degraded or Failed) and time to restore (first Degraded run
  → next Healthy run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gitops_nb.history.delivery import deployments, effective
from gitops_nb.history.frames import (
    NAT,
    NO_DURATION,
    OBJECT_COLUMNS,
    TIME_DTYPE,
    frame,
    healthy_time,
    object_cols,
    to_utc,
)
from gitops_nb.history.frames import sort_runs as sort_runs
from gitops_nb.history.gitlog import reverted_commit
from gitops_nb.model import (
    Action,
    DiffStatus,
    Mode,
    ObjectRef,
    ObjectResult,
    Outcome,
    RunHealth,
    SyncRun,
)

DURATION = "timedelta64[us]"

#: the one title of :func:`health_intervals` tables (CLI, reports; notebook 02's heading)
EPISODES_TITLE = "Unhealthy episodes (not Current after the run)"

HEALTH_INTERVAL_COLUMNS: dict[str, str] = {
    "app": "str",
    **OBJECT_COLUMNS,
    "status": "str",
    "reason": "str",
    "message": "str",
    "synced": "bool",
    "commit": "str",
    "first_seen": TIME_DTYPE,
    "last_seen": TIME_DTYPE,
    "healthy_at": TIME_DTYPE,
    "open": "bool",
    "duration": DURATION,
    "runs": "int64",
    "restored_by_commit": "object",
}

TIME_TO_HEALTHY_COLUMNS: dict[str, str] = {
    "app": "str",
    "commit": "str",
    "message": "str",
    "commit_time": TIME_DTYPE,
    "applied_at": TIME_DTYPE,
    "healthy_at": TIME_DTYPE,
    "lead_time": DURATION,
    "time_to_healthy": DURATION,
    "degraded": "bool",
    "is_revert": "bool",
}


@dataclass
class _Episode:
    app: str
    ref: ObjectRef
    status: str
    reason: str
    message: str
    commit: str
    first_seen: pd.Timestamp
    last_seen: pd.Timestamp
    synced: bool
    runs: int = 1

    def row(self, healthy_at: pd.Timestamp | None, commit: str | None) -> dict[str, Any]:
        end = healthy_at if healthy_at is not None else NAT
        return {
            "app": self.app,
            **object_cols(self.ref),
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "synced": self.synced,
            "commit": self.commit,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "healthy_at": end,
            "open": healthy_at is None,
            "duration": (end - self.first_seen) if healthy_at is not None else NO_DURATION,
            "runs": self.runs,
            "restored_by_commit": commit,
        }


def _synced_after(run: SyncRun, o: ObjectResult) -> bool:
    """The object was as Git has it when ``run`` ended: found in sync, or written by it."""
    written = run.mode is Mode.CORRECT and o.action in (Action.CREATED, Action.CONFIGURED)
    return o.status is DiffStatus.IN_SYNC or written


def health_intervals(records: Iterable[SyncRun]) -> pd.DataFrame:
    """One row per (object, stretch of runs that saw it not Current after the run), oldest
    first, whether or not the object was in sync (``synced``: it was, in every run of the
    stretch; filter on it for "synced but not Current").

    The status, reason and message are the latest seen in the stretch; an object that
    leaves Git (no longer in a run that assessed health) closes nothing: its episode stays
    open, as it was never seen healthy again.
    """
    open_: dict[tuple[str, ObjectRef], _Episode] = {}
    rows: list[dict[str, Any]] = []
    for run in sort_runs(records):
        if run.health is None:
            continue
        started = to_utc(run.started)
        commit = run.revision.commit if run.revision else ""
        for o in run.objects:
            if o.health is None:
                continue
            key = (run.app, o.ref)
            ep = open_.get(key)
            if o.health.status.is_healthy:
                if ep is not None:
                    seen = to_utc(run.healthy_at) if run.healthy_at else started
                    rows.append(ep.row(seen, commit))
                    del open_[key]
            elif ep is None:
                h = o.health
                open_[key] = _Episode(
                    run.app,
                    o.ref,
                    str(h.status),
                    h.reason,
                    h.message,
                    commit,
                    started,
                    started,
                    _synced_after(run, o),
                )
            else:
                ep.last_seen, ep.runs = started, ep.runs + 1
                ep.synced = ep.synced and _synced_after(run, o)
                ep.status, ep.reason, ep.message = (
                    str(o.health.status),
                    o.health.reason,
                    o.health.message,
                )
    rows.extend(ep.row(None, None) for ep in open_.values())
    rows.sort(key=lambda r: (r["first_seen"], r["object"]))
    return frame(rows, HEALTH_INTERVAL_COLUMNS)


def time_to_healthy(records: Iterable[SyncRun]) -> pd.DataFrame:
    """Per (app, commit) the correct-mode runs reached, oldest first: first applied, first
    Healthy, the lead times from the commit, and whether a run at it ended Degraded."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for run in sort_runs(records):
        rev = run.revision
        if rev is None or not rev.commit or run.mode is not Mode.CORRECT:
            continue
        row = found.setdefault(
            (run.app, rev.commit),
            {
                "app": run.app,
                "commit": rev.commit,
                "message": rev.message.splitlines()[0] if rev.message else "",
                "commit_time": to_utc(rev.time),
                "applied_at": NAT,
                "healthy_at": NAT,
                "degraded": False,
                "is_revert": reverted_commit(rev.message) is not None,
            },
        )
        if run.outcome is Outcome.SUCCEEDED and pd.isna(row["applied_at"]):
            row["applied_at"] = to_utc(run.started)
        if run.health is RunHealth.HEALTHY and pd.isna(row["healthy_at"]):
            row["healthy_at"] = healthy_time(run)
        if run.health is RunHealth.DEGRADED or run.outcome is Outcome.FAILED:
            row["degraded"] = True
    for row in found.values():
        row["lead_time"] = _since(row["commit_time"], row["applied_at"])
        row["time_to_healthy"] = _since(row["commit_time"], row["healthy_at"])
    return frame(list(found.values()), TIME_TO_HEALTHY_COLUMNS)


def restores(records: Iterable[SyncRun]) -> pd.DataFrame:
    """Per app, each stretch from a run that ended Degraded to the next Healthy run."""
    rows: list[dict[str, Any]] = []
    down: dict[str, SyncRun] = {}
    for run in sort_runs(records):
        if run.health is RunHealth.DEGRADED and run.app not in down:
            down[run.app] = run
        elif run.health is RunHealth.HEALTHY and run.app in down:
            bad = down.pop(run.app)
            rows.append(_restore_row(bad, run))
    rows.extend(_restore_row(bad, None) for bad in down.values())
    return frame(rows, RESTORE_COLUMNS)


RESTORE_COLUMNS: dict[str, str] = {
    "app": "str",
    "degraded_at": TIME_DTYPE,
    "degraded_commit": "str",
    "restored_at": TIME_DTYPE,
    "restored_by_commit": "object",
    "time_to_restore": DURATION,
}


def _restore_row(bad: SyncRun, good: SyncRun | None) -> dict[str, Any]:
    start = to_utc(bad.started)
    end = healthy_time(good) if good is not None else NAT
    return {
        "app": bad.app,
        "degraded_at": start,
        "degraded_commit": bad.revision.commit if bad.revision else "",
        "restored_at": end,
        "restored_by_commit": good.revision.commit if good and good.revision else None,
        "time_to_restore": _since(start, end),
    }


def dora(records: Iterable[SyncRun]) -> pd.DataFrame:
    """One row per app: deployments (commits that changed something for it, see
    :func:`~gitops_nb.history.delivery.deployments`), median lead time (commit → healthy),
    change failure rate (deployed commits with a Degraded or failed run), median time to
    restore."""
    runs = list(records)
    tth, rest = time_to_healthy(runs), restores(runs)
    changed = effective(deployments(runs))
    counted = set(zip(changed["app"], changed["commit"], strict=True))
    rows = []
    for app in sorted({r.app for r in runs}):
        t = tth[tth["app"] == app]
        # only commits that changed something for this app are its deployments
        mine = [(app, c) in counted for c in t["commit"]]
        deployed = t[t["applied_at"].notna() & pd.Series(mine, index=t.index, dtype=bool)]
        r = rest[(rest["app"] == app) & rest["restored_at"].notna()]
        n = len(deployed)
        rows.append(
            {
                "app": app,
                "deployments": n,
                "lead_time_median": deployed["time_to_healthy"].median() if n else NO_DURATION,
                "change_failure_rate": float(deployed["degraded"].mean()) if n else float("nan"),
                "failed_changes": int(deployed["degraded"].sum()) if n else 0,
                "restores": len(r),
                "time_to_restore_median": r["time_to_restore"].median() if len(r) else NO_DURATION,
            }
        )
    return frame(rows, DORA_COLUMNS)


DORA_COLUMNS: dict[str, str] = {
    "app": "str",
    "deployments": "int64",
    "lead_time_median": DURATION,
    "change_failure_rate": "float64",
    "failed_changes": "int64",
    "restores": "int64",
    "time_to_restore_median": DURATION,
}


def _since(start: pd.Timestamp, end: pd.Timestamp) -> pd.Timedelta:
    if pd.isna(start) or pd.isna(end):
        return NO_DURATION
    return end - start


__all__ = [
    "DORA_COLUMNS",
    "EPISODES_TITLE",
    "HEALTH_INTERVAL_COLUMNS",
    "RESTORE_COLUMNS",
    "TIME_TO_HEALTHY_COLUMNS",
    "dora",
    "health_intervals",
    "restores",
    "time_to_healthy",
]
