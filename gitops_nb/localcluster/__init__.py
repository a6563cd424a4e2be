"""Development tools: a local control plane (etcd, kube-apiserver, controller manager, and
kube-scheduler with kwok nodes on request), its PKI, and the audit demo. Not used by the
reconciler at run time.

``LocalCluster`` is imported on first use (PEP 562): the egress proxy runs as
``python -m gitops_nb.localcluster.egress`` and must not load the Kubernetes client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitops_nb.binaries import (
    BINARIES,
    BUILD_COMMAND,
    ETCD_VERSION,
    KUBERNETES_VERSION,
    binary_dir,
    find_binary,
)
from gitops_nb.localcluster.loopback import (
    LOOPBACK,
    SERVICE_CIDR,
    check_loopback,
    free_port,
    is_loopback,
    non_loopback,
)
from gitops_nb.localcluster.processes import stop_detached

if TYPE_CHECKING:
    from gitops_nb.localcluster.controlplane import LocalCluster


def __getattr__(name: str) -> Any:
    if name == "LocalCluster":
        from gitops_nb.localcluster.controlplane import LocalCluster

        return LocalCluster
    raise AttributeError(f"module 'gitops_nb.localcluster' has no attribute {name!r}")


__all__ = [
    "BINARIES",
    "BUILD_COMMAND",
    "ETCD_VERSION",
    "KUBERNETES_VERSION",
    "LOOPBACK",
    "SERVICE_CIDR",
    "LocalCluster",
    "binary_dir",
    "check_loopback",
    "find_binary",
    "free_port",
    "is_loopback",
    "non_loopback",
    "stop_detached",
]
