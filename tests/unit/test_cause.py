"""Cause of each difference at diff time (engine.cause) and reading schema-1 records."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gitops_nb.engine.cause import Prior, classify
from gitops_nb.model import (
    Action,
    Cause,
    DiffStatus,
    FieldChange,
    ObjectRef,
    ObjectResult,
    ResourceDiff,
    SyncRun,
)
from tests.factories import revision, sync_run

WEB = ObjectRef("apps/v1", "Deployment", "prod", "web")
IMAGE = "spec.template.spec.containers[name=web].image"


def _drift(*changes: FieldChange) -> ResourceDiff:
    return ResourceDiff(WEB, DiffStatus.DRIFTED, changes=changes)


def _run(*objects: ObjectResult, commit: str | None = None) -> SyncRun:
    rev = revision(commit, "2026-11-28T09:00:00Z") if commit else None
    return sync_run(
        "r1", "2026-11-28T10:00:00Z", *objects, app="shop", finished="2026-11-28T10:00:01Z",
        duration_s=1.0, revision=rev,
    )  # fmt: skip


def test_our_manager_owning_the_live_value_means_git_moved() -> None:
    d = classify(
        _drift(FieldChange(IMAGE, "nginx:1.27.3", "nginx:1.27.4", "gitops-nb")), "gitops-nb"
    )
    assert d.cause is Cause.GIT
    assert d.changes[0].cause is Cause.GIT


def test_another_manager_means_the_cluster_moved() -> None:
    d = classify(_drift(FieldChange("spec.replicas", 5, 2, "kubectl", "Update")), "gitops-nb")
    assert d.cause is Cause.CLUSTER and d.changes[0].cause is Cause.CLUSTER


def test_a_field_git_adds_that_nobody_owns_is_git() -> None:
    d = classify(_drift(FieldChange("metadata.labels.tier", None, "web")), "gitops-nb")
    assert d.cause is Cause.GIT


def test_a_custom_field_manager_is_ours() -> None:
    d = classify(_drift(FieldChange("spec.replicas", 3, 2, "gitops-nb-shop")), "gitops-nb-shop")
    assert d.cause is Cause.GIT


def test_hand_value_that_git_moved_since_the_last_run_is_both() -> None:
    before = ObjectResult(
        WEB, Action.SKIPPED, DiffStatus.DRIFTED,
        (FieldChange(IMAGE, "nginx:1.27.3-hotfix", "nginx:1.27.3", "kubectl-set", "Update"),),
        cause=Cause.CLUSTER,
    )  # fmt: skip
    now = FieldChange(IMAGE, "nginx:1.27.3-hotfix", "nginx:1.27.4", "kubectl-set", "Update")
    d = classify(_drift(now), "gitops-nb", Prior.of(_run(before)))
    assert d.changes[0].cause is Cause.BOTH and d.cause is Cause.BOTH


def test_mixed_fields_make_the_object_both() -> None:
    d = classify(
        _drift(
            FieldChange(IMAGE, "nginx:1.27.3", "nginx:1.27.4", "gitops-nb", "Apply"),
            FieldChange("spec.replicas", 5, 2, "kubectl", "Update"),
        ),
        "gitops-nb",
    )
    assert [c.cause for c in d.changes] == [Cause.GIT, Cause.CLUSTER]
    assert d.cause is Cause.BOTH


def test_missing_object_is_new_unless_we_applied_it_before() -> None:
    missing = ResourceDiff(WEB, DiffStatus.MISSING)
    assert classify(missing, "gitops-nb").cause is Cause.GIT
    was_live = ObjectResult(WEB, Action.UNCHANGED, DiffStatus.IN_SYNC)
    assert classify(missing, "gitops-nb", Prior.of(_run(was_live))).cause is Cause.CLUSTER
    assert classify(missing, "gitops-nb", Prior(applied=frozenset({WEB.key}))).cause is (
        Cause.CLUSTER
    )
    new_then = ObjectResult(WEB, Action.SKIPPED, DiffStatus.MISSING, cause=Cause.GIT)
    assert classify(missing, "gitops-nb", Prior.of(_run(new_then))).cause is Cause.GIT


def test_extraneous_member_left_git() -> None:
    assert classify(ResourceDiff(WEB, DiffStatus.EXTRANEOUS), "gitops-nb").cause is Cause.GIT


def test_in_sync_and_errors_have_no_cause() -> None:
    assert classify(ResourceDiff(WEB, DiffStatus.IN_SYNC), "gitops-nb").cause is None
    assert classify(ResourceDiff(WEB, DiffStatus.ERROR, error="x"), "gitops-nb").cause is None


def _v1_record() -> dict[str, Any]:
    return {
        "schema": 1, "run_id": "old", "app": "shop", "started": "2026-11-01T10:00:00Z",
        "finished": "2026-11-01T10:00:01Z", "duration_s": 1.0, "trigger": "schedule",
        "mode": "correct", "revision": None, "outcome": "succeeded", "counts": {},
        "objects": [
            {**WEB.to_dict(), "action": "configured", "status": "Drifted", "error": None,
             "changes": [
                 {"path": "spec.replicas", "live": 5, "desired": 2, "manager": "kubectl"},
                 {"path": IMAGE, "live": "a", "desired": "b", "manager": "gitops-nb"},
                 {"path": "metadata.labels.x", "live": None, "desired": "y", "manager": None},
             ]},
            {**WEB.to_dict(), "name": "gone", "action": "created", "status": "Missing",
             "error": None, "changes": []},
            {**WEB.to_dict(), "name": "old", "action": "pruned", "status": "Extraneous",
             "error": None, "changes": []},
        ],
    }  # fmt: skip


def test_schema_1_records_load_with_causes_inferred_where_possible() -> None:
    run = SyncRun.from_dict(_v1_record())
    assert run.schema == 1
    drifted, missing, extraneous = run.objects
    assert [c.cause for c in drifted.changes] == [Cause.CLUSTER, Cause.GIT, Cause.UNKNOWN]
    assert drifted.cause is Cause.UNKNOWN
    assert missing.cause is Cause.UNKNOWN
    assert extraneous.cause is Cause.GIT


def test_the_cause_round_trips_since_schema_2() -> None:
    obj = ObjectResult(
        WEB, Action.CONFIGURED, DiffStatus.DRIFTED,
        (FieldChange("spec.replicas", 5, 2, "kubectl", "Update", None, Cause.CLUSTER),),
        cause=Cause.CLUSTER,
    )  # fmt: skip
    d = _run(obj).to_dict()
    assert d["schema"] == 3  # schema 3 (coalescing) keeps the causes schema 2 added
    assert d["objects"][0]["cause"] == "cluster"
    assert d["objects"][0]["changes"][0]["cause"] == "cluster"
    back = SyncRun.from_dict(d)
    assert back.objects[0] == obj


def test_unknown_cause_values_load_as_unknown() -> None:
    d = _run(ObjectResult(WEB, Action.UNCHANGED, DiffStatus.DRIFTED, cause=Cause.GIT)).to_dict()
    d["objects"][0]["cause"] = "martians"
    assert SyncRun.from_dict(d).objects[0].cause is Cause.UNKNOWN


ENV = "spec.template.spec.containers[name=web].env"
#: a field Git sets that nobody holds live: Git added it, or someone removed it
REMOVED = FieldChange(ENV, None, [{"name": "MODE", "value": "prod"}], op="removed")


def test_a_field_removed_from_an_object_git_did_not_move_is_the_cluster() -> None:
    # the manifest still hashes to the fingerprint we recorded when it was in sync
    d = classify(_drift(REMOVED), "gitops-nb", Prior(unmoved=frozenset({WEB.key})))
    assert d.changes[0].cause is Cause.CLUSTER and d.cause is Cause.CLUSTER


def test_a_field_missing_since_the_last_run_at_the_same_commit_was_removed_by_hand() -> None:
    whole = ObjectResult(WEB, Action.UNCHANGED, DiffStatus.IN_SYNC)
    same = Prior.of(_run(whole, commit="c1"), commit="c1")
    assert classify(_drift(REMOVED), "gitops-nb", same).cause is Cause.CLUSTER
    # a new commit may have added the field: Git moved
    moved = Prior.of(_run(whole, commit="c1"), commit="c2")
    assert classify(_drift(REMOVED), "gitops-nb", moved).cause is Cause.GIT
    # the last run could not evaluate the object: it says nothing
    error = ObjectResult(WEB, Action.SKIPPED, DiffStatus.ERROR, error="boom")
    assert (
        classify(
            _drift(REMOVED), "gitops-nb", Prior.of(_run(error, commit="c1"), commit="c1")
        ).cause
        is Cause.GIT
    )


def test_a_removal_keeps_the_cause_the_last_record_gave_it() -> None:
    # detect mode at one commit: Git added the field and nobody applied it — Git, run after run
    git_then = ObjectResult(
        WEB,
        Action.SKIPPED,
        DiffStatus.DRIFTED,
        (replace(REMOVED, cause=Cause.GIT),),
        cause=Cause.GIT,
    )
    assert (
        classify(
            _drift(REMOVED), "gitops-nb", Prior.of(_run(git_then, commit="c1"), commit="c1")
        ).cause
        is Cause.GIT
    )
    # removed by hand, still removed after a commit that left the field alone
    hand_then = ObjectResult(
        WEB, Action.SKIPPED, DiffStatus.DRIFTED, (replace(REMOVED, cause=Cause.CLUSTER),),
        cause=Cause.CLUSTER,
    )  # fmt: skip
    assert (
        classify(
            _drift(REMOVED), "gitops-nb", Prior.of(_run(hand_then, commit="c1"), commit="c2")
        ).cause
        is Cause.CLUSTER
    )


def test_tables_say_a_removal_was_by_hand_when_the_cluster_caused_it() -> None:
    assert replace(REMOVED, cause=Cause.CLUSTER).changed_by == "removed by hand (manager unknown)"
    assert replace(REMOVED, cause=Cause.GIT).changed_by == "(unknown)"


def test_a_missing_object_the_inventory_lists_was_deleted_unless_a_record_says_otherwise() -> None:
    missing = ResourceDiff(WEB, DiffStatus.MISSING)
    # no record to ask (the CLI): the ApplySet inventory names what this app applied
    assert classify(missing, "gitops-nb", Prior(inventory=frozenset({WEB.key}))).cause is (
        Cause.CLUSTER
    )
    # the record knows better: it was missing last time too, as Git's (never created)
    new_then = ObjectResult(WEB, Action.FAILED, DiffStatus.MISSING, cause=Cause.GIT)
    prior = Prior.of(_run(new_then)).with_applied((), inventory=[WEB.key])
    assert classify(missing, "gitops-nb", prior).cause is Cause.GIT
