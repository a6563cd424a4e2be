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
uid precondition, then its ApplySet parent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
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
from gitops_nb.model import Action, ObjectRef
from gitops_nb.usecases.jsonlog import event


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


def prune_removed(
    kube: Kube,
    discovery: Discovery,
    fleet: FleetConfig,
    orphans: Sequence[Orphan],
    *,
    shard: int | None,
    log: logging.Logger,
    stop: threading.Event,
) -> tuple[list[Orphan], int]:
    """Prune this shard's orphans; (the apps fully removed, exit code)."""
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
        try:
            failed = _prune_one(kube, discovery, fleet, o, log, stop)
            if failed:
                code = int(ExitCode.ERROR)
            else:
                kube.delete(aset.path, what=str(aset.ref))
                done.append(o)
                event(log, "app-pruned", app=o.name, namespace=o.namespace)
        except GitOpsError as e:
            event(log, "app-prune-failed", logging.ERROR, app=o.name, error=str(e))
            code = int(e.exit_code)
        finally:
            try:
                lease.release()
            except GitOpsError as e:
                event(log, "lease-release-failed", logging.WARNING, app=o.name, error=str(e))
    return done, code


def _prune_one(
    kube: Kube,
    discovery: Discovery,
    fleet: FleetConfig,
    o: Orphan,
    log: logging.Logger,
    stop: threading.Event,
) -> int:
    """Delete every member of the orphan's ApplySet; the number that failed."""
    # The fleet's defaults (the app's own keys are gone with it): the same ServiceAccount
    # to impersonate and the same policy as the fleet's other apps.
    cfg = replace(AppConfig(), **{**fleet.defaults, "app": o.name, "namespace": o.namespace})
    opts = replace(SyncOptions.from_config(cfg, ""), prune=True)
    engine = Engine(kube, stop=stop, discovery=discovery)
    try:
        _, report = engine.plan([], opts)
        failed = _delete(engine.app_kube(opts), candidates(report), opts, o, log, stop)
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
) -> int:
    failed = 0

    def record(ref: ObjectRef, action: Action, err: str | None) -> None:
        nonlocal failed
        failed += action is Action.FAILED
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
