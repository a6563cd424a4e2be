"""Fingerprints of desired manifests and live ownership, and their stored form (no server)."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from typing import Any

from gitops_nb.engine import fingerprint
from gitops_nb.engine.fingerprint import DATA_KEY, Stored
from gitops_nb.model import ObjectRef

DESIRED: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "prod", "labels": {"a": "1", "b": "2"}},
    "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web"}]}}},
}


def entry(manager: str, time: str = "2026-11-28T10:00:00Z", **kw: Any) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": kw.pop("operation", "Apply"),
        "apiVersion": kw.pop("apiVersion", "apps/v1"),
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": kw.pop("fieldsV1", {"f:spec": {"f:replicas": {}}}),
        **kw,
    }


def live_meta(*entries: dict[str, Any], uid: str = "uid-1", **extra: Any) -> dict[str, Any]:
    return {"name": "web", "uid": uid, "managedFields": list(entries), **extra}


OURS = entry("gitops-nb")


# --- desired_hash -------------------------------------------------------------------------


def test_desired_hash_is_stable_and_ignores_key_order() -> None:
    h = fingerprint.desired_hash(DESIRED)
    assert h == fingerprint.desired_hash(copy.deepcopy(DESIRED))
    reordered = json.loads(json.dumps(DESIRED, sort_keys=True))
    reordered["metadata"] = dict(reversed(list(DESIRED["metadata"].items())))
    assert fingerprint.desired_hash(reordered) == h
    assert len(h) == 20 and all(c in "0123456789abcdef" for c in h)


def test_desired_hash_sees_every_change() -> None:
    h = fingerprint.desired_hash(DESIRED)
    changes = [
        ("spec", "replicas", 4),
        ("spec", "replicas", "3"),  # a type change is a change
        ("metadata", "labels", {"a": "1"}),
        ("metadata", "namespace", "stage"),
        ("metadata", "annotations", {}),
    ]
    seen = {h}
    for section, key, value in changes:
        other = copy.deepcopy(DESIRED)
        other[section][key] = value
        seen.add(fingerprint.desired_hash(other))
    nested = copy.deepcopy(DESIRED)
    nested["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx"
    seen.add(fingerprint.desired_hash(nested))
    assert len(seen) == len(changes) + 2  # all different from each other and from h


# --- ownership_hash -----------------------------------------------------------------------


def test_ownership_hash_ignores_entry_order_status_writers_and_other_metadata() -> None:
    scaler = entry("kubectl-scale", operation="Update", subresource="scale")
    base = fingerprint.ownership_hash(live_meta(OURS, scaler))
    assert fingerprint.ownership_hash(live_meta(scaler, OURS)) == base
    status = entry("kube-controller-manager", operation="Update", subresource="status")
    assert fingerprint.ownership_hash(live_meta(OURS, status, scaler)) == base
    # the controller updating status again (new time, new fields) changes nothing
    later = entry("kube-controller-manager", "2026-11-28T11:00:00Z", subresource="status")
    assert fingerprint.ownership_hash(live_meta(OURS, later, scaler)) == base
    # resourceVersion, generation and labels are covered by the managedFields they come from
    noisy = live_meta(OURS, scaler, resourceVersion="999", generation=7, labels={"x": "y"})
    assert fingerprint.ownership_hash(noisy) == base


def test_ownership_hash_sees_foreign_writes_and_recreation() -> None:
    base = fingerprint.ownership_hash(live_meta(OURS))
    variants = [
        live_meta(OURS, entry("kubectl-edit", operation="Update")),  # another writer
        live_meta(entry("gitops-nb", "2026-11-28T12:00:00Z")),  # our entry rewritten later
        live_meta(entry("gitops-nb", fieldsV1={"f:spec": {}})),  # fewer owned fields
        live_meta(entry("gitops-nb", operation="Update")),
        live_meta(entry("gitops-nb", apiVersion="apps/v1beta2")),
        live_meta(entry("gitops-nb", subresource="scale")),
        live_meta(OURS, uid="uid-2"),  # deleted and recreated
    ]
    hashes = [fingerprint.ownership_hash(v) for v in variants]
    assert base not in hashes
    assert len(set(hashes)) == len(variants)


def test_ownership_hash_of_metadata_without_managed_fields() -> None:
    assert fingerprint.ownership_hash({}) == fingerprint.ownership_hash({"managedFields": None})
    assert fingerprint.ownership_hash({"uid": "u"}) != fingerprint.ownership_hash({"uid": "v"})


# --- keys and refs ------------------------------------------------------------------------


def test_key_and_ref_of_round_trip() -> None:
    refs = [
        ObjectRef("apps/v1", "Deployment", "prod", "web"),
        ObjectRef("v1", "ConfigMap", "prod", "web-config"),
        ObjectRef("v1", "Namespace", "", "prod"),
        ObjectRef("example.com/v1alpha1", "Widget", "prod", "a|b"),  # a pipe in the name
    ]
    for r in refs:
        k = fingerprint.key(r)
        assert fingerprint.ref_of(k, r.api_version) == r
    assert fingerprint.key(refs[0]) == "apps|Deployment|prod|web"
    assert fingerprint.key(refs[2]) == "|Namespace||prod"


def test_key_ignores_the_version_like_the_object_identity() -> None:
    old = ObjectRef("apps/v1beta2", "Deployment", "prod", "web")
    new = ObjectRef("apps/v1", "Deployment", "prod", "web")
    assert fingerprint.key(old) == fingerprint.key(new)
    assert fingerprint.ref_of(fingerprint.key(old), "apps/v1") == new


# --- stored form --------------------------------------------------------------------------


def parent_with(blob: str) -> dict[str, Any]:
    return {"metadata": {"name": "gitops-nb.web"}, "binaryData": {DATA_KEY: blob}}


def test_encode_decode_round_trip() -> None:
    fps = {
        "apps|Deployment|prod|web": ("d1", "o1"),
        "|ConfigMap|prod|cfg": ("d2", "o2"),
        "|Namespace||prod": ("d3", "o3"),
    }
    versions = {
        "apps|Deployment|prod|web": "apps/v1",
        "|ConfigMap|prod|cfg": "v1",
        "|Namespace||prod": "v1",
    }
    blob = fingerprint.encode(fps, versions, source="src-1")
    assert fingerprint.decode(parent_with(blob)) == Stored(fps, versions, "src-1")
    # deterministic: the same input gives the same blob (no timestamp in the gzip header)
    assert fingerprint.encode(dict(reversed(list(fps.items()))), versions, "src-1") == blob
    # no source given: the objects still round-trip, the source stays empty
    assert fingerprint.decode(parent_with(fingerprint.encode(fps, versions))).source == ""


def test_decode_without_or_with_unreadable_data_is_empty() -> None:
    assert fingerprint.decode(None) == Stored()
    assert fingerprint.decode({"metadata": {}}) == Stored()
    assert fingerprint.decode({"binaryData": {}}) == Stored()
    not_gzip = base64.b64encode(b"hello").decode()
    not_json = base64.b64encode(gzip.compress(b"{nope")).decode()
    wrong_shape = base64.b64encode(gzip.compress(b'{"objects": {"k": ["only-one"]}}')).decode()
    no_objects = base64.b64encode(gzip.compress(b'{"source": "s"}')).decode()
    for blob in ("not-base64!", not_gzip, not_json, wrong_shape, no_objects):
        assert fingerprint.decode(parent_with(blob)) == Stored(), blob


# --- source key ---------------------------------------------------------------------------


def test_source_key_changes_with_each_input() -> None:
    args = ("a" * 40, "apps/web", "web", "prod")
    k = fingerprint.source_key(*args)
    assert fingerprint.source_key(*args) == k
    others = {
        fingerprint.source_key(*args[:i], args[i] + "x", *args[i + 1 :]) for i in range(len(args))
    }
    assert k not in others and len(others) == len(args)
    # fields are kept apart: moving a character from one field to the next is a new key
    assert fingerprint.source_key("ab", "c", "web", "prod") != fingerprint.source_key(
        "a", "bc", "web", "prod"
    )
