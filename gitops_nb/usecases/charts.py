"""What a Helm chart needs from the target cluster: its version and served API versions."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from gitops_nb.kube.client import Kube, ReadOnlyKube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.source import SourceSpec
from gitops_nb.source.helm import Capabilities, ChartContext


def capabilities(kube: Kube) -> Capabilities:
    """``/version`` and discovery: a few reads, made only when a chart is rendered."""
    version = kube.get("/version", what="server version")
    return Capabilities(str(version.get("gitVersion", "")), tuple(Discovery(kube).api_versions()))


def chart_context(
    spec: SourceSpec,
    app: str,
    namespace: str,
    *,
    kube: Kube | None = None,
    kubeconfig: str | Path | None = None,
) -> ChartContext:
    """Release name (the app's unless ``helm.releaseName``), namespace, values, and the
    cluster's capabilities, read through ``kube`` or a read-only client of ``kubeconfig``
    only if the app turns out to be a chart (plain YAML never waits for the cluster)."""

    def read() -> Capabilities:
        if kube is not None:
            return capabilities(kube)
        with closing(ReadOnlyKube.from_kubeconfig(kubeconfig)) as ro:
            return capabilities(ro)

    return ChartContext(spec.helm, spec.helm.release_name or app, namespace, read)
