"""Apply: ordered server-side apply of an evaluated report, then the guarded prune.

Stages as in fluxcd/pkg ``ssa``: Namespaces, CRDs and cluster RBAC first, wait for CRDs to
be established and rediscover, then everything else; prune last, in reverse order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from gitops_nb.engine import correct, foreign, ordering, ownership
from gitops_nb.engine import prune as pruning
from gitops_nb.engine.desired import Desired, resolve_pending
from gitops_nb.engine.evaluate import Evaluated, LiveReader
from gitops_nb.engine.options import SyncOptions
from gitops_nb.engine.parent import ensure_parent
from gitops_nb.engine.progress import EngineProgress
from gitops_nb.engine.report import DiffReport, ObjectCallback
from gitops_nb.errors import ConflictError, GitOpsError, InterruptedRun
from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.kube.resources import CRDS
from gitops_nb.masking import scrub_error, scrub_text, secret_values
from gitops_nb.model import Action, ChangeSet, DiffStatus, ObjectRef

CRD_ESTABLISH_TIMEOUT_S = 60.0


class Applier:
    """Acts on one evaluated report; records every object as it finishes."""

    def __init__(
        self,
        kube: Kube,
        discovery: Discovery,
        opts: SyncOptions,
        *,
        on_object: ObjectCallback | None,
        stop: threading.Event,
        app_kube: Kube | None = None,
        progress: EngineProgress | None = None,
    ) -> None:
        self.kube = kube
        """Our own identity: the ApplySet parent."""
        self.app_kube = app_kube or kube
        """Writes the app's objects (as the app's ServiceAccount, if any)."""
        self.discovery = discovery
        self.opts = opts
        self.on_object = on_object
        self.progress = progress
        self.stop = stop
        self.changes = ChangeSet()
        self.reader = LiveReader(
            self.app_kube,
            discovery,
            workers=opts.workers,
            field_manager=opts.field_manager,
            ignore=opts.ignore,
            books=kube,
        )
        self._lock = threading.Lock()

    def record(self, ref: ObjectRef, action: Action, error: str | None = None) -> None:
        with self._lock:  # workers record as they finish, so logs and progress stream
            self.changes.add(ref, action, error)
            if self.on_object is not None:
                self.on_object(ref, action, error)
            if self.progress is not None:
                self.progress.step()

    def run(self, report: DiffReport, desired: Sequence[Desired]) -> ChangeSet:
        """Validate the prune, apply in stages, prune; per-object failures don't stop others."""
        opts = self.opts
        pruning.check_guards(report, desired, opts)
        to_prune = pruning.candidates(report)
        applied = [e for e in report.items if e.desired is not None]
        foundation = [e for e in applied if ordering.stage(e.ref) == ordering.STAGE_FOUNDATION]
        rest = [e for e in applied if ordering.stage(e.ref) != ordering.STAGE_FOUNDATION]
        left_alone = pruning.left_alone(report)
        if self.progress is not None:  # every object below is recorded exactly once
            name = "applying (dry run)" if opts.dry_run else "applying"
            self.progress.phase(name, len(applied) + len(to_prune) + len(left_alone))

        listed = ownership.decode_inventory(report.parent)
        self._apply_batch(foundation)
        crds = [e for e in foundation if e.ref.kind == "CustomResourceDefinition"]
        if any(e.status is not DiffStatus.IN_SYNC for e in crds) and not opts.dry_run:
            self._wait_crds_established([e.ref.name for e in crds])
            self.discovery.refresh()
        rest = self._resolve_pending(rest)
        ensure_parent(self.kube, opts, desired, report, final=False)
        self._apply_batch(rest)
        if opts.prune:
            pruning.prune(self.app_kube, to_prune, opts, self.record, self.stop)
        else:
            for e in to_prune:
                self.record(e.ref, Action.SKIPPED, "not in Git; prune disabled")
        for e in left_alone:
            self.record(e.ref, Action.SKIPPED, e.blocked)
        if not self.changes.failed:
            pruned = {c.ref.key for c in self.changes.entries if c.action is Action.PRUNED}
            ensure_parent(self.kube, opts, desired, report, final=True, pruned=pruned)
        elif never := self._never_created(report) - listed:
            # The inventory names what this app applied at least once (a Missing member is
            # then one someone deleted): forget the objects whose creation just failed.
            ensure_parent(self.kube, opts, desired, report, final=False, pruned=never)
        return self.changes

    def _never_created(self, report: DiffReport) -> set[ownership.Key]:
        """Objects that were not live and failed: none of them was created."""
        absent = {e.ref for e in report.items if e.live is None and e.desired is not None}
        return {c.ref.key for c in self.changes.failed if c.ref in absent}

    def _resolve_pending(self, rest: list[Evaluated]) -> list[Evaluated]:
        """Evaluate objects whose kinds only now exist (their CRDs were just applied)."""
        pending = [e.desired for e in rest if e.resource is None and e.desired is not None]
        if not pending:
            return rest
        resolved = {d.ref: d for d in resolve_pending(pending, self.discovery)}
        return [
            self.reader.evaluate_one(resolved[e.ref])
            if e.ref in resolved and resolved[e.ref].resource is not None
            else e
            for e in rest
        ]

    def _apply_batch(self, items: list[Evaluated]) -> None:
        for batch in ordering.batches(items, lambda e: e.ref):

            def one(e: Evaluated) -> bool:
                if self.stop.is_set():  # finish what is in flight, start nothing new
                    return False
                self.record(e.ref, *self._apply_one(e))
                return True

            done = self.reader.map(one, batch)
            if not all(done):
                left = done.count(False)
                raise InterruptedRun(
                    f"stopped by signal; {left} object(s) of this stage not applied"
                )

    def _apply_one(self, e: Evaluated) -> tuple[Action, str | None]:
        opts = self.opts
        if e.blocked:  # another app's object: nothing is written to it
            return Action.FAILED, e.blocked
        if e.status is DiffStatus.IN_SYNC:
            return Action.UNCHANGED, None
        if e.status is DiffStatus.ERROR and e.desired is None:
            return Action.FAILED, e.diff.error
        d = e.desired
        assert d is not None
        if d.resource is None:
            return Action.FAILED, f"{d.ref}: kind not served after its CRD was applied"
        note = None
        if e.additions and not opts.force_conflicts:
            paths = ", ".join(a.change.path for a in e.additions)
            note = (
                f"{d.ref}: {len(e.additions)} field(s) other managers added are left in place "
                f"({paths}); rerun with --force-conflicts to remove them"
            )
            if len(e.diff.changes) == len(e.additions):
                return Action.SKIPPED, note
        if opts.dry_run:
            if e.status is DiffStatus.ERROR:
                return Action.FAILED, e.diff.error
            return (Action.CREATED if e.live is None else Action.CONFIGURED), note
        try:
            if e.additions and opts.force_conflicts and e.live is not None:
                # Only an owner can remove a field: hand the additions to us first.
                self.app_kube.merge_patch(
                    d.path,
                    correct.ownership_patch(e.live, e.additions, opts.field_manager),
                    what=str(d.ref),
                )
            self.app_kube.apply(
                d.path,
                foreign.without(d.obj, e.ignored) if e.ignored else d.obj,
                field_manager=opts.field_manager,
                force=opts.force_conflicts,
                what=str(d.ref),
            )
        except ConflictError as err:
            if e.additions and opts.force_conflicts:
                return Action.FAILED, f"{err} — changed while correcting; the next run retries"
            return Action.FAILED, (
                f"{err} — another field manager owns these fields; rerun with --force-conflicts "
                "to take them over"
            )
        except GitOpsError as err:
            if err.transient:
                scrub_error(err, secret_values(d.obj))  # in place: its text reaches logs
                raise
            return Action.FAILED, f"{d.manifest.location}: " + scrub_text(
                str(err), secret_values(d.obj)
            )
        return (Action.CREATED if e.live is None else Action.CONFIGURED), note

    def _wait_crds_established(self, names: list[str]) -> None:
        deadline = time.monotonic() + CRD_ESTABLISH_TIMEOUT_S
        pending = set(names)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                crd = self.app_kube.get_or_none(  # the app applied it: the app may read it
                    CRDS.object_path("", name), what=f"CustomResourceDefinition/{name}"
                )
                conds = ((crd or {}).get("status") or {}).get("conditions") or []
                if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
                    pending.discard(name)
            if pending:
                time.sleep(0.2)
