"""Drift timeline: drift episodes per (object, field path) across sync runs.

Only differences the **cluster** caused are drift (cause ``cluster`` or ``both``, and
``unknown`` from old records that cannot say): a change Git made is a deployment
(:func:`gitops_nb.history.deployments`) and never an episode. An episode covers one object and
field path with one live value written by one manager. It starts at the first run that saw
it (missing objects and change-less drifted objects use path ``""``) and lasts while later
runs keep reporting that same value and manager. Rules:

- A sighting with another live value or another manager **splits** the episode: the old one
  ends there (``replaced by hand``) and a new one opens, so no hand value is merged away.
- Runs that failed, were interrupted or skipped neither end an episode nor extend it, unless
  they actually reported the change (then they count as a sighting).
- An object whose result in the ending run has status ``Error`` was not evaluated: the run
  does not end its episodes.
- Drifting again after resolution opens a new episode.

An episode ends at the first later **succeeded** run (``R``) that does not report it;
``resolved_at`` is ``R``'s start. The resolution, from the last run that saw it (``L``):

1. ``superseded by a git change`` — ``L`` ran in mode ``correct``, wrote the object, and Git
   had moved the field during the episode (cause ``both``, or another desired value than at
   the start): the hand value was replaced by a new commit, named in ``resolved_by``;
2. ``corrected by reconciler`` — ``L`` ran in mode ``correct`` and wrote the object;
3. ``removed from git`` — the object is not among ``R``'s objects;
4. ``changed in git`` — ``R`` rendered another commit than ``L`` and Git now holds the hand
   value: Git adopted the live value (commit and author in ``resolved_by``). The engine
   records that in ``R``'s object line (``adopted``: path → whether the new desired value is
   the live value the last record saw); records without it (older ones) count any new
   commit as adoption;
5. ``reverted by hand`` — otherwise: someone put the value back (also when an unrelated
   commit came at the same time: ``adopted`` says false).

``corrected_at`` (corrected or superseded only) is when the reconciler wrote the object back:
the end of ``L``, the run that did it. ``resolved_at`` stays the first run that *verified*
it gone, as a deployment's ``in_sync_at`` is verified, so it is at most one run interval
later.

Coalesced records (schema 3) keep this timing exact: a record stands for consecutive runs
that saw the same thing, so the first run that saw a drift starts a record (``first_seen`` is
its ``started``), ``last_seen`` is its last run's start, ``runs_seen`` counts its repeats, and
the first run that saw the drift gone starts the next record (``resolved_at``).

``changed_at`` is when the cluster moved, as the API server recorded it: the ``managedFields``
time of the manager's write (``NaT`` when the server keeps none, e.g. a deleted object or a
``scale`` subresource write, or when it is later than ``first_seen`` by more than
:data:`CLOCK_SKEW`: the clocks disagree). ``first_seen`` is when a run first saw it; the
raw time stays in the per-run rows (``history.drift``).

Each episode names the commit in force while it lasted (``commit``; every one in
``commits``), so a reviewer sees what the cluster should have been.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gitops_nb.history.frames import (
    NAT,
    NO_DURATION,
    TIME_DTYPE,
    frame,
    object_cols,
    sort_runs,
    to_json,
    to_utc,
)
from gitops_nb.model import (
    Cause,
    DiffStatus,
    Mode,
    ObjectRef,
    ObjectResult,
    Revision,
    SyncRun,
    infer_causes,
)

CORRECTED = "corrected by reconciler"
SUPERSEDED = "superseded by a git change"
REMOVED = "removed from git"
CHANGED = "changed in git"
REVERTED = "reverted by hand"
REPLACED = "replaced by hand"
RESOLUTIONS = (CORRECTED, SUPERSEDED, REMOVED, CHANGED, REVERTED, REPLACED)

INTERVAL_COLUMNS: dict[str, str] = {
    "app": "str",
    "api_version": "str",
    "kind": "str",
    "namespace": "str",
    "name": "str",
    "object": "str",
    "path": "str",
    "cause": "str",
    "live": "object",
    "manager": "object",
    "operation": "object",
    "changed_at": TIME_DTYPE,
    "first_seen": TIME_DTYPE,
    "last_seen": TIME_DTYPE,
    "resolved_at": TIME_DTYPE,
    "corrected_at": TIME_DTYPE,
    "resolution": "object",
    "resolved_by": "object",
    "resolving_commit": "object",
    "duration": "timedelta64[us]",
    "open": "bool",
    "commit": "str",
    "commits": "object",
    "managers": "str",
    "last_manager": "object",
    "runs_seen": "int64",
    "desired_at_start": "object",
    "desired_at_end": "object",
    "live_values": "object",
}

# (app, group, kind, namespace, name, path): the API version may change, the object doesn't
_Key = tuple[str, str, str, str, str, str]


@dataclass(frozen=True)
class _Sighting:
    result: ObjectResult
    live: str | None
    desired: str | None
    manager: str | None
    operation: str | None
    cause: Cause
    #: when the manager wrote the value (its ``managedFields`` time), if the server says
    time: str | None = None


@dataclass
class _Episode:
    app: str
    ref: ObjectRef
    path: str
    first_seen: pd.Timestamp
    first: _Sighting
    last_seen: pd.Timestamp = NAT
    last_run: SyncRun | None = None
    last: _Sighting | None = None
    causes: set[Cause] = field(default_factory=set)
    commits: list[str] = field(default_factory=list)
    runs_seen: int = 0
    resolved_at: pd.Timestamp = NAT
    corrected_at: pd.Timestamp = NAT
    resolution: str | None = None
    resolved_by: str | None = None
    resolving_commit: str | None = None

    def same_hand(self, s: _Sighting) -> bool:
        return s.live == self.first.live and s.manager == self.first.manager

    def see(self, run: SyncRun, s: _Sighting) -> None:
        self.last_seen = to_utc(run.last_started)  # a coalesced record: its last run
        self.last_run, self.last = run, s
        self.ref = s.result.ref
        self.runs_seen += run.repeats
        self.causes.add(s.cause)
        commit = _commit(run)
        if commit and commit not in self.commits:
            self.commits.append(commit)

    def end(self, at: pd.Timestamp, resolution: str, by: Revision | None = None) -> None:
        self.resolved_at, self.resolution = at, resolution
        self.resolved_by = resolution
        if by is not None and resolution in (SUPERSEDED, CHANGED, REMOVED):
            verb = {SUPERSEDED: "superseded by", CHANGED: "changed in git by"}.get(
                resolution, "removed from git by"
            )
            self.resolved_by = f"{verb} commit {by.commit[:12]} ({by.author})"
            self.resolving_commit = by.commit

    @property
    def cause(self) -> Cause:
        for c in (Cause.BOTH, Cause.CLUSTER):
            if c in self.causes:
                return c
        return Cause.UNKNOWN

    def row(self) -> dict[str, Any]:
        is_open = self.resolution is None
        first, last = self.first, self.last or self.first
        return {
            "app": self.app,
            **object_cols(self.ref),
            "path": self.path,
            "cause": str(self.cause),
            "live": first.live,
            "manager": first.manager,
            "operation": first.operation,
            "changed_at": _changed_at(first.time, self.first_seen),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "resolved_at": self.resolved_at,
            "corrected_at": self.corrected_at,
            "resolution": self.resolution,
            "resolved_by": self.resolved_by,
            "resolving_commit": self.resolving_commit,
            "duration": NO_DURATION if is_open else self.resolved_at - self.first_seen,
            "open": is_open,
            "commit": self.commits[0] if self.commits else "",
            "commits": list(self.commits),
            "managers": first.manager or "",
            "last_manager": first.manager,
            "runs_seen": self.runs_seen,
            "desired_at_start": first.desired,
            "desired_at_end": last.desired,
            "live_values": [] if first.live is None else [first.live],
        }


#: how far a server's clock may run ahead of the reconciler's
CLOCK_SKEW = pd.Timedelta(minutes=5)


def _changed_at(time: str | None, first_seen: pd.Timestamp) -> pd.Timestamp:
    """The write's time, unless it is later than the run that saw it (beyond clock skew):
    then the clocks disagree (or a story clock, as in the demo) and it says nothing."""
    at = to_utc(time)
    return NAT if pd.isna(at) or at > first_seen + CLOCK_SKEW else at


def _is_drift(cause: Cause | None) -> bool:
    return cause is None or cause.is_drift or cause is Cause.UNKNOWN


def sightings(result: ObjectResult) -> list[tuple[str, _Sighting]]:
    """(path, sighting) for each cluster-caused difference the result reports."""
    if not result.status.is_drift:
        return []
    result = infer_causes(result)  # records written without causes (hand-made, old tools)
    if not result.changes:
        if not _is_drift(result.cause):
            return []
        return [("", _Sighting(result, None, None, None, None, result.cause or Cause.UNKNOWN))]
    out = []
    for c in result.changes:
        cause = c.cause or result.cause or Cause.UNKNOWN
        if _is_drift(cause):
            live, desired = to_json(c.live), to_json(c.desired)
            sighting = _Sighting(result, live, desired, c.manager, c.operation, cause, c.time)
            out.append((c.path, sighting))
    return out


def _key(app: str, ref: ObjectRef, path: str) -> _Key:
    return (app, ref.group, ref.kind, ref.namespace, ref.name, path)


def _commit(run: SyncRun | None) -> str:
    return run.revision.commit if run is not None and run.revision else ""


def _resolve(ep: _Episode, ending: SyncRun, result: ObjectResult | None) -> None:
    at = to_utc(ending.started)
    last, s = ep.last_run, ep.last
    assert last is not None and s is not None
    if last.mode is Mode.CORRECT and s.result.action.is_write:
        ep.corrected_at = to_utc(last.last_finished or last.finished)  # a write never folds
        git_moved = Cause.BOTH in ep.causes or s.desired != ep.first.desired
        if git_moved:
            ep.end(at, SUPERSEDED, last.revision)
        else:
            ep.end(at, CORRECTED)
    elif result is None and s.result.status is not DiffStatus.EXTRANEOUS:
        ep.end(at, REMOVED, ending.revision)
    elif result is not None and _commit(last) != _commit(ending):
        if dict(result.adopted).get(ep.path, True):  # older records cannot say: changed
            ep.end(at, CHANGED, ending.revision)
        else:
            ep.end(at, REVERTED)
    else:
        ep.end(at, REVERTED)


def drift_intervals(records: Iterable[SyncRun]) -> pd.DataFrame:
    """One row per drift episode of an (object, field path); see the module doc."""
    open_eps: dict[_Key, _Episode] = {}
    done: list[_Episode] = []
    for run in sort_runs(records):
        by_key: dict[tuple[str, str, str, str], ObjectResult] = {}
        seen: dict[_Key, _Sighting] = {}
        for result in run.objects:
            by_key[result.ref.key] = result
            for path, s in sightings(result):
                seen[_key(run.app, result.ref, path)] = s

        started = to_utc(run.started)
        for key, ep in list(open_eps.items()):
            if key[0] != run.app:
                continue
            s_now = seen.get(key)
            if s_now is not None:
                if not ep.same_hand(s_now):  # another value or writer: a new episode
                    ep.end(started, REPLACED)
                    done.append(open_eps.pop(key))
                continue
            if not run.outcome.ends_drift:
                continue
            current = by_key.get(key[1:5])
            if current is not None and current.status is DiffStatus.ERROR:
                continue  # not evaluated this time: neither confirms nor refutes
            _resolve(ep, run, current)
            done.append(open_eps.pop(key))

        for key, s in seen.items():
            ep_or_none = open_eps.get(key)
            if ep_or_none is None:
                ep_or_none = open_eps[key] = _Episode(
                    app=run.app, ref=s.result.ref, path=key[5], first_seen=started, first=s
                )
            ep_or_none.see(run, s)

    episodes = sorted(
        [*done, *open_eps.values()], key=lambda e: (e.first_seen, e.app, str(e.ref), e.path)
    )
    return frame([e.row() for e in episodes], INTERVAL_COLUMNS)


__all__ = [
    "CHANGED",
    "CORRECTED",
    "REMOVED",
    "REPLACED",
    "RESOLUTIONS",
    "REVERTED",
    "SUPERSEDED",
    "drift_intervals",
    "sightings",
]
