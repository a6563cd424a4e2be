"""Drift episodes from hand-made run sequences with known answers."""

from __future__ import annotations

import pandas as pd

from gitops_nb.history.timeline import (
    CHANGED,
    CORRECTED,
    REMOVED,
    REPLACED,
    REVERTED,
    drift_intervals,
)
from gitops_nb.model import Action, DiffStatus, Mode, ObjectRef, ObjectResult, Outcome
from tests.factories import CM, DEP, REPLICAS, at, change, drifted, in_sync, one, run


def ts(hour: float) -> pd.Timestamp:
    return pd.Timestamp(at(hour))


def test_drift_opens_continues_and_is_reverted_by_hand() -> None:
    df = drift_intervals([run(0, drifted(change())), run(1, drifted(change())), run(2, in_sync())])
    ep = one(df)
    assert ep["object"] == "Deployment/web/api"
    assert ep["path"] == REPLICAS
    assert ep["first_seen"] == ts(0)
    assert ep["last_seen"] == ts(1)
    assert ep["resolved_at"] == ts(2)
    assert ep["duration"] == pd.Timedelta(hours=2)
    assert ep["resolution"] == REVERTED
    assert not ep["open"]
    assert ep["runs_seen"] == 2
    assert ep["desired_at_start"] == "3"
    assert ep["live_values"] == ["5"]
    assert str(df["first_seen"].dtype) == "datetime64[us, UTC]"


def test_episode_says_when_the_cluster_moved_not_only_when_it_was_seen() -> None:
    # the hand change at 10:00 (managedFields time) is first seen by the run at T0 + 2 h
    hand = change(time=at(-0.5))
    scaled = change(manager="kubectl", time=None)  # a scale subresource write keeps no time
    df = drift_intervals([run(2, drifted(hand)), run(3, drifted(scaled)), run(4, in_sync())])
    first, second = df.iloc[0], df.iloc[1]
    assert (first["changed_at"], first["first_seen"]) == (ts(-0.5), ts(2))
    assert pd.isna(second["changed_at"]) and second["first_seen"] == ts(3)
    assert str(df["changed_at"].dtype) == "datetime64[us, UTC]"


def test_open_episode_has_no_end() -> None:
    ep = one(drift_intervals([run(0, drifted(change())), run(1, drifted(change()))]))
    assert ep["open"]
    assert pd.isna(ep["resolved_at"])
    assert pd.isna(ep["duration"])
    assert ep["resolution"] is None
    assert ep["last_seen"] == ts(1)


def test_input_order_does_not_matter() -> None:
    runs = [run(0, drifted(change())), run(1, drifted(change())), run(2, in_sync())]
    assert drift_intervals(runs[::-1]).equals(drift_intervals(runs))


def test_failed_run_in_the_middle_does_not_end_the_episode() -> None:
    df = drift_intervals(
        [
            run(0, drifted(change())),
            run(1, in_sync(), outcome=Outcome.FAILED),
            run(2, drifted(change())),
            run(3, in_sync()),
        ]
    )
    ep = one(df)
    assert (ep["first_seen"], ep["last_seen"], ep["resolved_at"]) == (ts(0), ts(2), ts(3))
    assert ep["runs_seen"] == 2  # the failed run didn't report it: not a sighting


def test_interrupted_and_skipped_runs_neither_end_nor_count_unless_they_report() -> None:
    df = drift_intervals(
        [
            run(0, drifted(change())),
            run(1, outcome=Outcome.INTERRUPTED),  # stopped before the object
            run(2, outcome=Outcome.SKIPPED),
            run(3, drifted(change()), outcome=Outcome.INTERRUPTED),  # reported it
            run(4, in_sync()),
        ]
    )
    ep = one(df)
    assert ep["runs_seen"] == 2
    assert ep["last_seen"] == ts(3)
    assert ep["resolved_at"] == ts(4)
    assert ep["live_values"] == ["5"]


def test_an_interrupted_run_that_saw_another_value_splits_the_episode() -> None:
    df = drift_intervals(
        [
            run(0, drifted(change())),
            run(1, drifted(change(live=7)), outcome=Outcome.INTERRUPTED),
            run(2, outcome=Outcome.FAILED),
            run(3, in_sync()),
        ]
    )
    assert list(df["live"]) == ["5", "7"]
    assert list(df["resolution"]) == [REPLACED, REVERTED]
    assert list(df["resolved_at"]) == [ts(1), ts(3)]


def test_failed_run_alone_can_open_an_episode() -> None:
    ep = one(drift_intervals([run(0, drifted(change()), outcome=Outcome.FAILED)]))
    assert ep["open"]
    assert ep["runs_seen"] == 1


def test_drifting_again_after_resolution_is_a_new_episode() -> None:
    df = drift_intervals(
        [run(0, drifted(change())), run(1, in_sync()), run(2, drifted(change(live=9)))]
    )
    assert len(df) == 2
    first, second = df.iloc[0], df.iloc[1]
    assert (first["first_seen"], first["resolved_at"], first["open"]) == (ts(0), ts(1), False)
    assert (second["first_seen"], second["open"]) == (ts(2), True)
    assert second["live_values"] == ["9"]


def test_a_value_change_inside_an_episode_splits_it() -> None:
    df = drift_intervals(
        [
            run(0, drifted(change(live=5))),
            run(1, drifted(change(live=6))),
            run(2, drifted(change(live=6))),
            run(3, in_sync()),
        ]
    )
    assert list(df["live"]) == ["5", "6"]
    assert list(df["runs_seen"]) == [1, 2]
    assert list(df["resolution"]) == [REPLACED, REVERTED]
    assert list(df["first_seen"]) == [ts(0), ts(1)]
    assert list(df["resolved_at"]) == [ts(1), ts(3)]


