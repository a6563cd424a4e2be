"""``pruneOrphanApps: true``: delete the objects of apps the generators no longer make.

Guarded across the whole fleet, because the accident it must not repeat is a generator that
suddenly makes nothing (a renamed directory, a bad glob, an empty checkout) and every app's
objects are deleted (argo-cd#18780, #16838, #15393):

- no current app at all and any orphan: refused;
- orphans over ``maxPruneRatio`` of the apps the fleet remembered: refused;
- ``allowMassPrune: true`` at the top level lifts both.

The numbers are the fleet's, not the shard's: every shard sees the same remembered list and
the same generator output, so they all decide alike; each deletes only its own orphans.
An orphan is pruned under its own Lease: its ApplySet members in reverse order, each with a
uid precondition, then its ApplySet parent. Each pruned app gets a last run record in the
fleet's record store (trigger ``app-removed``): every object it deleted (Extraneous, cause
git, action pruned or failed), so the audit trail says when the app's objects went and the
drift timeline ends their episodes as "removed from git".
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from gitops_nb.config import AppConfig
from gitops_nb.engine import Engine, SyncOptions
from gitops_nb.engine.applyset import ApplySet
from gitops_nb.engine.evaluate import Evaluated
from gitops_nb.engine.prune import candidates, prune
from gitops_nb.errors import ExitCode, GitOpsError, LeaseHeldError
from gitops_nb.fleet.apps import FleetConfig
from gitops_nb.fleet.shards import shard_of
from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.kube.lease import acquire
from gitops_nb.model import (
    REMOVED_TRIGGER,
    Action,
    Cause,
    DiffStatus,
    Mode,
    ObjectRef,
    ObjectResult,
    Outcome,
    Revision,
    SyncRun,
)
from gitops_nb.records.store import open_store
from gitops_nb.usecases.jsonlog import event
from gitops_nb.usecases.runrecord import count, record_time

TRIGGER = REMOVED_TRIGGER


@dataclass(frozen=True)
class Orphan:
    """An app the fleet had and the generators no longer make."""

    name: str
    namespace: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "namespace": self.namespace}


def guard(fleet: FleetConfig, current: int, known: int, orphans: int) -> str | None:
    """Why the fleet must not prune its orphans now, or None."""
    if not orphans or bool(fleet.defaults.get("allow_mass_prune", False)):
        return None
    if current == 0:
        return (
            f"the generators make no app at all; refusing to prune {orphans} removed app(s) "
            "(an empty fleet is almost always a mistake; allowMassPrune: true if intended)"
        )
    ratio = float(fleet.defaults.get("max_prune_ratio", AppConfig.max_prune_ratio))
    share = orphans / max(known, 1)
    if share > ratio:
        return (
            f"{orphans} of {known} remembered apps were removed ({share:.0%} > {ratio:.0%}); "
            "refusing to prune them (allowMassPrune: true if intended)"
        )
    return None


@dataclass(frozen=True)
class Verdict:
    """What a fleet run would do with its orphans now (the same for every orphan: the
    guard's numbers are the fleet's)."""

    prune: bool
    """This run would prune them."""
    guard: str | None
    """Why the fleet-wide mass-prune guard refuses, whatever ``pruneRemovedApps`` says."""
    why: str
    """One line for people: why they are pruned or left in place."""
    refused: bool = False
    """``pruneRemovedApps: true`` in correct mode, and the guard refuses: the run exits 2."""


def verdict(
    fleet: FleetConfig, *, correct: bool, current: int, known: int, orphans: int
) -> Verdict:
    """The removal decision of :func:`gitops_nb.usecases.fleet.reconcile_fleet`:
    ``correct`` when every app runs in correct mode (detect mode writes nothing)."""
    refused = guard(fleet, current, known, orphans)
    if not fleet.prune_removed_apps:
        return Verdict(False, refused, "pruneRemovedApps: false: orphaned, objects left in place")
    if not correct:
        return Verdict(False, refused, "detect mode: nothing is pruned")
    if refused:
        return Verdict(
            False, refused, f"refused by the fleet-wide mass-prune guard: {refused}", True
        )
    return Verdict(True, None, "pruneRemovedApps: true and the mass-prune guard allows it")


def prune_removed(
    kube: Kube,
    discovery: Discovery,
    fleet: FleetConfig,
    orphans: Sequence[Orphan],
    *,
    shard: int | None,
    log: logging.Logger,
    stop: threading.Event,
    revision: Revision | None = None,
) -> tuple[list[Orphan], int]:
    """Prune this shard's orphans; (the apps fully removed, exit code). ``revision``: the
    commit the fleet resolved, which no longer makes them (recorded)."""
    done: list[Orphan] = []
    code = int(ExitCode.OK)
    holder = f"{socket.gethostname()}-{os.getpid()}-fleet-prune"
    for o in orphans:
        if shard is not None and shard_of(o.name, fleet.shards) != shard:
            continue
        aset = ApplySet(o.name, o.namespace)
        try:
            lease = acquire(kube, o.namespace, aset.name, holder, 60)
        except LeaseHeldError as e:
            event(log, "app-prune-skipped", logging.WARNING, app=o.name, error=str(e))
            code = max(code, int(ExitCode.LOCKED))
            continue
        started, t0 = dt.datetime.now(dt.UTC), time.monotonic()
        results: list[ObjectResult] = []
        error: str | None = None
        try:
            failed = _prune_one(kube, discovery, fleet, o, log, stop, results)
            if failed:
                code = int(ExitCode.ERROR)
                error = f"{failed} object(s) of the removed app could not be pruned"
            else:
                kube.delete(aset.path, what=str(aset.ref))
                done.append(o)
                event(log, "app-pruned", app=o.name, namespace=o.namespace)
        except GitOpsError as e:
            event(log, "app-prune-failed", logging.ERROR, app=o.name, error=str(e))
            code = int(e.exit_code)
            error = str(e)
        finally:
            _record(kube, fleet, o, results, error, started, t0, log, revision)
            try:
                lease.release()
            except GitOpsError as e:
                event(log, "lease-release-failed", logging.WARNING, app=o.name, error=str(e))
    return done, code


def _config(fleet: FleetConfig, o: Orphan) -> AppConfig:
    """The fleet's defaults (the app's own keys are gone with it): the same ServiceAccount
    to impersonate, the same policy and record store as the fleet's other apps."""
    return replace(AppConfig(), **{**fleet.defaults, "app": o.name, "namespace": o.namespace})


