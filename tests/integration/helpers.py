"""Helpers shared by the integration tests: the real kubectl, API paths of manifests."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops_nb.errors import GitOpsError
from gitops_nb.kube.client import Kube
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


def wait_for(pred: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``pred`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def admission_error(kube: Kube, namespace: str, labels: dict[str, str] | None = None) -> str:
    """Create ConfigMap ``x`` in ``namespace``: the webhook error that refused it, or "" (and
    the ConfigMap deleted again) while no webhook configuration is active yet."""
    meta: dict[str, Any] = {"name": "x", "labels": labels or {}}
    try:
        kube.create(
            f"/api/v1/namespaces/{namespace}/configmaps",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta},
        )
    except GitOpsError as e:
        return str(e) if "webhook" in str(e) else ""
    kube.delete(f"/api/v1/namespaces/{namespace}/configmaps/x")
    return ""


def validating_webhook(
    name: str, namespace: str, client_config: dict[str, Any], *, label: str = ""
) -> dict[str, Any]:
    """A ValidatingWebhookConfiguration with one webhook (``failurePolicy: Fail``) on
    ConfigMap creation in ``namespace`` only (other tests must not see it), and with
    ``label``, only on ConfigMaps carrying ``gitops-nb.test/probe: <label>``."""
    webhook: dict[str, Any] = {
        "name": name,
        "clientConfig": client_config,
        "rules": [
            {
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "operations": ["CREATE"],
                "resources": ["configmaps"],
            }
        ],
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "failurePolicy": "Fail",
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": 5,
    }
    if label:
        webhook["objectSelector"] = {"matchLabels": {"gitops-nb.test/probe": label}}
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [webhook],
    }


def api_service(group: str, namespace: str, service: str) -> dict[str, Any]:
    """An APIService ``v1alpha1.<group>`` served by Service ``namespace/service`` (port 443)."""
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": f"v1alpha1.{group}"},
        "spec": {
            "group": group,
            "version": "v1alpha1",
            "service": {"namespace": namespace, "name": service, "port": 443},
            "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 1000,
            "versionPriority": 15,
        },
    }
