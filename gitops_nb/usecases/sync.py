"""``diff_app`` and ``apply_app``: fetch, render, then diff or apply one app.

Rendering happens before any API call, so bad input fails before the cluster is touched (a
Helm chart alone reads the server's version and discovery, to render for that cluster).
``diff_app`` reads through :class:`ReadOnlyKube`: it cannot write, whoever calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from gitops_nb.engine import DiffReport, Engine, ObjectCallback, SyncOptions
from gitops_nb.engine.inventory import RecordedRefs, refs_in_records
from gitops_nb.errors import ExitCode
from gitops_nb.kube.client import Kube, ReadOnlyKube
from gitops_nb.model import ChangeSet, Revision
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

    @property
    def exit_code(self) -> int:
        return ExitCode.ERROR if self.changes.failed else ExitCode.OK


def diff_app(
    spec: SourceSpec,
    opts: SyncOptions,
    *,
    kubeconfig: str | Path | None = None,
    cache_dir: str | Path | None = None,
    on_rendered: Callable[[int], None] | None = None,
) -> DiffResult:
    """Fetch and render ``spec``, then diff it against the cluster by server dry-run
    (``on_rendered(n)`` is told how many objects were rendered before the first request)."""
    chart = chart_context(spec, opts.app, opts.namespace, kubeconfig=kubeconfig)
    rendered = fetch_and_render(spec, Path(cache_dir) if cache_dir else None, chart)
    if on_rendered is not None:
        on_rendered(len(rendered.manifests))
    with (
        closing(ReadOnlyKube.from_kubeconfig(kubeconfig)) as kube,
        closing(Engine(kube, recorded=_recorded(kube, opts))) as engine,
    ):
        report = engine.diff(rendered.manifests, opts)
    return DiffResult(opts.app, opts.namespace, rendered.revision, report)


def apply_app(
    spec: SourceSpec,
    opts: SyncOptions,
    *,
    kubeconfig: str | Path | None = None,
    cache_dir: str | Path | None = None,
    on_object: ObjectCallback | None = None,
    on_rendered: Callable[[int], None] | None = None,
) -> ApplyResult:
    """Fetch and render ``spec``, then apply it (and prune, if ``opts.prune``).

    ``on_rendered(n)`` is told how many objects were rendered before the first request;
    ``on_object`` is called as each object finishes.
    """
    chart = chart_context(spec, opts.app, opts.namespace, kubeconfig=kubeconfig)
    rendered = fetch_and_render(spec, Path(cache_dir) if cache_dir else None, chart)
    if on_rendered is not None:
        on_rendered(len(rendered.manifests))
    with (
        closing(Kube.from_kubeconfig(kubeconfig)) as kube,
        closing(Engine(kube, on_object=on_object, recorded=_recorded(kube, opts))) as engine,
    ):
        changes = engine.apply(rendered.manifests, opts)
    return ApplyResult(opts.app, rendered.revision, changes, tuple(engine.warnings))


def _recorded(kube: Kube, opts: SyncOptions) -> RecordedRefs:
    """The objects the reconciler's run records (ConfigMaps next to the parent) list."""
    return lambda: refs_in_records(ConfigMapStore(kube, opts.namespace).read(opts.app))
