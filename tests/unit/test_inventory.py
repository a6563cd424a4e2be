"""The pure part of rebuilding a deleted ApplySet parent (issue 13, item 14)."""

from __future__ import annotations

from gitops_nb.engine.applyset import ApplySet
from gitops_nb.engine.inventory import lost_inventory, missing_parent_warning, refs_in_records
from gitops_nb.model import Action, DiffStatus, Mode, ObjectRef, ObjectResult, SyncRun
from tests.factories import sync_run

CM = ObjectRef("v1", "ConfigMap", "web", "a")
SVC = ObjectRef("v1", "Service", "other", "b")
DEP = ObjectRef("apps/v1", "Deployment", "web", "d")


def run(*objects: tuple[ObjectRef, Action]) -> SyncRun:
    return sync_run(
        "r", "t0", *(ObjectResult(ref, action, DiffStatus.IN_SYNC) for ref, action in objects),
        finished="t1", duration_s=1.0, trigger="manual", mode=Mode.CORRECT, revision=None,
    )  # fmt: skip


def test_refs_in_records_union_without_pruned() -> None:
    runs = [
        run((CM, Action.CREATED), (SVC, Action.CREATED), (DEP, Action.CREATED)),
        run((CM, Action.UNCHANGED), (DEP, Action.PRUNED)),
    ]
    assert refs_in_records(runs) == {CM, SVC}


def test_lost_inventory_only_without_parent() -> None:
    assert lost_inventory({"kind": "ConfigMap"}, lambda: [CM]) is None
    assert lost_inventory(None, None) is None
    assert lost_inventory(None, lambda: []) is None
    lost = lost_inventory(None, lambda: [CM, SVC, DEP])
    assert lost is not None
    assert lost.group_kinds == {"ConfigMap", "Service", "Deployment.apps"}
    assert lost.namespaces == {"web", "other"}


def test_warning_only_when_something_was_there() -> None:
    aset = ApplySet("web", "web")
    assert missing_parent_warning(aset, None, 0, None) is None  # a first apply
    assert missing_parent_warning(aset, {"kind": "ConfigMap"}, 3, None) is None
    warning = missing_parent_warning(aset, None, 2, None)
    assert warning is not None and "gitops-nb.web" in warning and "missing" in warning
