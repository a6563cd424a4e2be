"""Sync history as pandas DataFrames: runs, drift timelines, Git change logs, metrics,
health episodes, time to healthy and DORA figures.

The cluster store (``configmaps``) lives in its own module and is imported from there.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitops_nb.history.appchanges import commits, resource_changes
    from gitops_nb.history.delivery import change_failure, deployments
    from gitops_nb.history.fleetview import drift_days, fleet, managers
    from gitops_nb.history.frames import drift, resource_results, runs
    from gitops_nb.history.gitlog import CommitInfo, FileChange, Renderer, iter_commits
    from gitops_nb.history.gitrender import kustomize_renderer
    from gitops_nb.history.healthframes import dora, health_intervals, restores, time_to_healthy
    from gitops_nb.history.metrics import lead_times, summary
    from gitops_nb.history.timeline import drift_intervals
    from gitops_nb.history.trust import commits_since, untrusted_commits, untrusted_runs
    from gitops_nb.records.files import (
        export_jsonl,
        export_parquet,
        load_file,
        prune_dir,
        read_dir,
        write_run,
    )
    from gitops_nb.records.load import load_runs

# Imported on first use (PEP 562): pandas costs about a second and only the analysis needs
# it. Record files are read and written by gitops_nb.records; re-exported here for notebooks.
_WHERE = {
    "export_jsonl": "gitops_nb.records.files",
    "export_parquet": "gitops_nb.records.files",
    "load_file": "gitops_nb.records.files",
    "prune_dir": "gitops_nb.records.files",
    "read_dir": "gitops_nb.records.files",
    "write_run": "gitops_nb.records.files",
    "change_failure": "delivery",
    "deployments": "delivery",
    "drift": "frames",
    "drift_days": "fleetview",
    "fleet": "fleetview",
    "managers": "fleetview",
    "resource_results": "frames",
    "runs": "frames",
    "CommitInfo": "gitlog",
    "FileChange": "gitlog",
    "Renderer": "gitlog",
    "commits": "appchanges",
    "iter_commits": "gitlog",
    "resource_changes": "appchanges",
    "kustomize_renderer": "gitrender",
    "dora": "healthframes",
    "health_intervals": "healthframes",
    "restores": "healthframes",
    "time_to_healthy": "healthframes",
    "load_runs": "gitops_nb.records.load",
    "lead_times": "metrics",
    "summary": "metrics",
    "drift_intervals": "timeline",
    "commits_since": "trust",
    "untrusted_commits": "trust",
    "untrusted_runs": "trust",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'gitops_nb.history' has no attribute {name!r}")
    if "." not in module:
        module = f"gitops_nb.history.{module}"
    return getattr(importlib.import_module(module), name)


__all__ = [
    "CommitInfo",
    "FileChange",
    "Renderer",
    "change_failure",
    "commits",
    "commits_since",
    "deployments",
    "dora",
    "drift",
    "drift_days",
    "drift_intervals",
    "export_jsonl",
    "export_parquet",
    "fleet",
    "health_intervals",
    "iter_commits",
    "kustomize_renderer",
    "lead_times",
    "load_file",
    "load_runs",
    "managers",
    "prune_dir",
    "read_dir",
    "resource_changes",
    "resource_results",
    "restores",
    "runs",
    "summary",
    "time_to_healthy",
    "untrusted_commits",
    "untrusted_runs",
    "write_run",
]
