"""Why each difference exists: Git moved, the cluster moved, or both. Pure.

Decided at diff time from what the diff already holds, plus what the previous record saw:

- a field whose live value our own field manager owns: **git** (we wrote it, so a
  difference is Git moving); a field nobody owns that is absent live: **git** (Git adds it);
- a field another manager owns: **cluster**; **both** when the previous record saw the same
  hand value against another desired value (Git moved the field since);
- a missing object: **cluster** when we applied it before (the previous record saw it
  live, or it carries a fingerprint we recorded), else **git** (new in Git);
- an extraneous member of our ApplySet: **git** (it left Git).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from gitops_nb.model import Cause, DiffStatus, FieldChange, ObjectResult, ResourceDiff, SyncRun

_Key = tuple[str, str, str, str]


@dataclass(frozen=True)
class Prior:
    """What earlier runs know: the last record's object lines, and fingerprinted objects."""

    objects: Mapping[_Key, ObjectResult] = field(default_factory=dict)
    applied: frozenset[_Key] = frozenset()
    """Objects we verified in sync before (fingerprints in the ApplySet parent)."""

    @classmethod
    def of(cls, run: SyncRun | None, applied: Iterable[_Key] = ()) -> Prior:
        objects = {o.ref.key: o for o in run.objects} if run is not None else {}
        return cls(objects, frozenset(applied))

    def with_applied(self, applied: Iterable[_Key]) -> Prior:
        return replace(self, applied=self.applied | frozenset(applied))


def field_cause(change: FieldChange, field_manager: str, before: FieldChange | None) -> Cause:
    """The cause of one differing field; ``before``: the same field in the last record."""
    if change.manager == field_manager:
        return Cause.GIT
    if not change.manager:
        return Cause.GIT if change.live is None else Cause.CLUSTER
    git_moved = (
        before is not None
        and before.manager == change.manager
        and before.live == change.live
        and before.desired != change.desired
    )
    return Cause.BOTH if git_moved else Cause.CLUSTER


def _missing_cause(key: _Key, prior: Prior) -> Cause:
    if key in prior.applied:
        return Cause.CLUSTER
    before = prior.objects.get(key)
    if before is None:
        return Cause.GIT
    if before.status is DiffStatus.MISSING:
        return before.cause if before.cause is Cause.CLUSTER else Cause.GIT
    return Cause.CLUSTER  # it was live at the last run: someone deleted it


def classify(diff: ResourceDiff, field_manager: str, prior: Prior | None = None) -> ResourceDiff:
    """``diff`` with the cause of every change and of the object filled in."""
    prior = prior or Prior()
    key = diff.ref.key
    if diff.status is DiffStatus.MISSING:
        return replace(diff, cause=_missing_cause(key, prior))
    if diff.status is DiffStatus.EXTRANEOUS:
        return replace(diff, cause=Cause.GIT)
    if diff.status is not DiffStatus.DRIFTED:
        return diff
    last = prior.objects.get(key)
    before = {c.path: c for c in last.changes} if last is not None else {}
    changes = tuple(
        replace(c, cause=field_cause(c, field_manager, before.get(c.path))) for c in diff.changes
    )
    cause = Cause.combine(c.cause for c in changes) or Cause.CLUSTER
    return replace(diff, changes=changes, cause=cause)
