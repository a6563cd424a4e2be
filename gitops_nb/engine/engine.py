"""The engine facade: diff and apply one app against one cluster.

    engine = Engine(kube)
    report = engine.diff(manifests, SyncOptions(app="web", namespace="prod"))
    changes = engine.apply(manifests, SyncOptions(app="web", namespace="prod", prune=True))

One module per verb does the work: :mod:`~gitops_nb.engine.plan` (evaluate, with the one
fast path), :mod:`~gitops_nb.engine.apply` (ordered server-side apply) and
:mod:`~gitops_nb.engine.prune` (guards and delete).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from gitops_nb.engine import plan as planning
from gitops_nb.engine.apply import Applier
from gitops_nb.engine.cause import Prior
from gitops_nb.engine.desired import Desired
from gitops_nb.engine.evaluate import LiveReader
from gitops_nb.engine.inventory import RecordedRefs
from gitops_nb.engine.options import SyncOptions
from gitops_nb.engine.progress import EngineProgress
from gitops_nb.engine.report import DiffReport, ObjectCallback
from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.kube.sharedlists import SharedLists
from gitops_nb.model import ChangeSet, Manifest


class Engine:
    """Diff and apply one app against one cluster."""

    def __init__(
        self,
        kube: Kube,
        discovery: Discovery | None = None,
        *,
        on_object: ObjectCallback | None = None,
        stop: threading.Event | None = None,
        recorded: RecordedRefs | None = None,
        lists: SharedLists | None = None,
        progress: EngineProgress | None = None,
    ) -> None:
        self.kube = kube
        self.lists = lists
        """LISTs shared with the other apps of a fleet run (None: this app's own)."""
        self.discovery = discovery or Discovery(kube)
        self.on_object = on_object
        self.progress = progress
        """Told of each phase and object as it finishes (see :mod:`.progress`)."""
        self.recorded = recorded
        """Objects our run records list; rebuilds a deleted ApplySet parent's inventory."""
        self.stop = stop or threading.Event()
        self.stats: dict[str, int] = {}
        """How the last evaluation reached its verdicts (see :attr:`DiffReport.stats`)."""
        self.warnings: list[str] = []
        """The last evaluation's warnings (see :attr:`DiffReport.warnings`)."""
        self._as: dict[str, Kube] = {}

    def app_kube(self, opts: SyncOptions) -> Kube:
        """The client for the app's objects: impersonating ``opts.service_account``."""
        user = opts.app_user
        if not user:
            return self.kube
        if user not in self._as:
            self._as[user] = self.kube.impersonating(user)
        return self._as[user]

    def close(self) -> None:
        """Close the impersonating clients (the caller owns ``kube``)."""
        for k in self._as.values():
            k.close()
        self._as.clear()

    def _reader(self, opts: SyncOptions) -> LiveReader:
        return LiveReader(
            self.app_kube(opts),
            self.discovery,
            workers=opts.workers,
            field_manager=opts.field_manager,
            ignore=opts.ignore,
            books=self.kube,
            lists=self.lists,
            progress=self.progress,
        )

    def _seen(self, report: DiffReport) -> DiffReport:
        self.stats = dict(report.stats)
        self.warnings = list(report.warnings)
        return report

    def diff(self, manifests: Sequence[Manifest], opts: SyncOptions) -> DiffReport:
        """Read-only: server dry-run of every object and the ApplySet's extraneous members."""
        return self.plan(manifests, opts)[1]

    def plan(
        self, manifests: Sequence[Manifest], opts: SyncOptions, prior: Prior | None = None
    ) -> tuple[list[Desired], DiffReport]:
        """Resolve every object (raising before any request on unknown kinds) and evaluate.

        ``prior`` (the last record) sharpens the causes: a deleted object, both at once."""
        desired, report = planning.plan(
            self._reader(opts), manifests, opts, prior, recorded=self.recorded
        )
        return desired, self._seen(report)

    def quick_check(self, opts: SyncOptions) -> DiffReport | None:
        """In sync without rendering (see :func:`gitops_nb.engine.plan.quick_check`), or None."""
        report = planning.quick_check(self._reader(opts), opts)
        return None if report is None else self._seen(report)

    def evaluate(self, desired: Sequence[Desired], opts: SyncOptions) -> DiffReport:
        return self._seen(
            planning.evaluate(self._reader(opts), desired, opts, recorded=self.recorded)
        )

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
        applier = Applier(
            self.kube,
            self.discovery,
            opts,
            on_object=self.on_object,
            stop=self.stop,
            app_kube=self.app_kube(opts),
            progress=self.progress,
        )
        return applier.run(report, desired)
