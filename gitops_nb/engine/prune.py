"""Prune: the guards that refuse a dangerous prune, and the ordered, guarded delete."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from gitops_nb.engine import ordering
from gitops_nb.engine.desired import Desired
from gitops_nb.engine.evaluate import Evaluated
from gitops_nb.engine.options import SyncOptions
from gitops_nb.engine.report import DiffReport, ObjectCallback
from gitops_nb.errors import GitOpsError, InterruptedRun, NotFoundError, PruneGuardError
from gitops_nb.kube.client import Kube
from gitops_nb.model import Action, DiffStatus


def candidates(report: DiffReport) -> list[Evaluated]:
    """Live ApplySet members that Git no longer has and our records say we applied."""
    return [e for e in report.items if e.status is DiffStatus.EXTRANEOUS and not e.blocked]


def left_alone(report: DiffReport) -> list[Evaluated]:
    """Members that only carry our label: reported, never deleted."""
    return [e for e in report.items if e.status is DiffStatus.EXTRANEOUS and e.blocked]


def check_guards(report: DiffReport, desired: Sequence[Desired], opts: SyncOptions) -> None:
    """Raise :class:`PruneGuardError` before any write if the prune looks like a mistake.

    An empty rendered set would prune the whole inventory; a prune of more than
    ``max_prune_ratio`` of the inventory needs ``allow_mass_prune``.
    """
    if not opts.prune:
        return
    if not desired:
        raise PruneGuardError(
            f"app {opts.app}: the rendered set is empty; refusing to prune the whole "
            "inventory (check --path; an empty render is almost always a mistake)"
        )
    to_prune = candidates(report)
    inventory = max(report.inventory_size, len(to_prune))
    if to_prune and not opts.allow_mass_prune and inventory:
        share = len(to_prune) / inventory
        if share > opts.max_prune_ratio:
            raise PruneGuardError(
                f"app {opts.app}: prune would delete {len(to_prune)} of {inventory} "
                f"inventoried objects ({share:.0%} > {opts.max_prune_ratio:.0%}); rerun with "
                "--allow-mass-prune if that is intended"
            )


def prune(
    kube: Kube,
    items: Sequence[Evaluated],
    opts: SyncOptions,
    record: ObjectCallback,
    stop: threading.Event,
) -> None:
    """Delete ``items`` in reverse apply order; each only if it is still the object we saw."""
    for e in ordering.sort_for_prune(list(items), lambda x: x.ref):
        if stop.is_set():
            raise InterruptedRun(f"stopped before pruning {e.ref}")
        assert e.resource is not None and e.live is not None
        path = e.resource.object_path(e.ref.namespace if e.resource.namespaced else "", e.ref.name)
        uid = (e.live.get("metadata") or {}).get("uid")
        try:
            kube.delete(
                path,
                dry_run=opts.dry_run,
                # Never delete a different object that took the same name meanwhile.
                preconditions={"uid": uid} if uid else None,
                what=str(e.ref),
            )
        except NotFoundError:
            pass  # already gone: the outcome we wanted
        except GitOpsError as err:
            if err.transient:
                raise
            record(e.ref, Action.FAILED, str(err))
            continue
        record(e.ref, Action.PRUNED, None)
