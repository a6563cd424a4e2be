"""Fingerprints that let a no-op reconcile skip the dry-run of objects nobody touched.

Per object we keep (hash of the manifest we apply, hash of the live ownership). Ownership is
the uid plus every ``managedFields`` entry outside the ``status`` subresource: manager,
operation, subresource, apiVersion, time and the owned field set. Any write by another
manager (update, patch, apply, scale, label/annotation change), a deletion and recreation,
or a change in Git changes one of the two hashes and sends the object down the precise
(dry-run) path. Pure functions; stored gzip+base64 in the ApplySet parent.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_nb.masking import is_secret
from gitops_nb.model import ObjectRef

DATA_KEY = "fingerprints.json.gz"
Fingerprint = tuple[str, str]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def desired_hash(obj: Mapping[str, Any], rules: str = "", key: bytes | None = None) -> str | None:
    """Hash of the exact object we server-side apply (labels and defaults included) and of
    the ignore rules that judged it (``rules``: their digest), so new rules re-judge it.

    A Secret's hash is an HMAC under the per-install ``key`` (see :mod:`fpkey`): a plain
    hash in a readable ConfigMap lets a dictionary search recover its values. Without a
    key a Secret has no hash (None), and always takes the precise path.
    """
    value: Any = [obj, rules] if rules else obj
    if not is_secret(obj):
        return _digest(value)
    if key is None:
        return None
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return "hmac:" + hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:20]


def ownership_hash(metadata: Mapping[str, Any]) -> str:
    """Hash of who owns what in the live object, ignoring status writers."""
    entries = [
        (
            m.get("manager", ""),
            m.get("operation", ""),
            m.get("subresource", ""),
            m.get("apiVersion", ""),
            m.get("time", ""),
            m.get("fieldsV1"),
        )
        for m in metadata.get("managedFields") or ()
        if m.get("subresource") != "status"
    ]
    entries.sort(key=lambda e: json.dumps(e, sort_keys=True, default=str))
    return _digest([metadata.get("uid", ""), entries])


def key(ref: ObjectRef) -> str:
    group, kind, namespace, name = ref.key
    return f"{group}|{kind}|{namespace}|{name}"


def ref_key(k: str) -> tuple[str, str, str, str]:
    """``ObjectRef.key`` of a fingerprint key."""
    group, kind, namespace, name = k.split("|", 3)
    return (group, kind, namespace, name)


def ref_of(k: str, api_version: str) -> ObjectRef:
    _group, kind, namespace, name = k.split("|", 3)
    return ObjectRef(api_version, kind, namespace, name)


def source_key(commit: str, path: str, app: str, namespace: str, rules: str = "") -> str:
    """What the desired set was rendered from and judged by: same key, same manifests and
    ignore rules (plus our version)."""
    from gitops_nb import __version__

    return _digest([commit, path, app, namespace, __version__, rules])


@dataclass(frozen=True)
class Stored:
    """Fingerprints as recorded in the ApplySet parent."""

    objects: dict[str, Fingerprint] = field(default_factory=dict)
    api_versions: dict[str, str] = field(default_factory=dict)
    source: str = ""
    """Set only when ``objects`` is the complete desired set rendered from that source."""


def encode(
    fps: Mapping[str, Fingerprint], api_versions: Mapping[str, str], source: str = ""
) -> str:
    doc = {
        "source": source,
        "objects": {k: [*v, api_versions.get(k, "")] for k, v in sorted(fps.items())},
    }
    raw = json.dumps(doc, separators=(",", ":"))
    return base64.b64encode(gzip.compress(raw.encode(), compresslevel=6, mtime=0)).decode()


def decode(parent: Mapping[str, Any] | None) -> Stored:
    """Fingerprints stored in the parent; empty (every object takes the precise path) if
    none or unreadable."""
    blob = ((parent or {}).get("binaryData") or {}).get(DATA_KEY)
    if not blob:
        return Stored()
    try:
        doc = json.loads(gzip.decompress(base64.b64decode(blob)))
        objects = {str(k): (str(v[0]), str(v[1])) for k, v in doc["objects"].items()}
        versions = {str(k): str(v[2]) for k, v in doc["objects"].items()}
        return Stored(objects, versions, str(doc.get("source", "")))
    except (ValueError, OSError, TypeError, IndexError, KeyError, AttributeError):
        return Stored()
