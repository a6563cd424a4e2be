"""``diff_app`` and ``apply_app``: fetch, render, then diff or apply one app.

Rendering happens before any API call, so bad input fails before the cluster is touched (a
Helm chart alone reads the server's version and discovery, to render for that cluster).
``diff_app`` reads through :class:`ReadOnlyKube`: it cannot write, whoever calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from gitops_nb.engine import DiffReport, Engine, EngineProgress, ObjectCallback, SyncOptions
from gitops_nb.engine.health import assess
from gitops_nb.engine.inventory import RecordedRefs, refs_in_records
from gitops_nb.engine.wait import HealthReader, HealthReport
from gitops_nb.errors import ExitCode
from gitops_nb.kube.client import Kube, ReadOnlyKube
from gitops_nb.model import Action, ChangeSet, DiffStatus, Health, ObjectRef, Revision
from gitops_nb.records.configmaps import ConfigMapStore
from gitops_nb.source import SourceSpec, fetch_and_render
from gitops_nb.usecases.charts import chart_context


@dataclass(frozen=True)
class DiffResult:
    """What Git renders at ``revision`` against what the cluster holds now."""

    app: str
    namespace: str
    revision: Revision
    report: DiffReport
    health: dict[ObjectRef, Health] = field(default_factory=dict)
    """Each Git object's health (kstatus) as read during the diff; extraneous ones too."""

    @property
    def exit_code(self) -> int:
        """0 in sync, 1 drift, 2 an object could not be evaluated (as ``kubectl diff``)."""
        if self.report.errors:
            return ExitCode.ERROR
        return ExitCode.DRIFT if self.report.drifted else ExitCode.OK


@dataclass(frozen=True)
class ApplyResult:
    """What one apply did, per object."""

    app: str
    revision: Revision
    changes: ChangeSet
    warnings: tuple[str, ...] = ()
    """Not about one object: e.g. a deleted ApplySet parent that was rebuilt."""
    health: HealthReport | None = None
    """The applied objects' health (``wait_s`` given): None for a dry run or no wait."""

    @property
    def exit_code(self) -> int:
        """2 if an object failed, 7 if a wait ended with an object not Current, else 0."""
        if self.changes.failed:
            return ExitCode.ERROR
        if self.health is not None and self.health.not_healthy:
            return ExitCode.NOT_HEALTHY
        return ExitCode.OK


def applied_refs(changes: ChangeSet) -> list[ObjectRef]:
    """The objects an apply left in the cluster (health is judged on these)."""
    gone = (Action.PRUNED, Action.FAILED, Action.SKIPPED)
    return [e.ref for e in changes.entries if e.action not in gone]


def diff_app(
    spec: SourceSpec,
    opts: SyncOptions,
    *,
    kubeconfig: str | Path | None = None,
    cache_dir: str | Path | None = None,
    on_rendered: Callable[[int], None] | None = None,
    progress: EngineProgress | None = None,
) -> DiffResult:
    """Fetch and render ``spec``, then diff it against the cluster by server dry-run
    (``on_rendered(n)`` is told how many objects were rendered before the first request;
    ``progress`` of each object judged)."""
    chart = chart_context(spec, opts.app, opts.namespace, kubeconfig=kubeconfig)
    rendered = fetch_and_render(spec, Path(cache_dir) if cache_dir else None, chart)
    if on_rendered is not None:
        on_rendered(len(rendered.manifests))
    with (
        closing(ReadOnlyKube.from_kubeconfig(kubeconfig)) as kube,
        closing(Engine(kube, recorded=_recorded(kube, opts), progress=progress)) as engine,
    ):
        report = engine.diff(rendered.manifests, opts)
        reader = HealthReader(engine.app_kube(opts), engine.discovery, opts.workers)
        health = diff_health(report, reader)
    return DiffResult(opts.app, opts.namespace, rendered.revision, report, health)


def diff_health(report: DiffReport, reader: HealthReader) -> dict[ObjectRef, Health]:
    """Health from the live objects the diff read; objects judged by fingerprint alone
    (no live copy in hand, but seen to exist) are read once more, a LIST per kind and
    namespace, and not at all when they have no status (:meth:`HealthReader.read_all`)."""
    out: dict[ObjectRef, Health] = {}
    unread = []
    for item in report.items:
        if item.status is DiffStatus.ERROR:
            continue
        if item.status is DiffStatus.MISSING:
            out[item.ref] = assess(None)
        elif item.live is not None:
            out[item.ref] = assess(item.live)
        else:
            unread.append(item.ref)
    out.update(reader.read_all(unread, present=set(unread)))
    return out


def apply_app(
    spec: SourceSpec,
    opts: SyncOptions,
    *,
    kubeconfig: str | Path | None = None,
    cache_dir: str | Path | None = None,
    on_object: ObjectCallback | None = None,
    on_rendered: Callable[[int], None] | None = None,
    wait_s: float | None = None,
    progress: EngineProgress | None = None,
) -> ApplyResult:
    """Fetch and render ``spec``, then apply it (and prune, if ``opts.prune``).

    ``on_rendered(n)`` is told how many objects were rendered before the first request;
    ``on_object`` is called as each object finishes. With ``wait_s``, wait up to that many
    seconds for every applied object to be Current (kstatus); the result's exit code is 7
    if one is not. ``progress`` hears of the dry-runs, the applies and prunes, and the wait.
    """
    chart = chart_context(spec, opts.app, opts.namespace, kubeconfig=kubeconfig)
    rendered = fetch_and_render(spec, Path(cache_dir) if cache_dir else None, chart)
    if on_rendered is not None:
        on_rendered(len(rendered.manifests))
    with (
        closing(Kube.from_kubeconfig(kubeconfig)) as kube,
        closing(
            Engine(kube, on_object=on_object, recorded=_recorded(kube, opts), progress=progress)
        ) as engine,
    ):
        changes = engine.apply(rendered.manifests, opts)
        health = None
        if wait_s is not None and not opts.dry_run and not changes.failed:
            reader = HealthReader(engine.app_kube(opts), engine.discovery)
            applied = applied_refs(changes)
            health = reader.wait_current(applied, wait_s, present=set(applied), progress=progress)
    return ApplyResult(opts.app, rendered.revision, changes, tuple(engine.warnings), health)


def _recorded(kube: Kube, opts: SyncOptions) -> RecordedRefs:
    """The objects the reconciler's run records (ConfigMaps next to the parent) list."""
    return lambda: refs_in_records(ConfigMapStore(kube, opts.namespace).read(opts.app))
