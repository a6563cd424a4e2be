"""The prune guards, on hand-made diff reports (no server): they refuse before any write."""

from __future__ import annotations

import pytest

from gitops_nb.engine.desired import Desired
from gitops_nb.engine.evaluate import Evaluated
from gitops_nb.engine.options import SyncOptions
from gitops_nb.engine.prune import candidates, check_guards
from gitops_nb.engine.report import DiffReport
from gitops_nb.errors import PruneGuardError
from gitops_nb.model import DiffStatus, Manifest, ObjectRef, ResourceDiff


def cm(name: str) -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", "web", name)


def desired(*names: str) -> list[Desired]:
    out = []
    for n in names:
        obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "namespace": "web"}}
        out.append(Desired(Manifest(obj, f"{n}.yaml"), obj, cm(n), None))
    return out


def evaluated(name: str, status: DiffStatus) -> Evaluated:
    return Evaluated(cm(name), ResourceDiff(cm(name), status))


def report(kept: int, extra: int, inventory: int | None = None) -> DiffReport:
    """``kept`` objects in Git and in sync, ``extra`` live members Git no longer has."""
    items = [evaluated(f"keep-{i}", DiffStatus.IN_SYNC) for i in range(kept)]
    items += [evaluated(f"gone-{i}", DiffStatus.EXTRANEOUS) for i in range(extra)]
    size = kept + extra if inventory is None else inventory
    return DiffReport("web", items, inventory_size=size)


def opts(allow_mass_prune: bool = False, max_prune_ratio: float = 0.5) -> SyncOptions:
    return SyncOptions(
        app="web",
        namespace="web",
        prune=True,
        allow_mass_prune=allow_mass_prune,
        max_prune_ratio=max_prune_ratio,
    )


def test_candidates_are_the_extraneous_members_only() -> None:
    r = report(2, 0)
    r.items += [
        evaluated("gone", DiffStatus.EXTRANEOUS),
        evaluated("drift", DiffStatus.DRIFTED),
        evaluated("new", DiffStatus.MISSING),
        evaluated("bad", DiffStatus.ERROR),
    ]
    assert [e.ref.name for e in candidates(r)] == ["gone"]
    assert candidates(report(3, 0)) == []


def test_an_empty_rendered_set_is_refused_even_with_nothing_to_prune() -> None:
    for r in (report(0, 4), report(0, 0)):
        with pytest.raises(PruneGuardError, match="rendered set is empty") as err:
            check_guards(r, [], opts())
        assert "app web" in str(err.value)
    # allow_mass_prune does not lift it: an empty render is a different mistake
    with pytest.raises(PruneGuardError, match="rendered set is empty"):
        check_guards(report(0, 4), [], opts(allow_mass_prune=True))


def test_a_prune_above_the_ratio_is_refused_and_names_the_numbers() -> None:
    with pytest.raises(PruneGuardError) as err:
        check_guards(report(4, 6), desired("keep-0"), opts())
    msg = str(err.value)
    assert "6 of 10" in msg and "60% > 50%" in msg and "--allow-mass-prune" in msg


def test_the_ratio_is_a_bound_not_a_threshold_crossed_at_equality() -> None:
    check_guards(report(5, 5), desired("keep-0"), opts())  # exactly 50%: allowed
    with pytest.raises(PruneGuardError):
        check_guards(report(4, 5), desired("keep-0"), opts())  # 5/9 > 50%
    check_guards(report(1, 3), desired("keep-0"), opts(max_prune_ratio=0.75))
    with pytest.raises(PruneGuardError, match="75% > 20%"):
        check_guards(report(1, 3), desired("keep-0"), opts(max_prune_ratio=0.2))


def test_inventory_is_never_smaller_than_what_would_be_pruned() -> None:
    # a stale inventory count (0) must not hide a prune of every member
    with pytest.raises(PruneGuardError, match="3 of 3"):
        check_guards(report(0, 3, inventory=0), desired("new"), opts())


def test_allow_mass_prune_lifts_the_ratio_guard() -> None:
    check_guards(report(1, 9), desired("keep-0"), opts(allow_mass_prune=True))


def test_nothing_to_prune_passes() -> None:
    check_guards(report(3, 0), desired("keep-0", "keep-1", "keep-2"), opts())
    check_guards(report(0, 0, inventory=0), desired("first"), opts(max_prune_ratio=0.0))


def test_no_guard_applies_when_prune_is_disabled() -> None:
    off = SyncOptions(app="web", namespace="web", prune=False)
    check_guards(report(0, 10), [], off)
    check_guards(report(1, 9), desired("keep-0"), off)
