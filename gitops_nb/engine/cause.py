"""Why each difference exists: Git moved, the cluster moved, or both. Pure.

Decided at diff time from what the diff already holds, plus what the previous record saw:

- a field whose live value our own field manager owns: **git** (we wrote it, so a
  difference is Git moving);
- a field Git sets that is absent live (nobody owns it): **cluster** when Git has not moved
  the object since we saw it whole: its manifest hashes to the fingerprint we recorded when
  we verified it in sync, or the previous record rendered the same commit and saw the
  object without this difference; the previous record's cause when it saw the same
  removal; else **git** (Git adds it). Whoever removed it left no ``managedFields`` entry,
  so the manager is unknown;
- a field another manager owns: **cluster**; **both** when the previous record saw the same
  hand value against another desired value (Git moved the field since);
- a missing object: **cluster** when we applied it before (the previous record saw it
  live, or it carries a fingerprint we recorded, or — with no record to ask — the ApplySet
  inventory lists it: it names what this app applied at least once), else **git** (new in
  Git);
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
    unmoved: frozenset[_Key] = frozenset()
    """Objects whose manifest is the one we verified in sync before: Git has not moved them."""
    same_commit: bool = False
    """The last record rendered the commit this run renders."""
    inventory: frozenset[_Key] = frozenset()
    """Objects the ApplySet parent says this app applied at least once."""

    @classmethod
    def of(cls, run: SyncRun | None, applied: Iterable[_Key] = (), commit: str = "") -> Prior:
        objects = {o.ref.key: o for o in run.objects} if run is not None else {}
        rendered = run.revision.commit if run is not None and run.revision else ""
        return cls(objects, frozenset(applied), same_commit=bool(commit) and rendered == commit)

    def with_applied(
        self,
        applied: Iterable[_Key],
        unmoved: Iterable[_Key] = (),
        inventory: Iterable[_Key] = (),
    ) -> Prior:
        return replace(
            self,
            applied=self.applied | frozenset(applied),
            unmoved=self.unmoved | frozenset(unmoved),
            inventory=self.inventory | frozenset(inventory),
        )


def _removed_cause(change: FieldChange, before: FieldChange | None, unmoved: bool) -> Cause:
    """A field Git sets that nobody holds live: removed by hand, or added by Git?"""
    if unmoved:
        return Cause.CLUSTER
    if before is not None and before.live is None and before.desired == change.desired:
        return Cause.CLUSTER if before.cause in (Cause.CLUSTER, Cause.BOTH) else Cause.GIT
    return Cause.GIT


def field_cause(
    change: FieldChange, field_manager: str, before: FieldChange | None, unmoved: bool = False
) -> Cause:
    """The cause of one differing field; ``before``: the same field in the last record;
    ``unmoved``: Git has not changed the object since we last saw it whole."""
    if change.manager == field_manager:
        return Cause.GIT
    if not change.manager:
        if change.live is not None:
            return Cause.CLUSTER
        return _removed_cause(change, before, unmoved)
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
        return Cause.CLUSTER if key in prior.inventory else Cause.GIT
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
    # Seen whole at the same commit: every field Git sets was live then.
    seen_whole = (
        prior.same_commit
        and last is not None
        and last.status in (DiffStatus.IN_SYNC, DiffStatus.DRIFTED)
    )
    unmoved = key in prior.unmoved
    changes = tuple(
        replace(
            c,
            cause=field_cause(
                c,
                field_manager,
                before.get(c.path),
                unmoved or (seen_whole and c.path not in before),
            ),
        )
        for c in diff.changes
    )
    cause = Cause.combine(c.cause for c in changes) or Cause.CLUSTER
    return replace(diff, changes=changes, cause=cause)
