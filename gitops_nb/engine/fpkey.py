"""The per-install key that makes a Secret's fingerprint useless to a dictionary search.

Fingerprints live in the ApplySet parent, a ConfigMap anyone with ConfigMap read can see.
A plain hash of a Secret is a guessable function of its values, so a Secret's desired hash
is an HMAC under a random key kept in a Secret next to the parent: whoever can read that
key can read Secrets in that namespace anyway.

The key is created by the first writing run that fingerprints a Secret. A run that cannot
read it (``diff`` without Secret read rights, a namespace not created yet) gets no key, and
its Secrets simply take the precise (dry-run) path.
"""

from __future__ import annotations

import base64
import binascii
import os

from gitops_nb.errors import ConflictError, ForbiddenError, NotFoundError, ReadOnlyError
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import SECRETS

KEY_SECRET = "gitops-nb-fingerprint-key"
KEY_FIELD = "hmac-sha256"


def load(kube: Kube, namespace: str, *, create: bool) -> bytes | None:
    """The key in ``namespace`` (creating it if asked and missing), or None if unavailable."""
    what = f"Secret/{namespace}/{KEY_SECRET}"
    path = SECRETS.object_path(namespace, KEY_SECRET)
    try:
        obj = kube.get_or_none(path, what=what)
        if obj is None and create and not kube.read_only:
            try:
                obj = kube.create(SECRETS.collection_path(namespace), _new_key(), what=what)
            except ConflictError:  # another run created it first
                obj = kube.get_or_none(path, what=what)
    except (ForbiddenError, NotFoundError, ReadOnlyError):
        return None
    try:
        key = base64.b64decode(((obj or {}).get("data") or {}).get(KEY_FIELD, ""), validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None
    return key if len(key) >= 16 else None


def _new_key() -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": KEY_SECRET,
            "labels": {"app.kubernetes.io/managed-by": "gitops-nb"},
        },
        "type": "Opaque",
        "data": {KEY_FIELD: base64.b64encode(os.urandom(32)).decode()},
    }
