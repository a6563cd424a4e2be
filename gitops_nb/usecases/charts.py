"""What a Helm chart needs from the target cluster: its version and served API versions."""

from __future__ import annotations

from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.source import SourceSpec
from gitops_nb.source.helm import Capabilities, ChartContext


def capabilities(kube: Kube) -> Capabilities:
    """``/version`` and discovery: two or three reads, only when a chart is rendered."""
    version = kube.get("/version", what="server version")
    return Capabilities(str(version.get("gitVersion", "")), tuple(Discovery(kube).api_versions()))


def chart_context(kube: Kube, spec: SourceSpec, app: str, namespace: str) -> ChartContext:
    """Release name (the app's unless ``helm.releaseName``), namespace, values, capabilities."""
    return ChartContext(
        spec.helm, spec.helm.release_name or app, namespace, lambda: capabilities(kube)
    )
