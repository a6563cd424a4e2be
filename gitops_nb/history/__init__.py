"""Sync history as pandas DataFrames: runs, drift timelines, Git change logs, metrics.

The cluster store (``configmaps``) lives in its own module and is imported from there.
"""

from __future__ import annotations

from gitops_nb.history.files import (
    export_jsonl,
    export_parquet,
    load_file,
    prune_dir,
    read_dir,
    write_run,
)
from gitops_nb.history.frames import drift, resource_results, runs
from gitops_nb.history.gitlog import (
    CommitInfo,
    FileChange,
    Renderer,
    commits,
    iter_commits,
    resource_changes,
)
from gitops_nb.history.gitrender import kustomize_renderer
from gitops_nb.history.load import load_runs
from gitops_nb.history.metrics import lead_times, summary
from gitops_nb.history.timeline import drift_intervals

__all__ = [
    "CommitInfo",
    "FileChange",
    "Renderer",
    "commits",
    "drift",
    "drift_intervals",
    "export_jsonl",
    "export_parquet",
    "iter_commits",
    "kustomize_renderer",
    "lead_times",
    "load_file",
    "load_runs",
    "prune_dir",
    "read_dir",
    "resource_changes",
    "resource_results",
    "runs",
    "summary",
    "write_run",
]
