"""Kubernetes Events on the ApplySet parent, so ``kubectl get events`` tells the story."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from gitops_nb.errors import GitOpsError
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import EVENTS
from gitops_nb.model import format_time

COMPONENT = "gitops-nb"


def emit(
    kube: Kube,
    about: dict[str, Any],
    reason: str,
    message: str,
    *,
    warning: bool = False,
    instance: str = "",
) -> bool:
    """Create a core/v1 Event about ``about`` (a live object). Never raises: best effort."""
    meta = about.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    now = format_time(dt.datetime.now(dt.UTC))
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta.get('name', 'gitops-nb')}.{uuid.uuid4().hex[:12]}",
            "namespace": namespace,
        },
        "involvedObject": {
            "apiVersion": about.get("apiVersion", "v1"),
            "kind": about.get("kind", ""),
            "name": meta.get("name", ""),
            "namespace": namespace,
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "reason": reason,
        "message": message[:1024],
        "type": "Warning" if warning else "Normal",
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance or COMPONENT,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    try:
        kube.create(EVENTS.collection_path(namespace), event, what=f"Event/{namespace}")
    except GitOpsError:
        return False
    return True
