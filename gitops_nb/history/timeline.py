"""Drift timeline: continuous drift episodes per (object, field path) across sync runs.

An *episode* starts at the first run that reports a drifted field (or a Missing / Extraneous /
change-less Drifted object, recorded with path ``""``) and lasts while later runs keep
reporting it. It ends at the first later **succeeded** run of the same app that does not
report it; ``resolved_at`` is that run's ``started``. Rules:

- Runs that failed, were interrupted or skipped neither end an episode nor extend it, unless
  they actually reported the change (then they count as a sighting).
- An object whose result in the ending run has status ``Error`` was not evaluated: the run
  does not end its episodes.
- Drifting again after resolution opens a new episode.

Resolution, decided at the ending run (``R``) from the last run that saw the drift (``L``):

1. ``corrected by reconciler`` — ``L`` ran in mode ``correct`` and wrote the object
   (created / configured / pruned);
2. ``removed from git`` — the object is not among ``R``'s objects (except Extraneous objects,
   which were never in Git: their disappearance is a hand-made deletion, rule 4);
3. ``changed in git`` — ``R`` rendered a different commit than ``L``;
4. ``reverted by hand`` — otherwise: someone put the live value back.

In ``correct`` mode the run that detects a drift also writes it back, so the next succeeded
run sees the object in sync: such an episode has ``first_seen == last_seen``, ``runs_seen ==
1`` and ``resolved_at`` = the next succeeded run — its duration is the sync interval, the time
the drift could live before the reconciler came round.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gitops_nb.history.frames import NAT, NO_DURATION, TIME_DTYPE, frame, sort_runs, to_json, to_utc
from gitops_nb.model import DiffStatus, Mode, ObjectRef, ObjectResult, SyncRun

CORRECTED = "corrected by reconciler"
REMOVED = "removed from git"
CHANGED = "changed in git"
REVERTED = "reverted by hand"

INTERVAL_COLUMNS: dict[str, str] = {
    "app": "str",
    "api_version": "str",
    "kind": "str",
    "namespace": "str",
    "name": "str",
    "object": "str",
    "path": "str",
    "first_seen": TIME_DTYPE,
    "last_seen": TIME_DTYPE,
    "resolved_at": TIME_DTYPE,
    "resolution": "object",
    "duration": "timedelta64[us]",
    "open": "bool",
    "managers": "str",
    "last_manager": "object",
    "runs_seen": "int64",
    "desired_at_start": "object",
    "live_values": "object",
}

# (app, group, kind, namespace, name, path): the API version may change, the object doesn't
_Key = tuple[str, str, str, str, str, str]


@dataclass
class _Episode:
    app: str
    ref: ObjectRef
    path: str
    first_seen: pd.Timestamp
    desired_at_start: str | None
    last_seen: pd.Timestamp = NAT
    last_run: SyncRun | None = None
    last_result: ObjectResult | None = None
    managers: set[str] = field(default_factory=set)
    last_manager: str | None = None
    runs_seen: int = 0
    live_values: list[str] = field(default_factory=list)
    resolved_at: pd.Timestamp = NAT
    resolution: str | None = None

    def see(
        self, run: SyncRun, result: ObjectResult, live: str | None, manager: str | None
    ) -> None:
        self.last_seen = to_utc(run.started)
        self.last_run, self.last_result = run, result
        self.ref = result.ref
        self.runs_seen += 1
        if manager:
            self.managers.add(manager)
        self.last_manager = manager
        if live is not None and live not in self.live_values:
            self.live_values.append(live)

    def row(self) -> dict[str, Any]:
        is_open = self.resolution is None
        return {
            "app": self.app,
            "api_version": self.ref.api_version,
            "kind": self.ref.kind,
            "namespace": self.ref.namespace,
            "name": self.ref.name,
            "object": str(self.ref),
            "path": self.path,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "resolved_at": self.resolved_at,
            "resolution": self.resolution,
            "duration": NO_DURATION if is_open else self.resolved_at - self.first_seen,
            "open": is_open,
            "managers": ", ".join(sorted(self.managers)),
            "last_manager": self.last_manager,
            "runs_seen": self.runs_seen,
            "desired_at_start": self.desired_at_start,
            "live_values": list(self.live_values),
        }


def _sightings(
    result: ObjectResult,
) -> list[tuple[str, str | None, str | None, str | None]]:
    """(path, live, desired, manager) for each drift the result reports."""
    if not result.status.is_drift:
        return []
    if not result.changes:
        return [("", None, None, None)]
    return [(c.path, to_json(c.live), to_json(c.desired), c.manager) for c in result.changes]


def _key(app: str, ref: ObjectRef, path: str) -> _Key:
    return (app, ref.group, ref.kind, ref.namespace, ref.name, path)


def _commit(run: SyncRun | None) -> str:
    return run.revision.commit if run is not None and run.revision else ""


def _resolution(ep: _Episode, ending: SyncRun, result: ObjectResult | None) -> str:
    last, last_result = ep.last_run, ep.last_result
    if (
        last is not None
        and last.mode is Mode.CORRECT
        and last_result is not None
        and last_result.action.is_write
    ):
        return CORRECTED
    was_extraneous = last_result is not None and last_result.status is DiffStatus.EXTRANEOUS
    if result is None and not was_extraneous:
        return REMOVED
    if result is not None and _commit(last) != _commit(ending):
        return CHANGED
    return REVERTED


def drift_intervals(records: Iterable[SyncRun]) -> pd.DataFrame:
    """One row per continuous drift episode of an (object, field path); see the module doc."""
    open_eps: dict[_Key, _Episode] = {}
    done: list[_Episode] = []
    for run in sort_runs(records):
        by_key: dict[tuple[str, str, str, str], ObjectResult] = {}
        seen: dict[_Key, tuple[ObjectResult, str | None, str | None, str | None]] = {}
        for result in run.objects:
            by_key[result.ref.key] = result
            for path, live, desired, manager in _sightings(result):
                seen[_key(run.app, result.ref, path)] = (result, live, desired, manager)

        if run.outcome.ends_drift:
            for key, ep in list(open_eps.items()):
                if key[0] != run.app or key in seen:
                    continue
                current = by_key.get(key[1:5])
                if current is not None and current.status is DiffStatus.ERROR:
                    continue  # not evaluated this time: neither confirms nor refutes
                ep.resolved_at = to_utc(run.started)
                ep.resolution = _resolution(ep, run, current)
                done.append(open_eps.pop(key))

        for key, (result, live, desired, manager) in seen.items():
            ep_or_none = open_eps.get(key)
            if ep_or_none is None:
                ep_or_none = open_eps[key] = _Episode(
                    app=run.app,
                    ref=result.ref,
                    path=key[5],
                    first_seen=to_utc(run.started),
                    desired_at_start=desired,
                )
            ep_or_none.see(run, result, live, manager)

    episodes = sorted(
        [*done, *open_eps.values()], key=lambda e: (e.first_seen, e.app, str(e.ref), e.path)
    )
    return frame([e.row() for e in episodes], INTERVAL_COLUMNS)


__all__ = ["CHANGED", "CORRECTED", "REMOVED", "REVERTED", "drift_intervals"]
