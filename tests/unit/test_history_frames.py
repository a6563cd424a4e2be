"""Sync-run records flattened into DataFrames."""

from __future__ import annotations

import pandas as pd

from gitops_nb.history.frames import drift, resource_results, runs
from gitops_nb.model import (
    COUNT_KEYS,
    FieldChange,
    ObjectRef,
    Outcome,
)
from tests.factories import drifted, in_sync, revision, sync_run

DEP = ObjectRef("apps/v1", "Deployment", "web", "api")
NS = ObjectRef("v1", "Namespace", "", "web")


REV = revision("abc123", "2026-11-28T09:00:00+01:00", message="bump")
COUNTS = {"desired": 2, "drifted": 1}
REPLICAS = FieldChange("spec.replicas", 5, 3, "kubectl-edit", "Update", "2026-11-28T09:30:00Z")
LABELS = FieldChange("metadata.labels", {"b": "2", "a": "1"}, None, None, None, None)
RECORDS = [
    sync_run(
        "r2",
        "2026-11-28T11:00:00Z",
        drifted(REPLICAS, LABELS, ref=DEP),
        in_sync(NS),
        revision=REV,
        counts=COUNTS,
    ),
    sync_run(
        "r1",
        "2026-11-28T10:00:00Z",
        outcome=Outcome.FAILED,
        revision=None,
        counts=COUNTS,
        error="boom",
    ),
]


def test_runs_one_row_per_run_sorted_with_utc_times_and_counts() -> None:
    df = runs(RECORDS)
    assert list(df["run_id"]) == ["r1", "r2"]
    assert df["started"].iloc[0] == pd.Timestamp("2026-11-28T10:00:00Z")
    assert str(df["started"].dt.tz) == "UTC"
    r2 = df.iloc[1]
    assert r2["commit"] == "abc123"
    assert r2["commit_time"] == pd.Timestamp("2026-11-28T08:00:00Z")  # converted to UTC
    assert (r2["desired"], r2["drifted"], r2["failed"]) == (2, 1, 0)
    assert df["failed"].dtype == "int64"
    r1 = df.iloc[0]
    assert r1["commit"] == "" and pd.isna(r1["commit_time"]) and r1["error"] == "boom"
    assert r1["outcome"] == "failed" and r1["mode"] == "detect"


def test_resource_results_one_row_per_run_and_object() -> None:
    df = resource_results(RECORDS)
    assert list(df["object"]) == ["Deployment/web/api", "Namespace/web"]
    assert list(df["n_changes"]) == [2, 0]
    assert list(df["status"]) == ["Drifted", "InSync"]
    assert set(df["run_id"]) == {"r2"}
    assert df["namespace"].iloc[1] == ""


def test_drift_one_row_per_field_with_json_values() -> None:
    df = drift(RECORDS)
    assert list(df["path"]) == ["spec.replicas", "metadata.labels"]
    assert list(df["live"]) == ["5", '{"a":"1","b":"2"}']
    assert list(df["desired"]) == ["3", "null"]
    assert df["manager"].iloc[0] == "kubectl-edit"
    assert df["manager"].iloc[1] is None
    assert df["time"].iloc[0] == pd.Timestamp("2026-11-28T09:30:00Z")
    assert pd.isna(df["time"].iloc[1])


def test_empty_input_gives_empty_frames_with_columns() -> None:
    assert {"run_id", "started", "commit", "outcome", *COUNT_KEYS} <= set(runs([]).columns)
    assert {"object", "action", "status", "n_changes"} <= set(resource_results([]).columns)
    assert {"object", "path", "live", "desired", "manager"} <= set(drift([]).columns)
    assert str(runs([])["started"].dtype) == "datetime64[us, UTC]"


def test_runs_count_drift_and_git_changes_apart() -> None:
    from gitops_nb.model import Action, Cause, DiffStatus, ObjectRef, ObjectResult
    from gitops_nb.notebook.plots import runs_figure
    from tests.factories import run as story_run

    def line(name: str, cause: Cause) -> ObjectResult:
        ref = ObjectRef("v1", "ConfigMap", "prod", name)
        return ObjectResult(ref, Action.CONFIGURED, DiffStatus.DRIFTED, cause=cause)

    first = story_run(0, line("a", Cause.GIT), line("b", Cause.GIT))  # a deployment
    second = story_run(1, line("a", Cause.CLUSTER), line("b", Cause.BOTH), line("c", Cause.GIT))
    df = runs([first, second])
    assert list(df["drift"]) == [0, 2] and list(df["git_changes"]) == [2, 2]
    fig = runs_figure(df)
    heights = [p.get_height() for p in fig.axes[1].patches]
    assert sorted(heights) == [0, 2]  # the chart counts drift, never the deployment
    assert "cluster-caused" in fig.axes[1].get_ylabel()
