"""A deleted ApplySet parent: notice it, and rebuild the inventory from our run records.

The parent lists the kinds and namespaces of the members; without it a prune or a diff
looks only where Git points now, and objects removed from Git stay behind unseen. When the
parent is missing but our records name objects we applied, the members are looked up
where the records say, and only labelled members the records (or Git) name count: the
next apply writes the parent again with their kinds and namespaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_nb.engine.applyset import ApplySet, group_kind
from gitops_nb.errors import ForbiddenError, NotFoundError
from gitops_nb.model import Action, ObjectRef, SyncRun

RecordedRefs = Callable[[], Iterable[ObjectRef]]
"""Lazily lists the objects our run records say this app applied (read only when needed)."""

Key = tuple[str, str, str, str]


@dataclass(frozen=True)
class LostInventory:
    """Where the objects our records name may live, for a parent that is missing."""

    keys: frozenset[Key]
    group_kinds: frozenset[str]
    namespaces: frozenset[str]


def refs_in_records(runs: Iterable[SyncRun]) -> set[ObjectRef]:
    """Every object a run record shows we applied or kept (pruned ones excepted)."""
    out: set[ObjectRef] = set()
    for run in runs:
        for o in run.objects:
            if o.action is Action.PRUNED:
                out.discard(o.ref)
            else:
                out.add(o.ref)
    return out


def lost_inventory(
    parent: Mapping[str, Any] | None, recorded: RecordedRefs | None
) -> LostInventory | None:
    """None while the parent exists (or nothing is recorded); else where to look."""
    if parent is not None or recorded is None:
        return None
    try:
        refs = list(recorded())
    except (ForbiddenError, NotFoundError):  # records unreadable to us: nothing to rebuild from
        return None
    if not refs:
        return None
    return LostInventory(
        frozenset(r.key for r in refs),
        frozenset(group_kind(r.api_version, r.kind) for r in refs),
        frozenset(r.namespace for r in refs if r.namespace),
    )


def missing_parent_warning(
    applyset: ApplySet, parent: Mapping[str, Any] | None, members: int, lost: LostInventory | None
) -> str | None:
    """The warning for a parent that should exist but does not, else None."""
    if parent is not None or (members == 0 and lost is None):
        return None
    recorded = f"{len(lost.keys)} object(s) in our run records" if lost else "no run records"
    return (
        f"ApplySet parent {applyset.ref} is missing (deleted?) but {members} labelled "
        f"member(s) exist ({recorded}): the inventory is lost and objects removed from Git "
        "may be left behind; the next apply rebuilds it from the labelled members our "
        "records list"
    )