def _record(
    kube: Kube,
    fleet: FleetConfig,
    o: Orphan,
    results: Sequence[ObjectResult],
    error: str | None,
    started: dt.datetime,
    t0: float,
    log: logging.Logger,
    revision: Revision | None,
) -> None:
    """The removed app's last record; a failure to write it is logged, never raised."""
    objects = tuple(results)
    run = SyncRun(
        run_id=uuid.uuid4().hex,
        app=o.name,
        started=record_time(started),
        finished=record_time(dt.datetime.now(dt.UTC)),
        duration_s=round(time.monotonic() - t0, 3),
        trigger=TRIGGER,
        mode=Mode.CORRECT,
        revision=revision,
        outcome=Outcome.FAILED if error else Outcome.SUCCEEDED,
        counts=count(objects),
        objects=objects,
        error=error,
    )
    cfg = _config(fleet, o)
    try:
        store = open_store(
            history_dir=cfg.history_dir,
            kube=kube,
            namespace=o.namespace,
            store=cfg.records_store,
            dsn_file=cfg.records_dsn_file or None,
        )
        try:
            where = store.write(run)
        finally:
            store.close()
        event(log, "recorded", app=o.name, run_id=run.run_id, where=where)
    except Exception as e:  # the prune happened: say so in the log whatever the store did
        event(log, "record-failed", logging.ERROR, app=o.name, error=f"{type(e).__name__}: {e}")


def _prune_one(
    kube: Kube,
    discovery: Discovery,
    fleet: FleetConfig,
    o: Orphan,
    log: logging.Logger,
    stop: threading.Event,
    results: list[ObjectResult],
) -> int:
    """Delete every member of the orphan's ApplySet (each noted in ``results``); the number
    that failed."""
    opts = replace(SyncOptions.from_config(_config(fleet, o), ""), prune=True)
    engine = Engine(kube, stop=stop, discovery=discovery)
    try:
        _, report = engine.plan([], opts)
        failed = _delete(engine.app_kube(opts), candidates(report), opts, o, log, stop, results)
    finally:
        engine.close()
    return failed


def _delete(
    kube: Kube,
    items: Sequence[Evaluated],
    opts: SyncOptions,
    o: Orphan,
    log: logging.Logger,
    stop: threading.Event,
    results: list[ObjectResult],
) -> int:
    failed = 0

    def record(ref: ObjectRef, action: Action, err: str | None) -> None:
        nonlocal failed
        failed += action is Action.FAILED
        results.append(ObjectResult(ref, action, DiffStatus.EXTRANEOUS, error=err, cause=Cause.GIT))
        event(
            log,
            "object",
            logging.WARNING if err else logging.INFO,
            app=o.name,
            object=str(ref),
            action=str(action),
            error=err,
        )

    prune(kube, items, opts, record, stop)
    return failed
