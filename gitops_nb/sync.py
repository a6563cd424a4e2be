"""Plan, ordered server-side apply, and guarded prune → ChangeSet.

engine = Engine(kube)
report = engine.diff(manifests, SyncOptions(app="web", namespace="prod"))
changes = engine.apply(manifests, SyncOptions(app="web", namespace="prod", prune=True))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_nb import fingerprint, ordering
from gitops_nb.errors import (
    ConflictError,
    GitOpsError,
    InterruptedRun,
    NotFoundError,
    PruneGuardError,
)
from gitops_nb.inventory import ApplySet, group_kind, recorded_group_kinds, recorded_namespaces
from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.live import (
    FIELD_MANAGER,
    Desired,
    Evaluated,
    LiveReader,
    extraneous,
    prepare,
    resolve_pending,
)
from gitops_nb.masking import scrub_text, secret_values
from gitops_nb.model import Action, ChangeSet, DiffStatus, Manifest, ObjectRef, ResourceDiff

CRD_ESTABLISH_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SyncOptions:
    """What one diff/apply does. Defaults are the safe ones for a human at a terminal."""

    app: str
    """Application name: names the ApplySet parent ``gitops-nb.<app>``."""
    namespace: str = "default"
    """Default namespace for namespaced objects and home of the ApplySet parent."""
    prune: bool = False
    """Delete ApplySet members that Git no longer has."""
    dry_run: bool = False
    """Validate with the server and report, write nothing."""
    force_conflicts: bool = False
    """Take over fields another manager owns (the reconciler's self-heal)."""
    allow_mass_prune: bool = False
    """Allow pruning more than ``max_prune_ratio`` of the inventory."""
    max_prune_ratio: float = 0.5
    """Largest share of the inventory one prune may delete without ``allow_mass_prune``."""
    workers: int = 8
    """Parallel requests for dry-runs and applies."""
    field_manager: str = FIELD_MANAGER
    fast: bool = True
    """Skip the dry-run of objects whose fingerprint shows nobody touched them."""
    record_fingerprints: bool = False
    """Store fingerprints in the ApplySet parent (the reconciler does; one-off applies don't)."""
    source_key: str = ""
    """Identity of what the manifests were rendered from (see ``fingerprint.source_key``)."""

    @property
    def applyset(self) -> ApplySet:
        return ApplySet(self.app, self.namespace)


@dataclass
class DiffReport:
    """Every desired and extraneous object, evaluated against the cluster."""

    app: str
    items: list[Evaluated] = field(default_factory=list)
    inventory_size: int = 0
    """Live members of the ApplySet when the report was made."""
    fingerprints: dict[str, fingerprint.Fingerprint] = field(default_factory=dict)
    """Objects verified in sync, with their fingerprints (see :mod:`gitops_nb.fingerprint`)."""
    parent: dict[str, Any] | None = None

    @property
    def diffs(self) -> list[Any]:
        return [e.diff for e in self.items]

    @property
    def drifted(self) -> list[Evaluated]:
        return [e for e in self.items if e.status.is_drift]

    @property
    def errors(self) -> list[Evaluated]:
        return [e for e in self.items if e.status is DiffStatus.ERROR]

    def by_ref(self) -> dict[ObjectRef, Evaluated]:
        return {e.ref: e for e in self.items}


ObjectCallback = Callable[[ObjectRef, Action, str | None], None]


class Engine:
    """Diff and apply one app against one cluster."""

    def __init__(
        self,
        kube: Kube,
        discovery: Discovery | None = None,
        *,
        on_object: ObjectCallback | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.kube = kube
        self.discovery = discovery or Discovery(kube)
        self.on_object = on_object
        self.stop = stop or threading.Event()
        self._lock = threading.Lock()

    def _reader(self, opts: SyncOptions) -> LiveReader:
        return LiveReader(
            self.kube, self.discovery, workers=opts.workers, field_manager=opts.field_manager
        )

    # -- diff ------------------------------------------------------------------------------

    def diff(self, manifests: Sequence[Manifest], opts: SyncOptions) -> DiffReport:
        """Read-only: server dry-run of every object and the ApplySet's extraneous members."""
        return self.plan(manifests, opts)[1]

    def plan(
        self, manifests: Sequence[Manifest], opts: SyncOptions
    ) -> tuple[list[Desired], DiffReport]:
        """Resolve every object (raising before any request on unknown kinds) and evaluate."""
        desired = prepare(manifests, self.discovery, opts.applyset, opts.namespace)
        return desired, self.evaluate(desired, opts)

    def quick_check(self, opts: SyncOptions) -> DiffReport | None:
        """The no-op shortcut: everything in sync, known without rendering. None otherwise.

        When the fingerprints in the parent were recorded for this very source (commit,
        path, app, namespace, version) and cover the whole desired set, the desired set is
        known; if the live members are exactly that set, each with the recorded ownership,
        nothing changed on either side. Any difference: None, and the caller renders.
        """
        if not opts.fast or not opts.source_key:
            return None
        reader = self._reader(opts)
        aset = opts.applyset
        parent = reader.parent(aset)
        stored = fingerprint.decode(parent)
        if stored.source != opts.source_key or not stored.objects:
            return None
        refs = {k: fingerprint.ref_of(k, stored.api_versions[k]) for k in stored.objects}
        gks = {group_kind(r.api_version, r.kind) for r in refs.values()}
        members = reader.members(aset, parent, gks, {r.namespace for r in refs.values()})
        by_key = {fingerprint.key(ObjectRef.of(m)): (m, res) for m, res in members.values()}
        if set(by_key) != set(stored.objects):
            return None
        items = []
        for k, (meta, resource) in by_key.items():
            if fingerprint.ownership_hash(meta["metadata"]) != stored.objects[k][1]:
                return None
            ref = refs[k]
            items.append(
                Evaluated(ref, ResourceDiff(ref, DiffStatus.IN_SYNC), resource=resource, fast=True)
            )
        self.stats = {"fast": len(items), "precise": 0, "members": len(members)}
        return DiffReport(
            opts.app,
            ordering.sort_for_apply(items, lambda e: e.ref),
            inventory_size=len(members),
            fingerprints=dict(stored.objects),
            parent=parent,
        )

    def evaluate(self, desired: Sequence[Desired], opts: SyncOptions) -> DiffReport:
        """Every desired object against the cluster, plus extraneous ApplySet members.

        Fast path: one metadata-only LIST per kind reads the members; an object whose
        manifest and live ownership match the fingerprint recorded when it was last found
        in sync is in sync without a request of its own. Everything else is dry-run.
        """
        reader = self._reader(opts)
        aset = opts.applyset
        parent = reader.parent(aset)
        stored = fingerprint.decode(parent).objects if opts.fast else {}
        gks = {group_kind(d.ref.api_version, d.ref.kind) for d in desired if d.resource}
        members = reader.members(aset, parent, gks, {d.ref.namespace for d in desired})
        fast: list[Evaluated] = []
        slow: list[Desired] = []
        fps: dict[str, fingerprint.Fingerprint] = {}
        for d in desired:
            member = members.get(d.ref.key)
            k = fingerprint.key(d.ref)
            if member is not None and k in stored:
                fp = (
                    fingerprint.desired_hash(d.obj),
                    fingerprint.ownership_hash(member[0]["metadata"]),
                )
                if stored[k] == fp:
                    fast.append(
                        Evaluated(
                            d.ref,
                            ResourceDiff(d.ref, DiffStatus.IN_SYNC),
                            d,
                            resource=d.resource,
                            fast=True,
                        )
                    )
                    fps[k] = fp
                    continue
            slow.append(d)
        namespaces = {d.ref.name for d in desired if d.ref.kind == "Namespace"}
        evaluated = reader.evaluate(slow, namespaces)
        for e in evaluated:
            if e.status is DiffStatus.IN_SYNC and e.live is not None and e.desired is not None:
                fps[fingerprint.key(e.ref)] = (
                    fingerprint.desired_hash(e.desired.obj),
                    fingerprint.ownership_hash(e.live["metadata"]),
                )
        items = ordering.sort_for_apply([*fast, *evaluated], lambda e: e.ref)
        wanted = {d.ref.key for d in desired}
        extra = [m for key, m in members.items() if key not in wanted]
        for meta, resource in extra:
            ref = ObjectRef.of(meta)
            live = reader.get_full(meta, resource)
            if live is not None:
                items.append(Evaluated(ref, extraneous(ref, live), None, live, None, resource))
        self.stats = {"fast": len(fast), "precise": len(slow), "members": len(members)}
        return DiffReport(
            opts.app, items, inventory_size=len(members), fingerprints=fps, parent=parent
        )

    # -- apply -----------------------------------------------------------------------------

    def apply(self, manifests: Sequence[Manifest], opts: SyncOptions) -> ChangeSet:
        """Apply Git to the cluster in order, then prune (if asked) in reverse order.

        Everything is validated (kinds resolved, prune guards checked, dry-runs done) before
        the first write. Per-object failures are recorded and do not stop the others.
        """
        desired, report = self.plan(manifests, opts)
        return self.apply_report(report, desired, opts)

    def apply_report(
        self, report: DiffReport, desired: Sequence[Desired], opts: SyncOptions
    ) -> ChangeSet:
        """Act on an evaluated report (so callers can record the diff they acted on)."""
        if opts.prune and not desired:
            raise PruneGuardError(
                f"app {opts.app}: the rendered set is empty; refusing to prune the whole "
                "inventory (check --path; an empty render is almost always a mistake)"
            )
        to_prune = [e for e in report.items if e.status is DiffStatus.EXTRANEOUS]
        inventory = max(report.inventory_size, len(to_prune))
        if opts.prune and to_prune and not opts.allow_mass_prune and inventory:
            share = len(to_prune) / inventory
            if share > opts.max_prune_ratio:
                raise PruneGuardError(
                    f"app {opts.app}: prune would delete {len(to_prune)} of {inventory} "
                    f"inventoried objects ({share:.0%} > {opts.max_prune_ratio:.0%}); rerun with "
                    "--allow-mass-prune if that is intended"
                )
        changes = ChangeSet()
        applied = [e for e in report.items if e.desired is not None]
        foundation = [e for e in applied if ordering.stage(e.ref) == ordering.STAGE_FOUNDATION]
        rest = [e for e in applied if ordering.stage(e.ref) != ordering.STAGE_FOUNDATION]

        self._apply_batch(foundation, opts, changes)
        crds = [e for e in foundation if e.ref.kind == "CustomResourceDefinition"]
        if any(e.status is not DiffStatus.IN_SYNC for e in crds) and not opts.dry_run:
            self._wait_crds_established([e.ref.name for e in crds])
            self.discovery.refresh()
        pending = [e for e in rest if e.resource is None and e.desired is not None]
        if pending:
            resolved = {
                d.ref: d
                for d in resolve_pending([e.desired for e in pending if e.desired], self.discovery)
            }
            reader = self._reader(opts)
            rest = [
                reader.evaluate_one(resolved[e.ref])
                if e.ref in resolved and resolved[e.ref].resource is not None
                else e
                for e in rest
            ]
        self._ensure_parent(opts, desired, report, final=False)
        self._apply_batch(rest, opts, changes)
        if opts.prune:
            self._prune(to_prune, opts, changes)
        else:
            for e in to_prune:
                self._record(changes, e.ref, Action.SKIPPED, "not in Git; prune disabled")
        if not changes.failed:
            self._ensure_parent(opts, desired, report, final=True)
        return changes

    def _record(
        self, changes: ChangeSet, ref: ObjectRef, action: Action, error: str | None = None
    ) -> None:
        with self._lock:  # workers record as they finish, so logs and progress stream
            changes.add(ref, action, error)
            if self.on_object is not None:
                self.on_object(ref, action, error)

    def _apply_batch(self, items: list[Evaluated], opts: SyncOptions, changes: ChangeSet) -> None:
        reader = self._reader(opts)
        for batch in ordering.batches(items, lambda e: e.ref):

            def one(e: Evaluated) -> bool:
                if self.stop.is_set():  # finish what is in flight, start nothing new
                    return False
                self._record(changes, e.ref, *self._apply_one(e, opts))
                return True

            done = reader.map(one, batch)
            if not all(done):
                left = done.count(False)
                raise InterruptedRun(
                    f"stopped by signal; {left} object(s) of this stage not applied"
                )

    def _apply_one(self, e: Evaluated, opts: SyncOptions) -> tuple[Action, str | None]:
        if e.status is DiffStatus.IN_SYNC:
            return Action.UNCHANGED, None
        if e.status is DiffStatus.ERROR and e.desired is None:
            return Action.FAILED, e.diff.error
        d = e.desired
        assert d is not None
        if d.resource is None:
            return Action.FAILED, f"{d.ref}: kind not served after its CRD was applied"
        if opts.dry_run:
            if e.status is DiffStatus.ERROR:
                return Action.FAILED, e.diff.error
            return (Action.CREATED if e.live is None else Action.CONFIGURED), None
        try:
            self.kube.apply(
                d.path,
                d.obj,
                field_manager=opts.field_manager,
                force=opts.force_conflicts,
                what=str(d.ref),
            )
        except ConflictError as err:
            return Action.FAILED, (
                f"{err} — another field manager owns these fields; rerun with --force-conflicts "
                "to take them over"
            )
        except GitOpsError as err:
            if err.transient:
                raise
            return Action.FAILED, scrub_text(str(err), secret_values(d.obj))
        return (Action.CREATED if e.live is None else Action.CONFIGURED), None

    def _prune(self, items: list[Evaluated], opts: SyncOptions, changes: ChangeSet) -> None:
        for e in ordering.sort_for_prune(items, lambda x: x.ref):
            if self.stop.is_set():
                raise InterruptedRun(f"stopped before pruning {e.ref}")
            assert e.resource is not None and e.live is not None
            path = e.resource.object_path(
                e.ref.namespace if e.resource.namespaced else "", e.ref.name
            )
            uid = (e.live.get("metadata") or {}).get("uid")
            try:
                self.kube.delete(
                    path,
                    dry_run=opts.dry_run,
                    # Never delete a different object that took the same name meanwhile.
                    preconditions={"uid": uid} if uid else None,
                    what=str(e.ref),
                )
            except NotFoundError:
                pass  # already gone: the outcome we wanted
            except GitOpsError as err:
                if err.transient:
                    raise
                self._record(changes, e.ref, Action.FAILED, str(err))
                continue
            self._record(changes, e.ref, Action.PRUNED)

    def _ensure_parent(
        self, opts: SyncOptions, desired: Sequence[Desired], report: DiffReport, *, final: bool
    ) -> None:
        """Keep the ApplySet parent listing (a superset of) every member kind and namespace.

        Before members are applied it gets the union of old and new kinds, so an interrupted
        run can still find everything it labelled; after a clean prune, exactly the new set.
        Nothing is written when the parent already says so.
        """
        if opts.dry_run:
            return
        aset = opts.applyset
        live = report.parent
        gks = {group_kind(d.ref.api_version, d.ref.kind) for d in desired}
        nss = {d.ref.namespace for d in desired if d.ref.namespace}
        if not final or not opts.prune:
            gks |= recorded_group_kinds(live)
            nss |= recorded_namespaces(live)
        # SSA drops fields we stop sending: carry the stored fingerprints over unless we
        # are recording new ones.
        blob = ((live or {}).get("binaryData") or {}).get(fingerprint.DATA_KEY)
        if final and opts.record_fingerprints:
            desired_keys = {fingerprint.key(d.ref) for d in desired}
            # Name the source only when every desired object is fingerprinted in sync:
            # only then may the next run trust the set without rendering it.
            complete = desired_keys == set(report.fingerprints)
            blob = fingerprint.encode(
                report.fingerprints,
                {fingerprint.key(d.ref): d.ref.api_version for d in desired},
                opts.source_key if complete else "",
            )
        want = aset.parent(gks, nss, binary_data={fingerprint.DATA_KEY: blob} if blob else None)
        if live is not None:
            meta = live.get("metadata") or {}
            have, labels = meta.get("annotations") or {}, meta.get("labels") or {}
            if (
                all(have.get(k) == v for k, v in want["metadata"]["annotations"].items())
                and all(labels.get(k) == v for k, v in want["metadata"]["labels"].items())
                and (live.get("binaryData") or {}).get(fingerprint.DATA_KEY) == blob
            ):
                return
        path = f"/api/v1/namespaces/{aset.namespace}/configmaps/{aset.name}"
        report.parent = self.kube.apply(
            path, want, field_manager=opts.field_manager, force=True, what=str(aset.ref)
        )

    def _wait_crds_established(self, names: list[str]) -> None:
        deadline = time.monotonic() + CRD_ESTABLISH_TIMEOUT_S
        pending = set(names)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                crd = self.kube.get_or_none(
                    f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}",
                    what=f"CustomResourceDefinition/{name}",
                )
                conds = ((crd or {}).get("status") or {}).get("conditions") or []
                if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
                    pending.discard(name)
            if pending:
                time.sleep(0.2)
