"""Git's objects' health at the end of a reconcile run (kstatus; :mod:`gitops_nb.engine.health`):
one look, or with ``wait: true`` in correct mode a wait until every object is Current."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from gitops_nb.config import AppConfig, parse_duration
from gitops_nb.engine import DiffReport, Engine, SyncOptions
from gitops_nb.engine.wait import HealthReader, HealthReport
from gitops_nb.kube.sharedlists import SharedLists
from gitops_nb.model import Action, ChangeSet, DiffStatus, Mode

_WROTE = (Action.CREATED, Action.CONFIGURED, Action.UNCHANGED)
"""Actions after which the object exists."""


def run_health(
    cfg: AppConfig,
    engine: Engine,
    opts: SyncOptions,
    report: DiffReport,
    changes: ChangeSet,
    *,
    clock: Callable[[], dt.datetime],
    lists: SharedLists | None,
    stop: threading.Event,
) -> HealthReport:
    """The health of what the run judged: read as the app (its impersonated ServiceAccount),
    like its objects. ``lists``: a fleet run's shared snapshot, used when nothing was
    written (then it is as good as a GET per object)."""
    gone = {e.ref for e in changes.entries if e.action in (Action.PRUNED, Action.FAILED)}
    refs = [
        i.ref
        for i in report.items
        if i.status not in (DiffStatus.EXTRANEOUS, DiffStatus.ERROR) and i.ref not in gone
    ]
    # objects the plan saw live, or the apply wrote: no read needed to know they exist
    live = (DiffStatus.IN_SYNC, DiffStatus.DRIFTED)
    present = {i.ref for i in report.items if i.status in live}
    present |= {e.ref for e in changes.entries if e.action in _WROTE}
    wrote = any(e.action is not Action.UNCHANGED for e in changes.entries)
    reader = HealthReader(
        engine.app_kube(opts),
        engine.discovery,
        cfg.workers,
        now=clock,
        snapshot=None if wrote or cfg.wait else lists,
    )
    if cfg.wait and cfg.mode is Mode.CORRECT:
        timeout = parse_duration(cfg.wait_timeout)
        return reader.wait_current(refs, timeout, stop=stop, present=present)
    return reader.look(refs, present)
