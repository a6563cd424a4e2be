"""The headless reconciler (``gitops-nb reconcile``): one run, one record, one exit code.

    lease → fetch → render → diff → (correct: apply + prune) → record → events → release

Exit codes: 0 succeeded (in sync or corrected), 1 drift found in detect mode, 2 permanent
failure (bad config, invalid manifests, forbidden, failed objects), 3 transient failure
(retry next schedule), 4 another run holds the Lease (nothing touched), 5 interrupted,
6 refused by commit verification (nothing rendered or written; recorded as ``refused``).
7 applied but not healthy in time (``wait: true``).

Every run that gets as far as a plan records the health of Git's objects (kstatus, see
:mod:`gitops_nb.engine.health`): one look, or with ``wait`` a wait until all are Current.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from gitops_nb.config import AppConfig
from gitops_nb.engine import DiffReport, Engine, SyncOptions
from gitops_nb.engine.applyset import ApplySet
from gitops_nb.engine.cause import Prior
from gitops_nb.engine.inventory import refs_in_records
from gitops_nb.engine.wait import HealthReport
from gitops_nb.errors import (
    ExitCode,
    GitOpsError,
    InterruptedRun,
    LeaseHeldError,
    VerificationError,
)
from gitops_nb.kube.client import ClientSettings, Kube, load_configuration
from gitops_nb.kube.lease import acquire
from gitops_nb.model import (
    Action,
    ChangeSet,
    Mode,
    ObjectRef,
    ObjectResult,
    Outcome,
    Revision,
    SyncRun,
)
from gitops_nb.records.configmaps import ConfigMapStore
from gitops_nb.records.store import RecordStore, open_store
from gitops_nb.source import SourceSpec, default_cache_dir, fetch, redact_url, render
from gitops_nb.source.credentials import Credentials
from gitops_nb.source.verify import UnverifiedRevision
from gitops_nb.usecases.charts import chart_context
from gitops_nb.usecases.earlier import earlier_renderer
from gitops_nb.usecases.jsonlog import event
from gitops_nb.usecases.runhealth import run_health
from gitops_nb.usecases.runrecord import merge_objects, new_record, with_health
from gitops_nb.usecases.runstate import Clock, Reached, RunResult, Shared, now
from gitops_nb.usecases.wrapup import Budget, WrapUp

RECORD_TIMEOUT_S = 180.0  # keep trying to write the record while the API server is away
RELEASE_TIMEOUT_S = 30.0  # keep trying to hand the Lease back
# After SIGTERM the pod has 30 s (terminationGracePeriodSeconds) before SIGKILL: the record
# write, events and Lease release share this budget, counted from the signal.
STOP_RECORD_S = 10.0
STOP_RELEASE_S = 18.0
STOP_POLL_S = 0.2  # how soon a run notices the stop signal
_MAX_BACKOFF_S = 8.0  # the client's longest retry sleep


class Reconciler:
    """One reconcile run of one app."""

    def __init__(
        self,
        cfg: AppConfig,
        log: logging.Logger,
        *,
        kube: Kube | None = None,
        stop: threading.Event | None = None,
        trigger: str = "manual",
        credentials: Credentials | None = None,
        clock: Clock = now,
        shared: Shared | None = None,
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.shared = shared or Shared()
        self.log = log
        self.stop = stop or threading.Event()
        self.trigger = trigger
        self.credentials = credentials or Credentials.from_env(os.environ)
        self.kube = kube or Kube(
            load_configuration(cfg.kubeconfig or None), ClientSettings(pool_size=cfg.workers + 4)
        )
        self.run_id = uuid.uuid4().hex
        self.holder = f"{socket.gethostname()}-{os.getpid()}-{self.run_id[:8]}"
        self._stopped_at = math.inf
        """When the stop signal came (monotonic); bounds the wrap-up after SIGTERM."""
        self._records: RecordStore | None = None
        self._wrap_up = WrapUp(
            cfg,
            self.kube,
            self._store,
            self._ev,
            clock=clock,
            holder=self.holder,
            stopped_at=lambda: self._stopped_at,
            budget=Budget(RECORD_TIMEOUT_S, RELEASE_TIMEOUT_S, STOP_RECORD_S, STOP_RELEASE_S),
        )

    def _watch_stop(self, done: threading.Event) -> None:
        """Note when the stop signal comes, until the run is ``done`` (a fleet's apps share
        one stop event: a watcher per app must not outlive its run)."""

        def watch() -> None:
            while not done.is_set():
                if self.stop.wait(STOP_POLL_S):
                    self._stopped_at = time.monotonic()
                    return

        threading.Thread(target=watch, name="stop-watch", daemon=True).start()

    def _before_retry(self, _attempt: int, err: Exception) -> None:
        """Kube hook: no retry that could outlast the stop budget, none after an outage."""
        outage = self._wrap_up.outage  # the record write gave up: later requests tried once
        if outage or time.monotonic() + _MAX_BACKOFF_S > self._stopped_at + STOP_RELEASE_S:
            raise err

    def _ev(self, name: str, level: int = logging.INFO, **fields: object) -> None:
        event(self.log, name, level, app=self.cfg.app, run_id=self.run_id, **fields)

    def run(self) -> RunResult:
        done = threading.Event()
        self._watch_stop(done)
        try:
            return self._run()
        finally:
            done.set()

    def _run(self) -> RunResult:
        cfg = self.cfg
        started = self.clock()
        t0 = time.monotonic()
        self.kube.before_retry = self._before_retry
        try:  # no record store, no run: a database outage must not leave runs unrecorded
            self._store()
        except GitOpsError as e:
            self._ev("records-unavailable", logging.ERROR, error=str(e))
            return RunResult(None, e.exit_code)
        try:
            lease = acquire(
                self.kube,
                cfg.namespace,
                ApplySet(cfg.app, cfg.namespace).name,
                self.holder,
                cfg.lease_duration_s,
                snapshot=self.shared.lists,
            )
        except LeaseHeldError as e:
            self._ev("lease-held", logging.WARNING, error=str(e))
            return RunResult(None, ExitCode.LOCKED)
        except GitOpsError as e:
            self._ev("lease-failed", logging.ERROR, error=str(e))
            return RunResult(self._record_unstarted(started, t0, e), e.exit_code)
        lease.start_renewing()
        self._ev(
            "run-started",
            mode=str(cfg.mode),
            repo=redact_url(cfg.repo),
            ref=cfg.ref,
            path=cfg.path,
            holder=self.holder,
        )
        reached = Reached()
        error: str | None = None
        try:
            outcome, code = self._sync(reached)
        except InterruptedRun as e:
            outcome, code, error = Outcome.INTERRUPTED, ExitCode.INTERRUPTED, str(e)
        except VerificationError as e:  # nothing rendered or written; the record says why
            outcome, code, error = Outcome.REFUSED, e.exit_code, str(e)
            reached.revision = e.revision if isinstance(e, UnverifiedRevision) else None
            self._ev("verification-failed", logging.ERROR, error=error)
        except GitOpsError as e:
            outcome, code, error = Outcome.FAILED, e.exit_code, str(e)
        except Exception as e:  # a bug must still leave a record and free the lease
            outcome, code = Outcome.FAILED, ExitCode.ERROR
            error = f"internal error: {type(e).__name__}: {e}"
        revision = reached.revision
        objects = merge_objects(reached.report, reached.changes if reached.applied else None)
        health = reached.health
        if health is not None:
            objects = with_health(objects, health.objects)
            if cfg.wait and health.not_healthy and code == ExitCode.OK:
                code = ExitCode.NOT_HEALTHY
        run = self._record_of(
            started,
            t0,
            outcome,
            error,
            revision=revision,
            objects=objects,
            health=health,
        )
        self._wrap_up(run, lease)
        self._ev(
            "run-finished",
            logging.INFO if code in (0, 1) else logging.ERROR,
            outcome=str(outcome),
            exit_code=code,
            counts=run.counts,
            duration_s=run.duration_s,
            commit=revision.commit if revision else None,
            error=error,
            health=str(run.health) if run.health else None,
        )
        return RunResult(run, code)

    def _record_of(
        self,
        started: dt.datetime,
        t0: float,
        outcome: Outcome,
        error: str | None,
        *,
        revision: Revision | None = None,
        objects: tuple[ObjectResult, ...] = (),
        health: HealthReport | None = None,
    ) -> SyncRun:
        """This run's record, finished now."""
        return new_record(
            self.cfg,
            self.run_id,
            self.trigger,
            (started, self.clock(), time.monotonic() - t0),
            outcome,
            error,
            revision=revision,
            objects=objects,
            health=health,
        )

    def _record_unstarted(
        self, started: dt.datetime, t0: float, error: GitOpsError
    ) -> SyncRun | None:
        """A run that could not take its Lease (the API server down, Forbidden) still gets
        a ``failed`` record when the store does not live in the cluster (a directory,
        PostgreSQL): nothing was fetched, rendered or written. With ConfigMap records an
        outage leaves only the log (the write would fail the same way)."""
        store = self._store()
        if isinstance(store, ConfigMapStore) and error.transient:
            return None
        run = self._record_of(started, t0, Outcome.FAILED, f"could not start: {error}")
        try:
            self._wrap_up.persist(run)
        except Exception as e:  # as in WrapUp: say so in JSON, never raise
            self._ev("record-failed", logging.ERROR, error=f"{type(e).__name__}: {e}")
        return run

    def _on_object(self, ref: ObjectRef, action: Action, err: str | None) -> None:
        if action is not Action.UNCHANGED:
            self._ev(
                "object",
                logging.WARNING if err else logging.INFO,
                object=str(ref),
                action=str(action),
                error=err,
            )

    def _sync(self, reached: Reached) -> tuple[Outcome, int]:
        """fetch → (fast no-op) → render → plan → apply; fills ``reached`` as it goes."""
        cfg = self.cfg
        spec = SourceSpec(
            cfg.repo, cfg.ref, cfg.path, self.credentials, verify=cfg.verify, helm=cfg.helm
        )
        # A fleet shares one fetch per commit, never a trust decision: an app with its own
        # verify keys fetches (from the cache) and verifies the commit itself.
        shared = None if cfg.verify.enabled else self.shared.checkout
        checkout = shared or fetch(
            spec, Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir()
        )
        revision = reached.revision = checkout.revision

        def on_object(ref: ObjectRef, action: Action, err: str | None) -> None:
            reached.changes.add(ref, action, err)  # what was done, if the run stops midway
            self._on_object(ref, action, err)

        store = self._store()
        engine = Engine(
            self.kube,
            on_object=on_object,
            stop=self.stop,
            recorded=lambda: refs_in_records(store.read(cfg.app)),
            discovery=self.shared.discovery,
            lists=self.shared.lists,
        )
        opts = SyncOptions.from_config(cfg, revision.commit)
        quick = engine.quick_check(opts)
        if quick is not None:  # same commit, nobody wrote: in sync without rendering
            reached.report = quick
            self._ev("in-sync", commit=revision.commit, objects=len(quick.items), rendered=False)
            reached.health = self._health(engine, opts, quick, ChangeSet())
            return Outcome.SUCCEEDED, ExitCode.OK
        chart = chart_context(spec, cfg.app, cfg.namespace, kube=self.kube)
        manifests = render(checkout.root, spec.path, chart=chart)
        self._ev("rendered", commit=revision.commit, objects=len(manifests))
        cache = Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir()
        earlier = earlier_renderer(spec, cache, chart, self._earlier_failed)
        prior = Prior.of(self._last_record(), commit=revision.commit, earlier=earlier)
        desired, report = engine.plan(manifests, opts, prior)
        reached.report = report
        for warning in report.warnings:
            self._ev("inventory-missing", logging.WARNING, warning=warning)
        for item in report.drifted:
            self._ev(
                "drift",
                object=str(item.ref),
                status=str(item.status),
                cause=str(item.diff.cause) if item.diff.cause else None,
                changes=[c.to_dict() for c in item.diff.changes],
            )
        if self.stop.is_set():
            raise InterruptedRun("stopped after diff, before any write")
        if cfg.mode is Mode.DETECT:
            if report.errors:
                return Outcome.FAILED, ExitCode.ERROR
            reached.health = self._health(engine, opts, report, ChangeSet())
            return Outcome.SUCCEEDED, (ExitCode.DRIFT if report.drifted else ExitCode.OK)
        reached.applied = True
        result = engine.apply_report(report, desired, opts)
        if result.failed:
            return Outcome.FAILED, ExitCode.ERROR
        reached.health = self._health(engine, opts, report, result)
        if self.stop.is_set() and reached.health.not_healthy:
            raise InterruptedRun("stopped while waiting for health, after every write")
        return Outcome.SUCCEEDED, ExitCode.OK

    def _earlier_failed(self, commit: str, error: str) -> None:
        self._ev("earlier-render-failed", logging.WARNING, commit=commit, error=error)

    def _health(
        self, engine: Engine, opts: SyncOptions, report: DiffReport, changes: ChangeSet
    ) -> HealthReport:
        health = run_health(
            self.cfg,
            engine,
            opts,
            report,
            changes,
            clock=self.clock,
            lists=self.shared.lists,
            stop=self.stop,
        )
        for ref, h in health.unhealthy:
            self._ev("unhealthy", object=str(ref), health=str(h.status), reason=h.reason)
        return health

    def _store(self) -> RecordStore:
        """The record store, opened once (PostgreSQL connects and migrates on opening)."""
        if self._records is None:
            cfg = self.cfg
            self._records = open_store(
                history_dir=cfg.history_dir,
                kube=self.kube,
                namespace=cfg.namespace,
                store=cfg.records_store,
                dsn_file=cfg.records_dsn_file or None,
            )
        return self._records

    def _last_record(self) -> SyncRun | None:
        """The newest record that saw the objects: it tells a deleted object from a new one
        and a hand value Git has since moved (see :mod:`gitops_nb.engine.cause`)."""
        try:
            runs = self._store().read(self.cfg.app)
        except (GitOpsError, ValueError) as e:
            self._ev("prior-record-unreadable", logging.WARNING, error=str(e))
            return None
        seen = [r for r in runs if r.objects]
        return max(seen, key=lambda r: r.order) if seen else None


def reconcile_app(
    cfg: AppConfig,
    log: logging.Logger,
    *,
    trigger: str = "manual",
    stop: threading.Event | None = None,
    kube: Kube | None = None,
    on_start: Callable[[Reconciler], None] | None = None,
    credentials: Credentials | None = None,
    clock: Clock = now,
    shared: Shared | None = None,
) -> RunResult:
    """Run one reconcile; never raises for run-time failures (they are in the record).

    ``clock`` gives the record's ``started`` and ``finished`` (default: the real time);
    ``duration_s`` is always measured. ``shared`` is what a fleet run shares across apps.
    """
    r = Reconciler(
        cfg,
        log,
        kube=kube,
        stop=stop,
        trigger=trigger,
        credentials=credentials,
        clock=clock,
        shared=shared,
    )
    if on_start is not None:
        on_start(r)
    try:
        return r.run()
    finally:
        if r._records is not None:
            r._records.close()
