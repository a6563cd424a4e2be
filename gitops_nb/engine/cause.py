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
- a field another manager owns: **cluster**; **both** when Git moved the field too: the
  previous record saw the same hand value against another desired value, or (the hand
  change and the commit both came after the last run) Git moved the object since the last
  record (its manifest no longer hashes to our fingerprint) and the field differs between
  the last record's commit and this one (:attr:`Prior.git_moved` renders that commit, once
  per run and only then);
- a missing object: **cluster** when we applied it before (the previous record saw it
  live, or it carries a fingerprint we recorded, or — with no record to ask — the ApplySet
  inventory lists it: it names what this app applied at least once), else **git** (new in
  Git);
- an extraneous member of our ApplySet: **git** (it left Git).

:func:`settled` says, for fields the last record saw drifted that are in sync at a new
commit, whether Git now holds the hand value (recorded as ``adopted``: the timeline's
"changed in Git" versus "reverted by hand").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gitops_nb.engine.fieldpaths import MISSING, touches, value_at
from gitops_nb.masking import is_secret
from gitops_nb.model import (
    Cause,
    DiffStatus,
    FieldChange,
    Manifest,
    ObjectResult,
    ResourceDiff,
    SyncRun,
)

_Key = tuple[str, str, str, str]
Moved = Callable[[_Key], Collection[str] | None]
"""The printed paths Git changed in an object since the last record's commit (None: unknown)."""


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
    earlier: Callable[[], Sequence[Manifest] | None] | None = None
    """The last record's commit rendered, on demand (None: same commit, or unknown);
    :func:`gitops_nb.engine.plan.evaluate` turns it into :attr:`git_moved`."""
    git_moved: Moved | None = None
    """What Git changed in an object since the last record's commit (None: same commit, or
    no way to render it); called only for a hand-owned field of an object Git moved."""

    @classmethod
    def of(
        cls,
        run: SyncRun | None,
        applied: Iterable[_Key] = (),
        commit: str = "",
        earlier: Callable[[str], Sequence[Manifest] | None] | None = None,
    ) -> Prior:
        """``earlier(commit)`` renders an earlier commit (None when it cannot); asked for the
        last record's commit only when that differs from ``commit`` and is needed."""
        objects = {o.ref.key: o for o in run.objects} if run is not None else {}
        rendered = run.revision.commit if run is not None and run.revision else ""
        same = bool(commit) and rendered == commit
        render = None
        if earlier is not None and rendered and commit and not same:
            render = functools.partial(earlier, rendered)
        return cls(objects, frozenset(applied), same_commit=same, earlier=render)

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
    if key not in prior.unmoved:
        diff = _moved_by_git_too(diff, field_manager, prior)
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
        c
        if c.cause is Cause.BOTH
        else replace(
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


def _hand_owned(change: FieldChange, field_manager: str) -> bool:
    return bool(change.manager) and change.manager != field_manager


def _moved_by_git_too(diff: ResourceDiff, field_manager: str, prior: Prior) -> ResourceDiff:
    """Hand-owned fields Git also changed since the last record's commit: **both**.

    Asks :attr:`Prior.git_moved` only when there is a hand-owned field to judge."""
    if prior.git_moved is None or not any(_hand_owned(c, field_manager) for c in diff.changes):
        return diff
    moved = prior.git_moved(diff.ref.key)
    if not moved:
        return diff
    return replace(
        diff,
        changes=tuple(
            replace(c, cause=Cause.BOTH)
            if _hand_owned(c, field_manager) and touches(c.path, moved)
            else c
            for c in diff.changes
        ),
    )


def settled(
    before: ObjectResult, now: ResourceDiff, current: Mapping[str, Any] | None
) -> tuple[tuple[str, bool], ...]:
    """Fields ``before`` (the last record, at another commit) saw drifted that ``now`` finds
    in sync: (path, True when the new desired value is the hand value the record saw: Git
    adopted it; False: the value went back by hand). ``current``: the object as it now is
    (live, or the manifest when the fast path vouched for it). Secrets' values are masked in
    records and are never compared."""
    if current is None or is_secret(now.ref) or now.status not in _SEEN:
        return ()
    differing = {c.path for c in now.changes}
    out = []
    for c in before.changes:
        cause = c.cause or before.cause or Cause.UNKNOWN
        if cause is Cause.GIT or c.path in differing:
            continue
        value = value_at(current, c.path)
        out.append((c.path, (None if value is MISSING else value) == c.live))
    return tuple(out)


_SEEN = (DiffStatus.IN_SYNC, DiffStatus.DRIFTED)
