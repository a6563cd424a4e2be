"""Apply order by kind: Namespaces and CRDs first, cluster RBAC next, then the rest.

Prune uses the reverse order. Pure: ranks depend only on group/kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from gitops_nb.model import ObjectRef

T = TypeVar("T")

STAGE_FOUNDATION = 0  # Namespaces, CRDs: discovery is refreshed after these
STAGE_CLUSTER_RBAC = 1
STAGE_REST = 2

_RANKS: dict[str, int] = {
    "Namespace": 0,
    "CustomResourceDefinition": 1,
    "PriorityClass": 2,
    "StorageClass": 2,
    "ClusterRole": 3,
    "ClusterRoleBinding": 4,
    "ResourceQuota": 5,
    "LimitRange": 5,
    "ServiceAccount": 6,
    "Role": 7,
    "RoleBinding": 8,
    "Secret": 9,
    "ConfigMap": 9,
    "PersistentVolume": 10,
    "PersistentVolumeClaim": 10,
    "Service": 11,
    "Pod": 12,
    "ReplicaSet": 12,
    "Deployment": 12,
    "StatefulSet": 12,
    "DaemonSet": 12,
    "Job": 12,
    "CronJob": 12,
    "HorizontalPodAutoscaler": 13,
    "PodDisruptionBudget": 13,
    "Ingress": 14,
    "NetworkPolicy": 14,
}
_UNKNOWN_RANK = 20  # custom resources and anything else go last


def rank(ref: ObjectRef) -> int:
    return _RANKS.get(ref.kind, _UNKNOWN_RANK)


def stage(ref: ObjectRef) -> int:
    r = rank(ref)
    if r <= 1:
        return STAGE_FOUNDATION
    if ref.kind in ("ClusterRole", "ClusterRoleBinding"):
        return STAGE_CLUSTER_RBAC
    return STAGE_REST


def sort_for_apply(items: Iterable[T], ref_of: Callable[[T], ObjectRef]) -> list[T]:
    """Stable sort by (rank, namespace, kind, name)."""
    return sorted(
        items, key=lambda i: (rank(ref_of(i)), ref_of(i).namespace, ref_of(i).kind, ref_of(i).name)
    )


def sort_for_prune(items: Iterable[T], ref_of: Callable[[T], ObjectRef]) -> list[T]:
    return list(reversed(sort_for_apply(items, ref_of)))


def batches(items: Iterable[T], ref_of: Callable[[T], ObjectRef]) -> list[list[T]]:
    """Consecutive groups of equal rank, in apply order: each group may run in parallel."""
    out: list[list[T]] = []
    last = None
    for item in sort_for_apply(items, ref_of):
        r = rank(ref_of(item))
        if r != last:
            out.append([])
            last = r
        out[-1].append(item)
    return out
