"""The end of every reconcile run: write its record, tell its Events, hand the Lease back.

Each step is bounded and none may keep ``run-finished`` from the log: the record write waits
out an API server (or database) outage for a while rather than lose the record, the Lease
release retries briefly (it expires on its own anyway), and after SIGTERM all of it shares
the pod's grace period, counted from the signal.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from gitops_nb.config import AppConfig, max_age_seconds
from gitops_nb.engine.applyset import ApplySet
from gitops_nb.errors import GitOpsError
from gitops_nb.kube import events
from gitops_nb.kube.client import Kube
from gitops_nb.kube.lease import Lease
from gitops_nb.model import Action, Outcome, RunHealth, SyncRun
from gitops_nb.records.store import RecordStore
from gitops_nb.usecases.runevents import Event, difference_events


@dataclass(frozen=True)
class Budget:
    """How long the wrap-up may wait: normally, and at most after the stop signal."""

    record_s: float
    release_s: float
    record_after_stop_s: float
    release_after_stop_s: float


class WrapUp:
    """Record, Events and Lease release of one run (see the module doc)."""

    def __init__(
        self,
        cfg: AppConfig,
        kube: Kube,
        store: Callable[[], RecordStore],
        ev: Callable[..., None],
        *,
        clock: Callable[[], dt.datetime],
        holder: str,
        stopped_at: Callable[[], float],
        budget: Budget,
    ) -> None:
        self.cfg, self.kube, self.store, self.ev = cfg, kube, store, ev
        self.clock, self.holder, self.stopped_at, self.budget = clock, holder, stopped_at, budget
        self.outage = False
        """The record write gave up on an outage: later requests should be tried once."""

    def __call__(self, run: SyncRun, lease: Lease) -> None:
        steps: list[tuple[str, Callable[[SyncRun], None]]] = [
            ("record", self.persist),
            ("events", self.events),
        ]
        for name, step in steps:
            try:
                step(run)
            except Exception as e:  # an outage or a bug: say so in JSON, carry on
                self.ev(f"{name}-failed", logging.ERROR, error=f"{type(e).__name__}: {e}")
        self.release(lease)

    def _deadline(self, started: float, normal_s: float, after_stop_s: float) -> float:
        return min(started + normal_s, self.stopped_at() + after_stop_s)

    def persist(self, run: SyncRun) -> None:
        """Write the record; wait out an outage (bounded) rather than lose it; then trim."""
        cfg, store, b = self.cfg, self.store(), self.budget
        started = time.monotonic()
        while True:
            try:
                where = store.write(run)
                break
            except GitOpsError as e:
                left = self._deadline(started, b.record_s, b.record_after_stop_s)
                left -= time.monotonic()
                if not e.transient or left <= 0:
                    self.outage = e.transient
                    self.ev("record-failed", logging.ERROR, error=str(e))
                    return
                time.sleep(min(2.0, left))
        self.ev("recorded", where=where)
        try:
            if cfg.history_max_age:  # historyRetention: 400d
                age = dt.timedelta(seconds=max_age_seconds(cfg.history_max_age))
                store.trim_before(cfg.app, self.clock() - age)
            else:
                store.trim(cfg.app, cfg.history_retention)
        except GitOpsError as e:
            self.ev("retention-failed", logging.WARNING, error=str(e))

    def events(self, run: SyncRun) -> None:
        """The run's Events on the app's ApplySet parent (none in the steady state)."""
        cfg = self.cfg
        wanted = run_events(run, self._prior_health(run) if run.health is not None else None)
        if not wanted:
            return  # a quiet run reads nothing and writes nothing here
        aset = ApplySet(cfg.app, cfg.namespace)
        parent = (
            self.kube.get_or_none(aset.path, what=str(aset.ref))
            if run.outcome is not Outcome.FAILED or run.objects
            else None
        )
        about = parent or {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": aset.name, "namespace": cfg.namespace},
        }
        for reason, message, warning in wanted:
            events.emit(self.kube, about, reason, message, warning=warning, instance=self.holder)

    def _prior_health(self, run: SyncRun) -> RunHealth | None:
        """The health of the newest earlier run that assessed it (None if none did)."""
        try:
            runs = self.store().read(self.cfg.app)
        except (GitOpsError, ValueError):
            return None
        earlier = [r for r in runs if r.run_id != run.run_id and r.health is not None]
        return earlier[-1].health if earlier else None

    def release(self, lease: Lease) -> None:
        started = time.monotonic()
        b = self.budget
        while True:
            try:
                lease.release()
                return
            except Exception as e:
                left = self._deadline(started, b.release_s, b.release_after_stop_s)
                left -= time.monotonic()
                transient = isinstance(e, GitOpsError) and e.transient
                if not transient or left <= 0:
                    # It expires after its duration anyway; the next run takes it over.
                    self.ev("lease-release-failed", logging.WARNING, error=str(e))
                    return
                time.sleep(min(1.0, left))


def run_events(run: SyncRun, prior_health: RunHealth | None) -> list[Event]:
    """The Events a run tells: (reason, message, warning). ``prior_health``: the health of
    the newest earlier run that assessed it (HealthDegraded/HealthRestored are changes)."""
    out = difference_events(run)  # drift and deployments, by cause
    pruned = [o for o in run.objects if o.action is Action.PRUNED]
    if pruned:
        out.append(
            (
                "Pruned",
                f"{len(pruned)} object(s) removed from Git were deleted: "
                + ", ".join(str(o.ref) for o in pruned[:5]),
                False,
            )
        )
    if run.outcome is Outcome.REFUSED:
        out.append(("VerificationFailed", (run.error or "commit verification failed")[:1000], True))
    if run.health is RunHealth.DEGRADED and prior_health is not RunHealth.DEGRADED:
        bad = [o for o in run.objects if o.health and not o.health.status.is_healthy]
        out.append(
            (
                "HealthDegraded",
                f"{len(bad)} object(s) not healthy: "
                + ", ".join(
                    f"{o.ref} {o.health.status} {o.health.reason}" for o in bad[:5] if o.health
                ),
                True,
            )
        )
    elif run.health is RunHealth.HEALTHY and prior_health is RunHealth.DEGRADED:
        out.append(("HealthRestored", "every object is Current", False))
    if run.outcome in (Outcome.FAILED, Outcome.INTERRUPTED):
        out.append(
            (
                "SyncFailed" if run.outcome is Outcome.FAILED else "SyncInterrupted",
                (run.error or "object failures")[:1000],
                True,
            )
        )
    return out