def test_a_manager_change_with_the_same_value_splits_it() -> None:
    df = drift_intervals(
        [
            run(0, drifted(change(manager="kubectl-edit"))),
            run(1, drifted(change(manager="helm"))),
            run(2, drifted(change(manager="kubectl-edit"))),
        ]
    )
    assert list(df["manager"]) == ["kubectl-edit", "helm", "kubectl-edit"]
    assert list(df["managers"]) == ["kubectl-edit", "helm", "kubectl-edit"]
    assert list(df["open"]) == [False, False, True]
    assert list(df["resolution"])[:2] == [REPLACED, REPLACED]


def test_missing_object_is_a_whole_object_episode() -> None:
    missing = ObjectResult(DEP, Action.UNCHANGED, DiffStatus.MISSING)
    df = drift_intervals([run(0, missing), run(1, missing), run(2, in_sync())])
    ep = one(df)
    assert ep["path"] == ""
    assert ep["managers"] == ""
    assert ep["last_manager"] is None
    assert ep["resolution"] == REVERTED
    assert ep["runs_seen"] == 2


def test_each_field_path_is_its_own_episode() -> None:
    image = change(live="nginx:1", desired="nginx:2", path="spec.template.spec.containers[0].image")
    df = drift_intervals(
        [run(0, drifted(change(), image)), run(1, drifted(image)), run(2, in_sync())]
    )
    by_path = df.set_index("path")
    assert by_path.loc[REPLICAS, "resolved_at"] == ts(1)
    assert by_path.loc[image.path, "resolved_at"] == ts(2)
    assert by_path.loc[image.path, "desired_at_start"] == "nginx:2"


def test_correct_mode_episode_is_resolved_by_the_reconciler_at_the_next_run() -> None:
    df = drift_intervals(
        [
            run(0, drifted(change(), action=Action.CONFIGURED), mode=Mode.CORRECT),
            run(1, in_sync(), mode=Mode.CORRECT),
        ]
    )
    ep = one(df)
    assert ep["first_seen"] == ep["last_seen"] == ts(0)
    assert ep["resolved_at"] == ts(1)  # verified gone by the next run
    assert ep["corrected_at"] == ts(0.01)  # written back by the run that saw it (36 s)
    assert ep["resolution"] == CORRECTED


def test_correct_mode_that_failed_to_write_is_not_a_correction() -> None:
    df = drift_intervals(
        [
            run(0, drifted(change(), action=Action.FAILED), mode=Mode.CORRECT),
            run(1, in_sync(), mode=Mode.CORRECT),
        ]
    )
    assert one(df)["resolution"] == REVERTED
    assert pd.isna(one(df)["corrected_at"])


def test_new_commit_resolving_the_drift_is_a_change_in_git() -> None:
    df = drift_intervals([run(0, drifted(change()), commit="c1"), run(1, in_sync(), commit="c2")])
    assert one(df)["resolution"] == CHANGED


def test_object_gone_from_the_run_is_removed_from_git() -> None:
    df = drift_intervals([run(0, drifted(change()), in_sync(CM)), run(1, in_sync(CM))])
    ep = one(df)
    assert ep["resolution"] == REMOVED
    assert ep["resolved_at"] == ts(1)


def test_extraneous_object_left_git_and_is_no_drift() -> None:
    extra = ObjectResult(CM, Action.UNCHANGED, DiffStatus.EXTRANEOUS)
    pruned = ObjectResult(CM, Action.PRUNED, DiffStatus.EXTRANEOUS)
    assert drift_intervals([run(0, extra), run(1, in_sync())]).empty
    assert drift_intervals([run(0, pruned, mode=Mode.CORRECT), run(1, in_sync())]).empty


def test_object_not_evaluated_does_not_end_the_episode() -> None:
    errored = ObjectResult(DEP, Action.FAILED, DiffStatus.ERROR, error="boom")
    ep = one(drift_intervals([run(0, drifted(change())), run(1, errored)]))
    assert ep["open"]


def test_apps_are_tracked_separately() -> None:
    df = drift_intervals(
        [
            run(0, drifted(change()), app="a"),
            run(0.5, drifted(change()), app="b"),
            run(1, in_sync(), app="b"),  # ends b's episode only
        ]
    )
    by_app = df.set_index("app")
    assert by_app.loc["a", "open"]
    assert by_app.loc["b", "resolved_at"] == ts(1)


def test_api_version_change_keeps_the_episode() -> None:
    beta = ObjectRef("apps/v1beta1", "Deployment", "web", "api")
    df = drift_intervals(
        [run(0, drifted(change(), ref=beta)), run(1, drifted(change())), run(2, in_sync())]
    )
    ep = one(df)
    assert ep["api_version"] == "apps/v1"
    assert ep["runs_seen"] == 2


def test_empty_input_has_the_columns() -> None:
    df = drift_intervals([])
    assert df.empty
    for col in ("object", "path", "first_seen", "resolved_at", "duration", "open", "managers"):
        assert col in df.columns


def test_a_write_time_after_the_sighting_is_not_believed() -> None:
    # the server's clock is an hour ahead of the reconciler's: the time says nothing
    ahead = change(time=at(3))
    ep = one(drift_intervals([run(2, drifted(ahead)), run(4, in_sync())]))
    assert pd.isna(ep["changed_at"]) and ep["first_seen"] == ts(2)
    # a few minutes of skew are tolerated
    skewed = change(time=at(2 + 2 / 60))
    ep = one(drift_intervals([run(2, drifted(skewed)), run(4, in_sync())]))
    assert ep["changed_at"] == ts(2 + 2 / 60)
