"""Development tools: a local control plane (etcd, kube-apiserver, controller manager, and
kube-scheduler with kwok nodes on request), its PKI, and the audit demo. Not used by the
reconciler at run time."""

from __future__ import annotations

from gitops_nb.binaries import (
    BINARIES,
    BUILD_COMMAND,
    ETCD_VERSION,
    KUBERNETES_VERSION,
    binary_dir,
    find_binary,
)
from gitops_nb.localcluster.controlplane import LocalCluster
from gitops_nb.localcluster.loopback import (
    LOOPBACK,
    SERVICE_CIDR,
    check_loopback,
    free_port,
    is_loopback,
    non_loopback,
)
from gitops_nb.localcluster.processes import stop_detached

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
