"""Sync-run records → pandas DataFrames: runs, per-object results, drifted fields.

Every frame has a fixed column set, also when empty, so notebooks and reports never hit a
``KeyError``. Timestamps are tz-aware UTC; runs are sorted by ``started``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from gitops_nb.model import (
    COUNT_KEYS,
    Cause,
    ObjectRef,
    RunHealth,
    SyncRun,
    infer_causes,
    parse_time,
)
from gitops_nb.model import sort_runs as sort_runs  # the history modules' run order

TIME_DTYPE = "datetime64[us, UTC]"
#: NaT typed as a Timestamp: it behaves as one (comparisons, arithmetic) and types stay simple
NAT = cast(pd.Timestamp, pd.NaT)
#: a missing duration: plain NaT would make an all-missing column a datetime column
NO_DURATION = cast(pd.Timedelta, np.timedelta64("NaT", "us"))

RUN_COLUMNS: dict[str, str] = {
    "run_id": "str",
    "app": "str",
    "started": TIME_DTYPE,
    "finished": TIME_DTYPE,
    "duration_s": "float64",
    "trigger": "str",
    "mode": "str",
    "outcome": "str",
    "commit": "str",
    "commit_time": TIME_DTYPE,
    "author": "str",
    "message": "str",
    **{k: "int64" for k in COUNT_KEYS},
    "drift": "int64",
    "git_changes": "int64",
    "error": "object",
    "repeats": "int64",
    "last_started": TIME_DTYPE,
    "last_finished": TIME_DTYPE,
    "health": "object",
    "healthy_at": TIME_DTYPE,
}

OBJECT_COLUMNS: dict[str, str] = {
    "api_version": "str",
    "kind": "str",
    "namespace": "str",
    "name": "str",
    "object": "str",
}

RESULT_COLUMNS: dict[str, str] = {
    "run_id": "str",
    "app": "str",
    "started": TIME_DTYPE,
    "outcome": "str",
    **OBJECT_COLUMNS,
    "action": "str",
    "status": "str",
    "cause": "object",
    "error": "object",
    "n_changes": "int64",
    "health": "object",
    "health_reason": "object",
}

DRIFT_COLUMNS: dict[str, str] = {
    "run_id": "str",
    "app": "str",
    "started": TIME_DTYPE,
    **OBJECT_COLUMNS,
    "path": "str",
    "cause": "str",
    "live": "str",
    "desired": "str",
    "manager": "object",
    "operation": "object",
    "time": TIME_DTYPE,
    "op": "str",
}


def to_utc(value: str | dt.datetime | pd.Timestamp | None) -> pd.Timestamp:
    """A UTC timestamp (microseconds) for pandas: ISO 8601 strings are read by
    :func:`gitops_nb.model.parse_time`; datetimes and timestamps are converted (naive means
    UTC). Empty, None and NaT → NaT."""
    if isinstance(value, str):
        value = parse_time(value)
    if value is None or pd.isna(value):
        return NAT
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.as_unit("us")


def healthy_time(run: SyncRun) -> pd.Timestamp:
    """When a run saw everything it applied Current: NaT unless the run ended Healthy, else
    its ``healthy_at`` (the end of its wait), else when it finished. The one definition of
    "healthy" behind :func:`~gitops_nb.history.metrics.lead_times` and
    :func:`~gitops_nb.history.healthframes.time_to_healthy`."""
    if run.health is not RunHealth.HEALTHY:
        return NAT
    return to_utc(run.healthy_at or run.finished)


def to_json(value: Any) -> str:
    """A stable, readable string for a field value (tables compare and display strings)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def frame(rows: Sequence[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` in order and their dtypes, also when empty.

    Built column by column so an ``object`` column keeps ``None`` (pandas would otherwise
    infer a string column and turn ``None`` into NaN).
    """
    data: dict[str, pd.Series] = {}
    for col, dtype in columns.items():
        values = [row.get(col) for row in rows]
        if dtype.startswith("datetime64"):
            data[col] = pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype(
                cast(Any, dtype)
            )
        else:
            data[col] = pd.Series(values, dtype=cast(Any, dtype))
    return pd.DataFrame(data, columns=list(columns))


def object_cols(ref: ObjectRef | None) -> dict[str, str]:
    """The object columns every per-object frame starts with ("" for no object)."""
    if ref is None:
        return dict.fromkeys(("api_version", "kind", "namespace", "name", "object"), "")
    return {
        "api_version": ref.api_version,
        "kind": ref.kind,
        "namespace": ref.namespace,
        "name": ref.name,
        "object": str(ref),
    }


def _by_cause(run: SyncRun) -> dict[str, int]:
    """Objects that differed because the cluster moved (``drift``: cause cluster, both or
    unknown) and because Git moved (``git_changes``: git or both); ``both`` counts in each."""
    drift = git = 0
    for o in run.objects:
        if not o.status.is_drift:
            continue
        cause = infer_causes(o).cause or Cause.UNKNOWN
        drift += cause is not Cause.GIT
        git += cause.is_deployment
    return {"drift": drift, "git_changes": git}


def runs(records: Iterable[SyncRun]) -> pd.DataFrame:
    """One row per record, with revision and per-key counts flattened into columns.

    ``drifted`` is the record's count of objects that differed from Git for any reason;
    ``drift`` counts those the cluster moved and ``git_changes`` those Git moved (a
    deployment), so charts of drift never count deployments.

    A coalesced record stands for ``repeats`` runs, the last of which ran from
    ``last_started`` to ``last_finished`` (equal to ``started``/``finished`` for one run).
    """
    rows = []
    for r in sort_runs(records):
        rev = r.revision
        rows.append(
            {
                "run_id": r.run_id,
                "app": r.app,
                "started": to_utc(r.started),
                "finished": to_utc(r.finished),
                "duration_s": r.duration_s,
                "trigger": r.trigger,
                "mode": str(r.mode),
                "outcome": str(r.outcome),
                "commit": rev.commit if rev else "",
                "commit_time": to_utc(rev.time) if rev else NAT,
                "author": rev.author if rev else "",
                "message": rev.message if rev else "",
                **{k: int(r.counts.get(k, 0)) for k in COUNT_KEYS},
                **_by_cause(r),
                "error": r.error,
                "repeats": r.repeats,
                "last_started": to_utc(r.last_started),
                "last_finished": to_utc(r.last_finished),
                "health": str(r.health) if r.health is not None else None,
                "healthy_at": healthy_time(r),
            }
        )
    return frame(rows, RUN_COLUMNS)


def resource_results(records: Iterable[SyncRun]) -> pd.DataFrame:
    """One row per run × object: what the run found (status) and did (action)."""
    rows = []
    for r in sort_runs(records):
        started = to_utc(r.started)
        for o in r.objects:
            rows.append(
                {
                    "run_id": r.run_id,
                    "app": r.app,
                    "started": started,
                    "outcome": str(r.outcome),
                    **object_cols(o.ref),
                    "action": str(o.action),
                    "status": str(o.status),
                    "cause": str(o.cause) if o.cause is not None else None,
                    "error": o.error,
                    "n_changes": len(o.changes),
                    "health": str(o.health.status) if o.health is not None else None,
                    "health_reason": o.health.reason if o.health is not None else None,
                }
            )
    return frame(rows, RESULT_COLUMNS)


def drift(records: Iterable[SyncRun]) -> pd.DataFrame:
    """One row per run × object × differing field, with its cause (``git``: a deployment;
    ``cluster`` / ``both``: drift) and the manager that owns the live value.

    ``live`` and ``desired`` are JSON strings (strings stay as they are) so the frame
    displays and compares cleanly whatever the field type.
    """
    rows = []
    for r in sort_runs(records):
        started = to_utc(r.started)
        for o in r.objects:
            o = infer_causes(o)
            for c in o.changes:
                rows.append(
                    {
                        "run_id": r.run_id,
                        "app": r.app,
                        "started": started,
                        **object_cols(o.ref),
                        "path": c.path,
                        "cause": str(c.cause or o.cause or Cause.UNKNOWN),
                        "live": to_json(c.live),
                        "desired": to_json(c.desired),
                        "manager": c.manager,
                        "operation": c.operation,
                        "time": to_utc(c.time),
                        "op": c.op,
                    }
                )
    return frame(rows, DRIFT_COLUMNS)
