"""Helpers shared by the integration tests: the real kubectl, API paths of manifests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from gitops_nb.kube.discovery import Discovery
from gitops_nb.localcluster import LocalCluster, find_binary

REPO = Path(__file__).resolve().parents[2]
"""The project checkout (``jobs/`` holds the in-cluster install)."""
SA = "gitops-nb-reconciler"
"""The reconciler's ServiceAccount in ``jobs/``."""


def kubectl(cluster: LocalCluster, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the real kubectl against ``cluster``; its stdout."""
    out = subprocess.run(
        [str(find_binary("kubectl")), "--kubeconfig", str(cluster.kubeconfig), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **env} if env else None,
    )
    return out.stdout


def path_of(disco: Discovery, obj: dict[str, Any]) -> str:
    """API path of a manifest's object."""
    r = disco.resource_for(obj["apiVersion"], obj["kind"])
    ns = obj["metadata"].get("namespace", "") if r.namespaced else ""
    return r.object_path(ns, obj["metadata"]["name"])


def cli_flags(
    cluster: LocalCluster,
    repo: str | Path,
    namespace: str,
    cache: Path,
    *,
    path: str = "app",
    app: str = "shop",
) -> list[str]:
    """The source and cluster flags of ``diff``/``apply``/``reconcile`` for one app."""
    return [
        *("--repo", str(repo), "--path", path, "--app", app, "--namespace", namespace),
        *("--kubeconfig", str(cluster.kubeconfig), "--cache-dir", str(cache)),
    ]
