"""Which app owns an object: never take over another app's object, never prune a stranger.

Ownership is the ApplySet label (``applyset.kubernetes.io/part-of``), as Argo CD's tracking
label and Flux's ``kustomize.toolkit.fluxcd.io/name`` are: every app writes with the one
field manager ``gitops-nb`` (the anchors, too, use one manager per controller), so the
label, not server-side apply, tells apps apart.

- An object labelled as another ApplySet's member is refused as a conflict naming the
  owning app unless the app adopts it (``--adopt`` / ``adopt: true``).
- A prune deletes only members our inventory (the parent's list of what we applied, the
  fingerprints we recorded) or our run records name; an object that merely carries our
  label is reported and left alone (kubectl would delete it).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Mapping
from typing import Any

from gitops_nb.engine.applyset import ID_LABEL, PART_OF, ApplySet
from gitops_nb.errors import GitOpsError
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import CONFIGMAPS
from gitops_nb.model import APP_LABEL, ObjectRef

INVENTORY_KEY = "inventory.json.gz"
"""binaryData key of the parent: the keys of every object this app applied."""

Key = tuple[str, str, str, str]


def other_applyset(live: Mapping[str, Any] | None, applyset: ApplySet) -> str | None:
    """The id of the other ApplySet ``live`` is a member of, or None (ours or none)."""
    labels = ((live or {}).get("metadata") or {}).get("labels") or {}
    owner = labels.get(PART_OF)
    return str(owner) if owner and owner != applyset.id else None


def owner_name(kube: Kube, owner_id: str, namespaces: Iterable[str]) -> str:
    """``app <name> (ConfigMap ns/gitops-nb.<name>)`` for ApplySet ``owner_id``: its parent
    is looked up in ``namespaces`` then cluster-wide, as far as we may read; else the id."""
    selector = f"{ID_LABEL}={owner_id}"
    paths = [CONFIGMAPS.collection_path(ns) for ns in dict.fromkeys(namespaces) if ns]
    paths.append(CONFIGMAPS.collection_path(""))
    for path in paths:
        try:
            found = kube.list(path, label_selector=selector, what=f"ApplySet parent {owner_id}")
        except GitOpsError as e:
            if e.transient:
                raise
            continue  # not allowed to look there
        for parent in found:
            meta = parent.get("metadata") or {}
            app = (meta.get("labels") or {}).get(APP_LABEL) or meta.get("name", "?")
            where = f"{meta.get('namespace')}/{meta.get('name')}"
            return f"app {app} (ApplySet parent ConfigMap {where})"
    return f"ApplySet {owner_id} (its parent is not readable to us)"


def conflict_message(ref: ObjectRef, owner: str) -> str:
    return (
        f"{ref}: conflict: it belongs to {owner}; refusing to take it over (nothing was "
        "written to it). Remove it from this app, or adopt it with --adopt / adopt: true"
    )


def encode_inventory(keys: Iterable[Key]) -> str:
    raw = json.dumps(sorted("|".join(k) for k in set(keys)), separators=(",", ":"))
    return base64.b64encode(gzip.compress(raw.encode(), compresslevel=6, mtime=0)).decode()


def decode_inventory(parent: Mapping[str, Any] | None) -> set[Key]:
    """The keys the parent says we applied; empty when none are recorded (older parents)."""
    blob = ((parent or {}).get("binaryData") or {}).get(INVENTORY_KEY)
    if not blob:
        return set()
    try:
        items = json.loads(gzip.decompress(base64.b64decode(blob)))
        out: set[Key] = set()
        for item in items:
            group, kind, namespace, name = str(item).split("|", 3)
            out.add((group, kind, namespace, name))
        return out
    except (ValueError, OSError, TypeError):
        return set()


def not_ours_message(ref: ObjectRef) -> str:
    return (
        f"{ref}: carries our ApplySet label but neither our inventory nor our run records "
        "say we applied it; not pruned (left alone)"
    )
