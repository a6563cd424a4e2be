"""Deployments (``history.deployments``): the changes Git made, one row per commit rendered.

A difference whose cause is ``git`` (or ``both``) is a deployment, never drift. Per commit:

- ``first_seen``: the first run that rendered it;
- ``applied_at``: when the first succeeded ``correct`` run at that commit finished writing
  its Git-caused differences (or, with nothing to write, finished);
- ``in_sync_at``: the start of the first later succeeded run at that commit that found no
  Git-caused difference left (verified);
- ``lead_time`` = ``applied_at - commit_time``, ``time_to_sync`` = ``in_sync_at -
  commit_time``;
- ``objects`` and ``fields``: what it changed (Git-caused differences the runs at that
  commit saw; ``"Kind/ns/name path"``, path ``""`` for a whole object);
- ``is_revert`` / ``reverts`` / ``reverted_by``: a ``git revert`` and its target, so
  change-failure figures come from this table (:func:`change_failure`);
- ``effective``: the commit changed something for this app: its runs saw Git-caused
  differences, or it ended a drift episode (Git adopted the live value, or superseded it).
  In a repository shared by many apps most commits change none of a given app's objects:
  they are listed (the app did render them) but are not deployments of that app, and the
  delivery figures (:func:`change_failure`, lead times, DORA) count effective rows only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gitops_nb.history.frames import NAT, NO_DURATION, TIME_DTYPE, frame, sort_runs, to_utc
from gitops_nb.history.gitlog import reverted_commit
from gitops_nb.history.timeline import drift_intervals
from gitops_nb.model import Cause, DiffStatus, Mode, ObjectResult, Revision, SyncRun, infer_causes

DEPLOYMENT_COLUMNS: dict[str, str] = {
    "app": "str",
    "commit": "str",
    "author": "str",
    "message": "str",
    "commit_time": TIME_DTYPE,
    "first_seen": TIME_DTYPE,
    "applied_at": TIME_DTYPE,
    "in_sync_at": TIME_DTYPE,
    "lead_time": "timedelta64[us]",
    "time_to_sync": "timedelta64[us]",
    "is_revert": "bool",
    "reverts": "object",
    "reverted_by": "object",
    "failed": "bool",
    "effective": "bool",
    "n_objects": "int64",
    "objects": "object",
    "fields": "object",
    "runs": "int64",
}


def git_changes(result: ObjectResult) -> list[str]:
    """The Git-caused paths of one object line (``""`` for a whole object)."""
    if not result.status.is_drift:
        return []
    result = infer_causes(result)
    if not result.changes:
        return [""] if result.cause is not None and result.cause.is_deployment else []
    return [
        c.path for c in result.changes if (c.cause or result.cause or Cause.UNKNOWN).is_deployment
    ]


@dataclass
class _Deployment:
    app: str
    revision: Revision
    first_seen: pd.Timestamp
    applied_at: pd.Timestamp = NAT
    in_sync_at: pd.Timestamp = NAT
    runs: int = 0
    fields: dict[str, list[str]] = field(default_factory=dict)

    def see(self, run: SyncRun) -> None:
        self.runs += 1
        pending = False
        for o in run.objects:
            paths = git_changes(o)
            if paths:
                pending = True
                seen = self.fields.setdefault(str(o.ref), [])
                seen.extend(p for p in paths if p not in seen)
        if not run.outcome.ends_drift:
            return
        errors = any(o.status is DiffStatus.ERROR for o in run.objects)
        if pd.isna(self.applied_at) and run.mode is Mode.CORRECT and not errors:
            self.applied_at = to_utc(run.finished)
        if not pending and not errors and pd.isna(self.in_sync_at):
            self.in_sync_at = to_utc(run.started)

    def row(self, reverted_by: str | None, ended_drift: bool) -> dict[str, Any]:
        rev = self.revision
        ctime = to_utc(rev.time)
        reverts = reverted_commit(rev.message)
        is_revert = reverts is not None or rev.message.startswith('Revert "')

        def since(t: pd.Timestamp) -> pd.Timedelta:
            return NO_DURATION if pd.isna(t) or pd.isna(ctime) else t - ctime

        return {
            "app": self.app,
            "commit": rev.commit,
            "author": rev.author,
            "message": rev.message.splitlines()[0] if rev.message else "",
            "commit_time": ctime,
            "first_seen": self.first_seen,
            "applied_at": self.applied_at,
            "in_sync_at": self.in_sync_at,
            "lead_time": since(self.applied_at),
            "time_to_sync": since(self.in_sync_at),
            "is_revert": is_revert,
            "reverts": reverts,
            "reverted_by": reverted_by,
            "failed": is_revert or reverted_by is not None,
            "effective": bool(self.fields) or ended_drift,
            "n_objects": len(self.fields),
            "objects": sorted(self.fields),
            "fields": [f"{o} {p}".rstrip() for o in sorted(self.fields) for p in self.fields[o]],
            "runs": self.runs,
        }


def deployments(records: Iterable[SyncRun], intervals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (app, commit) the runs rendered, oldest first; see the module doc.

    ``intervals``: :func:`~gitops_nb.history.timeline.drift_intervals` of the same records,
    when the caller has them (computed otherwise)."""
    runs = sort_runs(records)
    found: dict[tuple[str, str], _Deployment] = {}
    for run in runs:
        rev = run.revision
        if rev is None or not rev.commit:
            continue
        key = (run.app, rev.commit)
        dep = found.get(key)
        if dep is None:
            dep = found[key] = _Deployment(run.app, rev, to_utc(run.started))
        dep.see(run)
    reverted_by: dict[tuple[str, str], str] = {}
    for (app, sha), dep in found.items():
        target = reverted_commit(dep.revision.message)
        if target:
            for other_app, other in found:
                if other_app == app and other.startswith(target):
                    reverted_by.setdefault((app, other), sha)
    episodes = drift_intervals(runs) if intervals is None else intervals
    ended = {
        (app, commit)
        for app, commit in zip(episodes["app"], episodes["resolving_commit"], strict=True)
        if commit
    }
    rows = [dep.row(reverted_by.get(key), key in ended) for key, dep in found.items()]
    return frame(rows, DEPLOYMENT_COLUMNS)


def effective(deployments_df: pd.DataFrame) -> pd.DataFrame:
    """The rows that changed something for their app (all rows of frames without the
    column)."""
    if "effective" not in deployments_df.columns or deployments_df.empty:
        return deployments_df
    return deployments_df[deployments_df["effective"].astype(bool)]


def change_failure(deployments_df: pd.DataFrame) -> dict[str, Any]:
    """Change-failure figures from :func:`deployments`: reverts and reverted deployments,
    among the effective ones."""
    deployments_df = effective(deployments_df)
    n = len(deployments_df)
    failed = int(deployments_df["failed"].astype(bool).sum()) if n else 0
    return {
        "deployments": n,
        "reverts": int(deployments_df["is_revert"].astype(bool).sum()) if n else 0,
        "reverted": int(deployments_df["reverted_by"].notna().sum()) if n else 0,
        "failed_changes": failed,
        "change_failure_rate": failed / n if n else None,
    }


__all__ = ["DEPLOYMENT_COLUMNS", "change_failure", "deployments", "effective", "git_changes"]
