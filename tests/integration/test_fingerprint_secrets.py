"""Issue 13 item 5: a Secret's fingerprint in the (readable) ApplySet parent reveals nothing.

The parent ConfigMap used to store ``sha256(json(secret))[:20]``: anyone with ConfigMap
read could confirm guesses of the value offline. Now a Secret's hash is an HMAC under a
per-install key kept in a Secret, and the fast path still vouches for the Secret.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gitops_nb.engine import Engine, SyncOptions, fingerprint
from gitops_nb.engine.fpkey import KEY_SECRET
from gitops_nb.kube.client import Kube
from gitops_nb.model import Manifest

VALUE = "hunter2"
GUESSES = ["password", "123456", "letmein", "hunter1", VALUE, "qwerty"]


def secret(value: str) -> Manifest:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "stringData": {"password": value},
    }
    return Manifest(obj, "secret.yaml", 1)


def plain_sha(obj: dict[str, Any]) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def test_stored_secret_hash_is_keyed_and_fast_path_still_works(kube: Kube, namespace: str) -> None:
    opts = SyncOptions(app="fpsec", namespace=namespace, record_fingerprints=True)
    engine = Engine(kube)
    assert not engine.apply([secret(VALUE)], opts).failed
    engine.apply([secret(VALUE)], opts)  # in sync now: fingerprints recorded

    parent = kube.get(opts.applyset.path)
    stored = fingerprint.decode(parent).objects
    [(desired_hash, _ownership)] = stored.values()

    # The dictionary attack: rebuild the object we apply for each guess, hash it, compare.
    desired, _ = engine.plan([secret(VALUE)], opts)
    for guess in GUESSES:
        obj = json.loads(json.dumps(desired[0].obj).replace(VALUE, guess))
        assert plain_sha(obj) not in desired_hash
    assert kube.get(f"/api/v1/namespaces/{namespace}/secrets/{KEY_SECRET}")["data"]

    # The fast path still vouches for the Secret, and a change in Git is still noticed.
    report = Engine(kube).diff([secret(VALUE)], opts)
    assert [e.fast for e in report.items] == [True]
    changed = Engine(kube).diff([secret("other")], opts)
    assert [e.fast for e in changed.items] == [False]


def test_without_the_key_a_secret_takes_the_precise_path(kube: Kube, namespace: str) -> None:
    opts = SyncOptions(app="fpsec", namespace=namespace, record_fingerprints=True)
    Engine(kube).apply([secret(VALUE)], opts)
    Engine(kube).apply([secret(VALUE)], opts)
    kube.delete(f"/api/v1/namespaces/{namespace}/secrets/{KEY_SECRET}")
    report = Engine(kube).diff([secret(VALUE)], SyncOptions(app="fpsec", namespace=namespace))
    assert [(e.fast, e.status.value) for e in report.items] == [(False, "InSync")]
