"""Loaders and small analyses the audit notebooks call, so the notebooks stay thin.

The live audit goes through :class:`ReadOnlyKube`: a client that refuses every request
that could write (anything but GET, unless it is a server dry-run), so a notebook cannot
change the cluster even by mistake.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from gitops_nb import config
from gitops_nb.engine import SyncOptions
from gitops_nb.errors import GitOpsError
from gitops_nb.history import (
    deployments,
    drift,
    drift_intervals,
    lead_times,
    load_runs,
    resource_results,
    runs,
)
from gitops_nb.history.views import episodes_view
from gitops_nb.ignore import IgnoreRules
from gitops_nb.kube.client import ReadOnlyKube
from gitops_nb.model import ResourceDiff, Revision, SyncRun
from gitops_nb.source import SourceSpec
from gitops_nb.usecases.sync import diff_app

CHANGE_KINDS = ("added", "modified", "removed", "error")


# --- history ------------------------------------------------------------------------------


def load_history(
    source: str | Path, app: str | None = None, since: datetime | None = None
) -> list[SyncRun]:
    """Sync runs from a history directory (one JSON per run) or an exported file
    (``.jsonl``, ``.json``, ``.parquet``), optionally of one app and from ``since`` on (a
    coalesced record counts when its last run is), sorted by start."""
    path = Path(source)
    if path.is_file():
        return load_runs(file=path, app=app, since=since)
    if not path.is_dir():
        # read_dir would call a missing directory an empty history: a typo must say so
        raise GitOpsError(f"{path}: no sync history here (want a directory or a history file)")
    return load_runs(history_dir=path, app=app, since=since)


@dataclass(frozen=True)
class HistoryFrames:
    """The history frames every notebook starts from."""

    records: list[SyncRun]
    runs: pd.DataFrame
    results: pd.DataFrame
    drift: pd.DataFrame
    intervals: pd.DataFrame
    """Drift episodes (cluster-caused only), open ones first."""
    deployments: pd.DataFrame
    """Git changes, one row per commit (``history.deployments``)."""


def history_frames(records: Sequence[SyncRun]) -> HistoryFrames:
    """Runs, per-object results, differing fields, drift episodes and deployments."""
    recs = list(records)
    intervals = drift_intervals(recs)
    return HistoryFrames(
        records=recs,
        runs=runs(recs),
        results=resource_results(recs),
        drift=drift(recs),
        intervals=episodes_view(intervals),
        deployments=deployments(recs, intervals),
    )


def history_end(runs_df: pd.DataFrame) -> datetime | None:
    """When the history last saw the cluster (the latest run's end): open drift episodes are
    drawn up to here, so an old history does not stretch them to today."""
    ends = pd.concat([runs_df["finished"], runs_df["started"]]).dropna()
    return None if ends.empty else pd.Timestamp(ends.max()).to_pydatetime()


def outcome_counts(runs_df: pd.DataFrame) -> pd.DataFrame:
    """Runs per mode (rows) and outcome (columns), with a ``total`` column; a coalesced
    record counts the ``repeats`` runs it stands for."""
    if runs_df.empty:
        return pd.DataFrame({"mode": pd.Series(dtype="str"), "total": pd.Series(dtype="int64")})
    weights = (  # a coalesced record stands for ``repeats`` runs
        runs_df["repeats"] if "repeats" in runs_df.columns else pd.Series(1, runs_df.index)
    )
    table = (
        pd.crosstab(runs_df["mode"], runs_df["outcome"], values=weights, aggfunc="sum")
        .fillna(0)
        .astype("int64")
    )
    table["total"] = table.sum(axis=1)
    table.columns.name = None
    return table.reset_index()


def restore_stats(intervals_df: pd.DataFrame) -> pd.DataFrame:
    """Time to restore per resolution: episodes, mean, median and longest duration.

    Open episodes are one row ``(still open)`` with their count and no durations.
    """
    rows: list[dict[str, Any]] = []
    resolved = intervals_df[~intervals_df["open"].astype(bool)]
    for resolution, group in resolved.groupby("resolution", sort=True):  # the kind, not the commit
        d = group["duration"]
        rows.append(
            {
                "resolution": str(resolution),
                "episodes": len(group),
                "mean": d.mean(),
                "median": d.median(),
                "longest": d.max(),
            }
        )
    n_open = int(intervals_df["open"].astype(bool).sum())
    if n_open:
        rows.append({"resolution": "(still open)", "episodes": n_open})
    cols = {"resolution": "str", "episodes": "int64"}
    out = pd.DataFrame(
        {c: pd.Series([r.get(c) for r in rows], dtype=t) for c, t in cols.items()}
        | {
            c: pd.Series([r.get(c) for r in rows], dtype="timedelta64[us]")
            for c in ("mean", "median", "longest")
        }
    )
    return out.sort_values(["episodes", "resolution"], ascending=[False, True], ignore_index=True)


def top_frame(pairs: Iterable[tuple[str, int]], label: str) -> pd.DataFrame:
    """``metrics.summary`` top-N pairs as a two-column table (``label``, ``episodes``)."""
    items = list(pairs)
    return pd.DataFrame(
        {
            label: pd.Series([p[0] for p in items], dtype="str"),
            "episodes": pd.Series([p[1] for p in items], dtype="int64"),
        }
    )


# --- git ----------------------------------------------------------------------------------


def churn(changes_df: pd.DataFrame, by: str = "object") -> pd.DataFrame:
    """Object changes per ``by`` (``object``, ``author``, ``kind``…): one column per change
    kind plus ``commits`` (distinct) and ``total``, most changed first."""
    if by not in changes_df.columns:
        raise GitOpsError(f"churn: no column {by!r} in the changes table")
    valid = changes_df[changes_df["change"] != "error"] if by == "object" else changes_df
    counts = pd.crosstab(valid[by], valid["change"]) if not valid.empty else pd.DataFrame()
    out = pd.DataFrame({by: pd.Series(list(counts.index), dtype="str")})
    for kind in CHANGE_KINDS:
        values = counts[kind].to_numpy() if kind in counts.columns else [0] * len(out)
        out[kind] = pd.Series(values, dtype="int64")
    if valid.empty:
        out["commits"] = pd.Series(dtype="int64")
    else:
        commits = valid.groupby(by)["commit"].nunique()
        out["commits"] = out[by].map(commits).astype("int64")
    out["total"] = out[list(CHANGE_KINDS)].sum(axis=1).astype("int64")
    return out.sort_values(["total", by], ascending=[False, True], ignore_index=True)


def lead_table(commits_df: pd.DataFrame, runs_df: pd.DataFrame) -> pd.DataFrame:
    """:func:`gitops_nb.history.lead_times` with each commit's short id, author and subject:
    commit → applied (``lead_time``) → healthy (``time_to_healthy``)."""
    lead = lead_times(commits_df, runs_df)
    info = commits_df[["commit", "short", "author", "subject"]]
    out = lead.merge(info, on="commit", how="left")
    return out[
        [
            "short",
            "author",
            "subject",
            "time",
            "applied_at",
            "lead_time",
            "healthy_at",
            "time_to_healthy",
            "run_id",
        ]
    ]


# --- live audit (read-only) ---------------------------------------------------------------


@dataclass(frozen=True)
class LiveAudit:
    """What Git renders now against what the cluster holds now."""

    app: str
    namespace: str
    revision: Revision
    diffs: list[ResourceDiff]


def live_audit(
    spec: SourceSpec,
    kubeconfig: str | Path | None,
    app: str,
    namespace: str,
    *,
    cache_dir: str | Path | None = None,
    config_file: str | Path | None = None,
    ignore: Sequence[str] = (),
) -> LiveAudit:
    """Fetch and render ``spec``, then diff it against the cluster by server dry-run.

    Drift is judged with the ignore rules the reconciler uses: those of ``config_file`` (its
    ``ignore:`` and ``ignoreDefaults:``, and its policy), then ``ignore``. Read-only by
    construction: the diff goes through :class:`ReadOnlyKube`.
    """
    opts = SyncOptions(app=app, namespace=namespace, ignore=IgnoreRules.of(ignore))
    if config_file is not None:
        cfg = config.load(config_file, os.environ)
        rules = IgnoreRules.of([*cfg.ignore, *ignore], defaults=cfg.ignore_defaults)
        opts = replace(opts, ignore=rules, policy=cfg.policy)
    result = diff_app(spec, opts, kubeconfig=kubeconfig, cache_dir=cache_dir)
    return LiveAudit(app, namespace, result.revision, result.report.diffs)


__all__ = [
    "HistoryFrames",
    "LiveAudit",
    "ReadOnlyKube",
    "churn",
    "history_end",
    "history_frames",
    "lead_table",
    "live_audit",
    "load_history",
    "outcome_counts",
    "restore_stats",
    "top_frame",
]
