"""Drift episodes hold only what the cluster caused: hand-made record sequences with causes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from gitops_nb.history.timeline import (
    CHANGED,
    CORRECTED,
    REMOVED,
    REVERTED,
    SUPERSEDED,
    drift_intervals,
)
from gitops_nb.model import (
    Action,
    Cause,
    DiffStatus,
    FieldChange,
    Mode,
    ObjectRef,
    ObjectResult,
    Outcome,
    SyncRun,
)
from tests.factories import at, in_sync, revision, sync_run

WEB = ObjectRef("apps/v1", "Deployment", "prod", "web")
IMAGE = "spec.template.spec.containers[name=web].image"
ALICE = "Alice Ops"


def fc(live: Any, desired: Any, manager: str, cause: Cause, path: str = IMAGE) -> FieldChange:
    return FieldChange(path, live, desired, manager, "Update", at(0), cause)


def obj(
    *changes: FieldChange, action: Action = Action.SKIPPED, ref: ObjectRef = WEB
) -> ObjectResult:
    cause = Cause.combine(c.cause for c in changes)
    return ObjectResult(ref, action, DiffStatus.DRIFTED, changes, cause=cause)


def run(
    hour: float,
    *objects: ObjectResult,
    commit: str = "c1",
    mode: Mode = Mode.DETECT,
    outcome: Outcome = Outcome.SUCCEEDED,
) -> SyncRun:
    return sync_run(
        f"r{hour}", at(hour), *objects, app="shop", finished=at(hour + 0.01), duration_s=1.0,
        mode=mode, revision=revision(commit * 5, at(-1), ALICE, f"commit {commit}"),
        outcome=outcome,
    )  # fmt: skip


HOTFIX = fc("nginx:1.27.3-hotfix", "nginx:1.27.3", "kubectl-set", Cause.CLUSTER)


def test_git_only_changes_are_never_episodes() -> None:
    bump = fc("nginx:1.27.3", "nginx:1.27.4", "gitops-nb", Cause.GIT)
    new = ObjectResult(WEB, Action.CREATED, DiffStatus.MISSING, cause=Cause.GIT)
    runs = [
        run(0, new, mode=Mode.CORRECT),
        run(1, obj(bump, action=Action.CONFIGURED), commit="c2", mode=Mode.CORRECT),
        run(2, in_sync(WEB), commit="c2", mode=Mode.CORRECT),
    ]
    assert drift_intervals(runs).empty


def test_hotfix_superseded_by_a_git_bump_keeps_the_hand_value() -> None:
    both = fc("nginx:1.27.3-hotfix", "nginx:1.27.4", "kubectl-set", Cause.BOTH)
    df = drift_intervals(
        [
            run(0, obj(HOTFIX)),
            run(1, obj(both, action=Action.CONFIGURED), commit="c2", mode=Mode.CORRECT),
            run(2, in_sync(WEB), commit="c2", mode=Mode.CORRECT),
        ]
    )
    assert len(df) == 1
    ep = df.iloc[0]
    assert ep["live"] == "nginx:1.27.3-hotfix"
    assert ep["manager"] == "kubectl-set"
    assert ep["cause"] == "both"
    assert ep["resolution"] == SUPERSEDED
    assert ep["resolved_by"] == f"superseded by commit {'c2' * 5} ({ALICE})"
    assert ep["commit"] == "c1" * 5
    assert ep["commits"] == ["c1" * 5, "c2" * 5]
    assert (ep["desired_at_start"], ep["desired_at_end"]) == ("nginx:1.27.3", "nginx:1.27.4")


def test_both_causes_on_one_object_give_only_the_hand_field_an_episode() -> None:
    bump = fc("nginx:1.27.3", "nginx:1.27.4", "gitops-nb", Cause.GIT)
    scaled = fc(5, 2, "kubectl-scale", Cause.CLUSTER, path="spec.replicas")
    df = drift_intervals(
        [
            run(0, obj(bump, scaled, action=Action.CONFIGURED), commit="c2", mode=Mode.CORRECT),
            run(1, in_sync(WEB), commit="c2", mode=Mode.CORRECT),
        ]
    )
    assert list(df["path"]) == ["spec.replicas"]
    assert df.iloc[0]["resolution"] == CORRECTED
    assert df.iloc[0]["commit"] == "c2" * 5


def test_git_adopting_the_live_value_is_changed_in_git_with_commit_and_author() -> None:
    scaled = fc(5, 2, "kubectl-scale", Cause.CLUSTER, path="spec.replicas")
    df = drift_intervals([run(0, obj(scaled)), run(1, in_sync(WEB), commit="c3")])
    ep = df.iloc[0]
    assert ep["resolution"] == CHANGED
    assert ep["resolved_by"] == f"changed in git by commit {'c3' * 5} ({ALICE})"
    assert ep["resolving_commit"] == "c3" * 5


def test_a_hand_revert_alongside_an_unrelated_commit_is_reverted_by_hand() -> None:
    """The engine recorded that the new desired value is not the hand value (adopted false):
    the commit changed something else, the hand put the value back."""
    scaled = fc(5, 2, "kubectl-scale", Cause.CLUSTER, path="spec.replicas")
    back = replace(in_sync(WEB), adopted=(("spec.replicas", False),))
    ep = drift_intervals([run(0, obj(scaled)), run(1, back, commit="c3")]).iloc[0]
    assert ep["resolution"] == REVERTED
    assert ep["resolved_by"] == REVERTED and ep["resolving_commit"] is None


def test_adopted_true_is_changed_in_git_and_records_without_it_keep_the_old_rule() -> None:
    scaled = fc(5, 2, "kubectl-scale", Cause.CLUSTER, path="spec.replicas")
    taken = replace(in_sync(WEB), adopted=(("spec.replicas", True),))
    other_path = replace(in_sync(WEB), adopted=((IMAGE, False),))  # says nothing of replicas
    for ending in (taken, other_path):
        ep = drift_intervals([run(0, obj(scaled)), run(1, ending, commit="c3")]).iloc[0]
        assert ep["resolution"] == CHANGED, ending


def test_adopted_round_trips_and_is_absent_when_empty() -> None:
    line = replace(in_sync(WEB), adopted=(("spec.replicas", True), (IMAGE, False)))
    d = line.to_dict()
    assert d["adopted"] == {"spec.replicas": True, IMAGE: False}
    assert ObjectResult.from_dict(d) == line
    assert "adopted" not in in_sync(WEB).to_dict()
    assert ObjectResult.from_dict(in_sync(WEB).to_dict()).adopted == ()


def test_deleted_object_is_drift_and_removal_from_git_names_the_commit() -> None:
    gone = ObjectResult(WEB, Action.SKIPPED, DiffStatus.MISSING, cause=Cause.CLUSTER)
    df = drift_intervals([run(0, gone), run(1, commit="c4")])
    ep = df.iloc[0]
    assert ep["path"] == "" and ep["cause"] == "cluster"
    assert ep["resolution"] == REMOVED
    assert "c4" * 5 in ep["resolved_by"]


def test_failed_runs_between_neither_end_nor_split() -> None:
    df = drift_intervals(
        [
            run(0, obj(HOTFIX)),
            run(1, in_sync(WEB), outcome=Outcome.FAILED),
            run(2, outcome=Outcome.INTERRUPTED),
            run(3, obj(HOTFIX)),
            run(4, in_sync(WEB)),
        ]
    )
    assert len(df) == 1
    assert df.iloc[0]["runs_seen"] == 2
    assert df.iloc[0]["resolved_at"] == pd.Timestamp(at(4))


def test_our_own_manager_is_never_in_an_episode_even_from_records_without_causes() -> None:
    ours = FieldChange(IMAGE, "nginx:1.27.3", "nginx:1.27.4", "gitops-nb", "Apply")
    theirs = FieldChange("spec.replicas", 5, 2, "kubectl-scale", "Update")
    plain = ObjectResult(WEB, Action.CONFIGURED, DiffStatus.DRIFTED, (ours, theirs))
    df = drift_intervals(
        [run(0, plain, mode=Mode.CORRECT), run(1, in_sync(WEB), mode=Mode.CORRECT)]
    )
    assert list(df["manager"]) == ["kubectl-scale"]
    assert "gitops-nb" not in set(df["managers"])
