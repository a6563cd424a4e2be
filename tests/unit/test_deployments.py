"""history.deployments: one row per commit, lead times and change failure, from causes."""

from __future__ import annotations

import pandas as pd

from gitops_nb.history import change_failure, deployments, drift_intervals, runs, summary
from gitops_nb.model import (
    Action,
    Cause,
    DiffStatus,
    FieldChange,
    Mode,
    ObjectRef,
    ObjectResult,
    SyncRun,
)
from tests.factories import at, in_sync, revision, sync_run

WEB = ObjectRef("apps/v1", "Deployment", "prod", "web")
CM = ObjectRef("v1", "ConfigMap", "prod", "web-config")
ING = ObjectRef("networking.k8s.io/v1", "Ingress", "prod", "web")


REVS = {
    "a1": revision("a1" * 20, at(-0.5), "Alice Ops", "shop: first deploy"),
    "b2": revision("b2" * 20, at(1.5), "Bob Dev", "web: debug logging"),
    "c3": revision(
        "c3" * 20,
        at(2.5),
        "Carol SRE",
        f'Revert "web: debug logging"\n\nThis reverts commit {"b2" * 20}.',
    ),
}


def run(hour: float, commit: str, *objects: ObjectResult, mode: Mode = Mode.CORRECT) -> SyncRun:
    return sync_run(
        f"r{hour}", at(hour), *objects, app="shop", finished=at(hour + 0.1), duration_s=360.0,
        mode=mode, revision=REVS[commit],
    )  # fmt: skip


def created(ref: ObjectRef) -> ObjectResult:
    return ObjectResult(ref, Action.CREATED, DiffStatus.MISSING, cause=Cause.GIT)


def git_field(ref: ObjectRef, path: str, manager: str = "gitops-nb") -> ObjectResult:
    c = FieldChange(path, "info", "debug", manager, "Apply", at(0), Cause.GIT)
    return ObjectResult(ref, Action.CONFIGURED, DiffStatus.DRIFTED, (c,), cause=Cause.GIT)


def hand_field(ref: ObjectRef) -> ObjectResult:
    c = FieldChange("spec.replicas", 5, 2, "kubectl-scale", "Update", at(0), Cause.CLUSTER)
    return ObjectResult(ref, Action.CONFIGURED, DiffStatus.DRIFTED, (c,), cause=Cause.CLUSTER)


STORY = [
    run(0, "a1", created(WEB), created(CM)),
    run(1, "a1", in_sync(WEB), in_sync(CM)),
    run(2, "b2", in_sync(WEB), git_field(CM, "data.LOG_LEVEL")),
    run(3, "c3", hand_field(WEB), git_field(CM, "data.LOG_LEVEL")),
    run(4, "c3", in_sync(WEB), in_sync(CM), mode=Mode.DETECT),
]


def test_one_row_per_commit_with_what_it_changed() -> None:
    df = deployments(STORY)
    assert list(df["commit"]) == ["a1" * 20, "b2" * 20, "c3" * 20]
    first, debug, revert = (df.iloc[i] for i in range(3))
    assert first["objects"] == [str(CM), str(WEB)]
    assert first["fields"] == [str(CM), str(WEB)]
    assert debug["fields"] == [f"{CM} data.LOG_LEVEL"]
    assert revert["objects"] == [str(CM)]  # the hand-scaled Deployment is drift, not Git
    assert debug["author"] == "Bob Dev" and debug["message"] == "web: debug logging"


def test_applied_in_sync_and_lead_times() -> None:
    df = deployments(STORY).set_index("commit")
    first = df.loc["a1" * 20]
    assert first["first_seen"] == pd.Timestamp(at(0))
    assert first["applied_at"] == pd.Timestamp(at(0.1))
    assert first["in_sync_at"] == pd.Timestamp(at(1))
    assert first["lead_time"] == pd.Timedelta(hours=0.6)
    assert first["time_to_sync"] == pd.Timedelta(hours=1.5)
    debug = df.loc["b2" * 20]
    assert pd.isna(debug["in_sync_at"])  # superseded by the revert before a verifying run


def test_revert_is_marked_and_counts_as_change_failure() -> None:
    df = deployments(STORY).set_index("commit")
    assert df.loc["c3" * 20, "is_revert"]
    assert df.loc["c3" * 20, "reverts"] == "b2" * 20
    assert df.loc["b2" * 20, "reverted_by"] == "c3" * 20
    assert list(df["failed"]) == [False, True, True]
    figures = change_failure(deployments(STORY))
    assert figures["deployments"] == 3
    assert figures["change_failure_rate"] == 2 / 3


def test_summary_takes_lead_times_and_failures_from_deployments_and_never_ranks_us() -> None:
    deps = deployments(STORY)
    head = summary(runs(STORY), drift_intervals(STORY), deployments_df=deps)
    assert head["deployments"] == 3
    assert head["change_failure_rate"] == 2 / 3
    assert head["mean_lead_time_s"] is not None
    assert head["drift_episodes"] == 1
    assert [m for m, _ in head["most_responsible_managers"]] == ["kubectl-scale"]


def test_detect_only_commit_is_seen_but_not_applied() -> None:
    df = deployments([run(0, "b2", git_field(CM, "data.LOG_LEVEL"), mode=Mode.DETECT)])
    assert pd.isna(df.iloc[0]["applied_at"]) and pd.isna(df.iloc[0]["lead_time"])


def test_empty_has_columns() -> None:
    df = deployments([])
    assert df.empty and "lead_time" in df.columns
    assert change_failure(df)["change_failure_rate"] is None
