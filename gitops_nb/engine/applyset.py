"""The ApplySet (KEP-3659) that records which objects gitops-nb owns for an app.

The parent is a ConfigMap ``gitops-nb.<app>`` in the app's namespace, labelled with
``applyset.kubernetes.io/id``; members carry ``applyset.kubernetes.io/part-of: <id>``. This
is the convention ``kubectl apply --applyset`` understands, so ``kubectl`` can list (and,
with matching tooling, prune) the same set.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitops_nb.kube.resources import CONFIGMAPS
from gitops_nb.model import APP_LABEL, OWN_PREFIX, ObjectRef

PART_OF = "applyset.kubernetes.io/part-of"
ID_LABEL = "applyset.kubernetes.io/id"
TOOLING = "applyset.kubernetes.io/tooling"
CONTAINS_GROUP_KINDS = "applyset.kubernetes.io/contains-group-kinds"
ADDITIONAL_NAMESPACES = "applyset.kubernetes.io/additional-namespaces"
TOOLING_VALUE = "gitops-nb/v1"


def applyset_id(name: str, namespace: str, kind: str = "ConfigMap", group: str = "") -> str:
    """``applyset-<base64url(sha256(name.namespace.kind.group))>-v1``, as kubectl computes it."""
    digest = hashlib.sha256(".".join((name, namespace, kind, group)).encode()).digest()
    return f"applyset-{base64.urlsafe_b64encode(digest).decode().rstrip('=')}-v1"


def group_kind(api_version: str, kind: str) -> str:
    """``Kind.group`` (``Kind`` for the core group), the ApplySet annotation format."""
    group = api_version.rpartition("/")[0]
    return f"{kind}.{group}" if group else kind


def parse_group_kind(gk: str) -> tuple[str, str]:
    """``Deployment.apps`` → (``apps``, ``Deployment``)."""
    kind, _, group = gk.partition(".")
    return group, kind


@dataclass(frozen=True)
class ApplySet:
    """The parent of one app's ApplySet."""

    app: str
    namespace: str

    @property
    def name(self) -> str:
        return f"{OWN_PREFIX}{self.app}"

    @property
    def path(self) -> str:
        """API path of the parent ConfigMap."""
        return CONFIGMAPS.object_path(self.namespace, self.name)

    @property
    def id(self) -> str:
        return applyset_id(self.name, self.namespace)

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef("v1", "ConfigMap", self.namespace, self.name)

    @property
    def selector(self) -> str:
        return f"{PART_OF}={self.id}"

    def label(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``obj`` with the membership label set."""
        meta = dict(obj.get("metadata") or {})
        meta["labels"] = {**(meta.get("labels") or {}), PART_OF: self.id}
        return {**obj, "metadata": meta}

    def parent(
        self,
        group_kinds: Iterable[str],
        namespaces: Iterable[str],
        binary_data: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The parent ConfigMap to server-side apply, listing member kinds and namespaces."""
        extra = sorted({n for n in namespaces if n and n != self.namespace})
        obj: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {ID_LABEL: self.id, APP_LABEL: self.app},
                "annotations": {
                    TOOLING: TOOLING_VALUE,
                    CONTAINS_GROUP_KINDS: ",".join(sorted(set(group_kinds))),
                    ADDITIONAL_NAMESPACES: ",".join(extra),
                },
            },
        }
        if binary_data:
            obj["binaryData"] = binary_data
        return obj


def recorded_group_kinds(parent: dict[str, Any] | None) -> set[str]:
    ann = ((parent or {}).get("metadata") or {}).get("annotations") or {}
    return {gk for gk in str(ann.get(CONTAINS_GROUP_KINDS, "")).split(",") if gk}


def recorded_namespaces(parent: dict[str, Any] | None) -> set[str]:
    ann = ((parent or {}).get("metadata") or {}).get("annotations") or {}
    return {n for n in str(ann.get(ADDITIONAL_NAMESPACES, "")).split(",") if n}
