"""What a drift report says, independent of its format: built from a live diff or from history.

Both constructors mask Secret values (again) and order objects the same way: open drift
first, then the most recent. Exporters only format a :class:`Report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pandas as pd

from gitops_nb.history.delivery import deployments
from gitops_nb.history.frames import runs as runs_frame
from gitops_nb.history.frames import to_utc
from gitops_nb.history.healthframes import health_intervals, restores
from gitops_nb.history.metrics import summary
from gitops_nb.history.timeline import drift_intervals
from gitops_nb.history.trust import untrusted_runs
from gitops_nb.history.views import episodes_view
from gitops_nb.model import (
    FIELD_MANAGER,
    Cause,
    DiffStatus,
    FieldChange,
    ObjectRef,
    ObjectResult,
    Outcome,
    ResourceDiff,
    Revision,
    SyncRun,
    sort_runs,
)
from gitops_nb.report.fmt import iso_now, ts_text, value_text
from gitops_nb.report.redact import raw_secrets, safe_change, safe_intervals, safe_text

LIVE = "live diff"
HISTORY = "history"
STATUS_KEYS = {
    DiffStatus.IN_SYNC: "in_sync",
    DiffStatus.DRIFTED: "drifted",
    DiffStatus.MISSING: "missing",
    DiffStatus.EXTRANEOUS: "extraneous",
    DiffStatus.ERROR: "error",
}
#: metrics.summary keys a history report keeps
METRIC_KEYS = (
    "success_rate",
    "sync_frequency",
    "mean_time_to_restore_s",
    "deployments",
    "median_lead_time_s",
    "change_failure_rate",
)


@dataclass(frozen=True)
class ReportObject:
    """One drifted object: its field changes, diff and (history) episode timing."""

    ref: ObjectRef
    status: DiffStatus
    open: bool
    changes: tuple[FieldChange, ...] = ()
    diff_text: str = ""
    first_seen: str | None = None
    last_seen: str | None = None
    resolved_at: str | None = None
    resolution: str | None = None
    managers: tuple[str, ...] = ()
    error: str | None = None
    cause: str | None = None
    """``git`` (Git moved), ``cluster`` (drift), ``both`` or ``unknown``."""
    commit: str | None = None
    """History: the commit in force while the drift lasted."""

    @property
    def is_drift(self) -> bool:
        """Drift (or an unknown cause): not only Git moving, and evaluated."""
        return not self.is_git and self.status is not DiffStatus.ERROR

    @property
    def is_git(self) -> bool:
        """A difference only Git caused: a deployment on its way, not drift."""
        return self.cause == str(Cause.GIT)

    def to_dict(self) -> dict[str, Any]:
        return {
            "object": str(self.ref),
            **self.ref.to_dict(),
            "status": str(self.status),
            "open": self.open,
            "changes": [c.to_dict() for c in self.changes],
            "diff_text": self.diff_text,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "resolved_at": self.resolved_at,
            "resolution": self.resolution,
            "managers": list(self.managers),
            "error": self.error,
            "cause": self.cause,
            "commit": self.commit,
        }


@dataclass(frozen=True)
class Report:
    """A drift report: summary, drifted objects and (history) the drift episodes."""

    app: str
    source: str
    generated_at: str
    revision: Revision | None
    period: tuple[str, str] | None
    counts: dict[str, int]
    objects: tuple[ReportObject, ...]
    #: drift_intervals() rows overlapping the period (history reports only)
    intervals: pd.DataFrame | None = field(default=None, compare=False)
    #: headline numbers from ``history.metrics.summary`` (history reports only)
    metrics: dict[str, float | None] = field(default_factory=dict)
    #: ``history.deployments`` rows first seen in the period (history reports only)
    deployments: pd.DataFrame | None = field(default=None, compare=False)
    #: ``history.health_intervals`` rows (history reports of runs that recorded health)
    health: pd.DataFrame | None = field(default=None, compare=False)
    #: ``history.restores`` rows: bad rollouts and their time to restore (idem)
    restores: pd.DataFrame | None = field(default=None, compare=False)
    #: ``history.untrusted_runs`` rows: the commits the period's runs applied or refused
    #: that no trusted key vouched for, which ones and why (history reports only)
    untrusted: pd.DataFrame | None = field(default=None, compare=False)


def safe_object(obj: ReportObject) -> ReportObject:
    """``obj`` with every change and text masked; raw values found in changes are scrubbed."""
    secrets = raw_secrets(obj.ref, obj.changes)
    return replace(
        obj,
        changes=tuple(safe_change(obj.ref, c) for c in obj.changes),
        diff_text=safe_text(obj.ref, obj.diff_text, secrets),
        error=safe_text(obj.ref, obj.error, secrets) if obj.error else obj.error,
    )


def safe_report(report: Report) -> Report:
    """Mask a report again (exporters call this first: a report may be built by hand)."""
    return replace(
        report,
        objects=tuple(safe_object(o) for o in report.objects),
        intervals=safe_intervals(report.intervals),
    )


def responsible(changes: Sequence[FieldChange]) -> list[str]:
    """Managers of the drift among ``changes``: never our own, never a Git-caused change."""
    return sorted(
        {
            c.manager
            for c in changes
            if c.manager and c.manager != FIELD_MANAGER and c.cause is not Cause.GIT
        }
    )


def _latest_change(changes: Sequence[FieldChange]) -> float:
    times = [to_utc(c.time) for c in changes if c.time]
    valid = [t.timestamp() for t in times if not pd.isna(t)]
    return max(valid) if valid else float("-inf")


def _live_order(obj: ReportObject) -> tuple[bool, bool, float, str]:
    # drift first, then Git changes not yet applied, errors last; then the most recent change
    return (not obj.open, obj.is_git, -_latest_change(obj.changes), str(obj.ref))


def from_diff(
    app: str,
    revision: Revision | None,
    diffs: Sequence[ResourceDiff],
    *,
    now: datetime | None = None,
) -> Report:
    """Report on one live diff: every drifted or failed object, counts per status."""
    counts = {key: 0 for key in STATUS_KEYS.values()}
    objects = []
    for d in diffs:
        counts[STATUS_KEYS[d.status]] += 1
        if d.status is DiffStatus.IN_SYNC:
            continue
        managers = responsible(d.changes)
        obj = ReportObject(
            ref=d.ref,
            status=d.status,
            open=d.status.is_drift,
            changes=d.changes,
            diff_text=d.diff_text,
            managers=tuple(managers),
            error=d.error,
            cause=str(d.cause) if d.cause is not None else None,
        )
        objects.append(safe_object(obj))
    counts["objects"] = len(diffs)
    return Report(
        app=app,
        source=LIVE,
        generated_at=iso_now(now),
        revision=revision,
        period=None,
        counts=counts,
        objects=tuple(sorted(objects, key=_live_order)),
    )


# --- history ------------------------------------------------------------------------------

_Sighting = tuple[ObjectResult, FieldChange | None]


def _sightings(runs: Sequence[SyncRun]) -> dict[tuple[Any, ...], _Sighting]:
    """(app, started, object key, path) → what that run recorded for the drifted field."""
    out: dict[tuple[Any, ...], _Sighting] = {}
    for run in runs:
        started = to_utc(run.started)
        for result in run.objects:
            out[(run.app, started, result.ref.key, "")] = (result, None)
            for c in result.changes:
                out[(run.app, started, result.ref.key, c.path)] = (result, c)
    return out


def _diff_lines(ref: ObjectRef, status: DiffStatus, change: FieldChange | None) -> list[str]:
    if change is None:
        if status is DiffStatus.MISSING:
            return ["@@ whole object @@", "-(absent in cluster)", "+(object in git)"]
        if status is DiffStatus.EXTRANEOUS:
            return ["@@ whole object @@", "-(object in cluster)", "+(absent in git)"]
        return ["@@ whole object @@", " (drifted; no field details recorded)"]
    return [
        f"@@ {change.path} @@",
        f"-{change.path}: {value_text(change.live)}",
        f"+{change.path}: {value_text(change.desired)}",
    ]


def synth_diff(ref: ObjectRef, status: DiffStatus, changes: Sequence[FieldChange | None]) -> str:
    """A small ``- live / + desired`` diff per changed path (records hold no diff text)."""
    lines = [f"--- live/{ref}", f"+++ git/{ref}"]
    for c in changes:
        lines.extend(_diff_lines(ref, status, c))
    return "\n".join(lines) + "\n"


def _episode_change(row: Any, sighting: _Sighting | None) -> FieldChange | None:
    if sighting is not None and sighting[1] is not None:
        return sighting[1]
    if not row.path:
        return None
    return FieldChange(row.path, row.live, row.desired_at_start, row.manager, row.operation)


def _history_object(group: pd.DataFrame, index: dict[tuple[Any, ...], _Sighting]) -> ReportObject:
    group = group.sort_values(["first_seen", "path"], kind="stable")
    last = group.iloc[int(group["last_seen"].to_numpy().argmax())]
    ref = ObjectRef(
        str(last["api_version"]), str(last["kind"]), str(last["namespace"]), str(last["name"])
    )
    changes: list[FieldChange | None] = []
    status = DiffStatus.DRIFTED
    for row in group.itertuples():
        sighting = index.get((row.app, row.last_seen, ref.key, row.path))
        if row.Index == last.name and sighting is not None:
            status = sighting[0].status
        changes.append(_episode_change(row, sighting))
    is_open = bool(last["open"])
    managers = sorted({m for joined in group["managers"] for m in str(joined).split(", ") if m})
    resolutions = list(dict.fromkeys(str(r) for r in group["resolved_by"].dropna()))
    causes = {str(c) for c in group["cause"]}
    cause = next(iter(causes)) if len(causes) == 1 else str(Cause.BOTH)
    real = tuple(c for c in changes if c is not None)
    return ReportObject(
        ref=ref,
        status=status,
        open=is_open,
        changes=real,
        diff_text=synth_diff(ref, status, changes),
        first_seen=ts_text(group["first_seen"].min()),
        last_seen=ts_text(group["last_seen"].max()),
        resolved_at=None if is_open else ts_text(group["resolved_at"].max()),
        resolution=None if is_open else ", ".join(resolutions) or None,
        managers=tuple(managers),
        cause=cause,
        commit=", ".join(dict.fromkeys(str(c)[:12] for c in group["commit"] if c)) or None,
    )


def _history_objects(intervals: pd.DataFrame, runs: Sequence[SyncRun]) -> list[ReportObject]:
    if intervals.empty:
        return []
    index = _sightings(runs)
    # an object with open and resolved episodes appears twice: drifted now, and earlier
    keys = [intervals["app"], intervals["kind"], intervals["namespace"], intervals["name"]]
    groups = intervals.groupby([*keys, intervals["open"]], sort=True)
    objects = [safe_object(_history_object(g, index)) for _, g in groups]

    def order(o: ReportObject) -> tuple[bool, float, str]:
        recent = to_utc(o.last_seen if o.open else o.resolved_at)
        return (not o.open, -recent.timestamp(), str(o.ref))

    return sorted(objects, key=order)


def _bound(value: datetime | None) -> pd.Timestamp | None:
    return None if value is None else to_utc(value)


def _state_counts(run: SyncRun | None) -> dict[str, int]:
    counts = {key: 0 for key in STATUS_KEYS.values()}
    if run is None:
        return counts
    for result in run.objects:
        counts[STATUS_KEYS[result.status]] += 1
    # a stored record may have dropped in-sync objects to fit; its counts stay exact
    counts["in_sync"] = max(counts["in_sync"], int(run.counts.get("in_sync", 0)))
    return counts


def _trust_counts(runs: Sequence[SyncRun], untrusted: pd.DataFrame) -> dict[str, int]:
    """Runs refused by commit verification (coalesced repeats included), and commits applied
    that no trusted key vouched for (``untrusted`` rows; an audit finding even with
    verification off). Shown only when not zero."""
    refused = sum(r.repeats for r in runs if r.outcome is Outcome.REFUSED)
    applied = untrusted.loc[untrusted["outcome"] == "applied", "commit"]
    out = {"runs_refused": refused, "commits_unverified": int(applied.nunique())}
    return {k: v for k, v in out.items() if v}


def from_history(
    records: Sequence[SyncRun],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    app: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Report on sync history: drift episodes overlapping ``[start, end]`` and the state at
    the last run of the period. Episodes still open at ``end`` count as open."""
    lo, hi = _bound(start), _bound(end)
    mine = sort_runs(r for r in records if app is None or r.app == app)
    upto = [r for r in mine if hi is None or to_utc(r.started) <= hi]
    # a coalesced record belongs to the period when any run it stands for does
    period_runs = [r for r in upto if lo is None or to_utc(r.last_started) >= lo]
    all_intervals = drift_intervals(upto)
    intervals = all_intervals
    if lo is not None:
        intervals = intervals[intervals["open"] | (intervals["resolved_at"] >= lo)]
    intervals = episodes_view(intervals.reset_index(drop=True))
    deploys = deployments(upto, all_intervals)
    if lo is not None:
        deploys = deploys[deploys["first_seen"] >= lo].reset_index(drop=True)

    latest = period_runs[-1] if period_runs else None
    counts = _state_counts(latest)
    n_open = int(intervals["open"].sum())
    counts.update(
        runs=sum(r.repeats for r in period_runs),
        runs_failed=sum(r.repeats for r in period_runs if r.outcome is Outcome.FAILED),
        episodes=len(intervals),
        episodes_open=n_open,
        episodes_resolved=len(intervals) - n_open,
    )
    untrusted = untrusted_runs(period_runs)
    counts.update(_trust_counts(period_runs, untrusted))
    headline = summary(runs_frame(period_runs), intervals, deployments_df=deploys)
    revision = next((r.revision for r in reversed(period_runs) if r.revision), None)
    period = None
    if period_runs or start or end:
        first = ts_text(start) if start else ts_text(period_runs[0].started if period_runs else "")
        last = ts_text(end) if end else ts_text(latest.last_finished if latest else "")
        period = (first, last)
    apps = sorted({r.app for r in mine})
    assessed = any(r.health is not None for r in upto)
    health, restored = (health_intervals(upto), restores(upto)) if assessed else (None, None)
    if lo is not None and health is not None and restored is not None:
        health = health[health["open"] | (health["healthy_at"] >= lo)].reset_index(drop=True)
        keep = restored["restored_at"].isna() | (restored["restored_at"] >= lo)
        restored = restored[keep].reset_index(drop=True)
    return Report(
        app=app or ", ".join(apps),
        source=HISTORY,
        generated_at=iso_now(now),
        revision=revision,
        period=period,
        counts=counts,
        objects=tuple(_history_objects(intervals, upto)),
        intervals=safe_intervals(intervals),
        metrics={k: headline[k] for k in METRIC_KEYS},
        deployments=deploys,
        health=health,
        restores=restored,
        untrusted=untrusted,
    )
