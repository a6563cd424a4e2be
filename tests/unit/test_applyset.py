"""The ApplySet parent and membership (KEP-3659), checked without a server."""

from __future__ import annotations

import hashlib
import string
from typing import Any

import pytest

from gitops_nb.engine.applyset import (
    ADDITIONAL_NAMESPACES,
    CONTAINS_GROUP_KINDS,
    ID_LABEL,
    PART_OF,
    TOOLING,
    ApplySet,
    applyset_id,
    group_kind,
    parse_group_kind,
    recorded_group_kinds,
    recorded_namespaces,
)
from gitops_nb.model import APP_LABEL, ObjectRef

_B64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def kep_3659_id(name: str, namespace: str, kind: str, group: str) -> str:
    """The ID as KEP-3659 and kubectl define it, written out by hand:
    ``applyset-<base64url(sha256("<name>.<namespace>.<kind>.<group>")), no padding>-v1``."""
    digest = hashlib.sha256(f"{name}.{namespace}.{kind}.{group}".encode()).digest()
    bits = "".join(f"{byte:08b}" for byte in digest) + "00"  # 256 bits + 2 → 43 sextets
    body = "".join(_B64URL[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))
    return f"applyset-{body}-v1"


@pytest.mark.parametrize(
    ("name", "namespace", "kind", "group"),
    [
        ("gitops-nb.shop", "prod", "ConfigMap", ""),
        ("gitops-nb.web", "default", "ConfigMap", ""),
        ("parent", "ns", "Secret", ""),
        ("p", "", "Widget", "example.com"),  # cluster-scoped custom parent
    ],
)
def test_applyset_id_matches_the_kep_algorithm(
    name: str, namespace: str, kind: str, group: str
) -> None:
    got = applyset_id(name, namespace, kind, group)
    assert got == kep_3659_id(name, namespace, kind, group)
    body = got.removeprefix("applyset-").removesuffix("-v1")
    assert len(body) == 43 and set(body) <= set(_B64URL)  # no padding, URL-safe alphabet
    assert len(got) <= 63  # fits a label value


def test_applyset_id_defaults_to_a_configmap_parent_and_separates_inputs() -> None:
    assert applyset_id("a", "b") == kep_3659_id("a", "b", "ConfigMap", "")
    ids = {
        applyset_id("a", "b"),
        applyset_id("b", "a"),
        applyset_id("a", "b", "Secret"),
        applyset_id("a.b", ""),
    }
    assert len(ids) == 4


def test_applyset_names_its_parent() -> None:
    s = ApplySet("shop", "prod")
    assert s.name == "gitops-nb.shop"
    assert s.path == "/api/v1/namespaces/prod/configmaps/gitops-nb.shop"
    assert s.ref == ObjectRef("v1", "ConfigMap", "prod", "gitops-nb.shop")
    assert s.id == kep_3659_id("gitops-nb.shop", "prod", "ConfigMap", "")
    assert s.selector == f"{PART_OF}={s.id}"
    assert ApplySet("shop", "stage").id != s.id and ApplySet("web", "prod").id != s.id


def test_label_adds_membership_without_touching_the_input() -> None:
    s = ApplySet("shop", "prod")
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "labels": {"app": "web"}},
        "data": {"k": "v"},
    }
    labelled = s.label(obj)
    assert labelled["metadata"]["labels"] == {"app": "web", PART_OF: s.id}
    assert labelled["data"] == {"k": "v"} and labelled["metadata"]["name"] == "cfg"
    assert obj["metadata"]["labels"] == {"app": "web"}  # the input is unchanged
    bare = s.label({"kind": "ConfigMap"})
    assert bare["metadata"] == {"labels": {PART_OF: s.id}}
    # an existing (stale) membership label is replaced, not kept
    other = {"metadata": {"labels": {PART_OF: "applyset-old-v1"}}}
    assert s.label(other)["metadata"]["labels"] == {PART_OF: s.id}


def test_parent_lists_kinds_and_other_namespaces_sorted_and_unique() -> None:
    s = ApplySet("shop", "prod")
    parent = s.parent(
        ["Deployment.apps", "ConfigMap", "Deployment.apps", "Ingress.networking.k8s.io"],
        ["prod", "stage", "", "audit", "stage"],
    )
    meta = parent["metadata"]
    assert (parent["apiVersion"], parent["kind"]) == ("v1", "ConfigMap")
    assert (meta["name"], meta["namespace"]) == ("gitops-nb.shop", "prod")
    assert meta["labels"] == {ID_LABEL: s.id, APP_LABEL: "shop"}
    assert meta["annotations"] == {
        TOOLING: "gitops-nb/v1",
        CONTAINS_GROUP_KINDS: "ConfigMap,Deployment.apps,Ingress.networking.k8s.io",
        ADDITIONAL_NAMESPACES: "audit,stage",  # its own namespace and "" left out
    }
    assert "binaryData" not in parent
    assert s.parent([], [], {"k": "dg=="})["binaryData"] == {"k": "dg=="}
    assert s.parent([], [], {}).get("binaryData") is None


def test_recorded_kinds_and_namespaces_read_back_what_parent_wrote() -> None:
    s = ApplySet("shop", "prod")
    kinds = {"ConfigMap", "Deployment.apps", "Widget.example.com"}
    parent = s.parent(kinds, ["prod", "audit", "stage"])
    assert recorded_group_kinds(parent) == kinds
    assert recorded_namespaces(parent) == {"audit", "stage"}
    empty = s.parent([], ["prod"])
    assert recorded_group_kinds(empty) == set() and recorded_namespaces(empty) == set()


@pytest.mark.parametrize(
    "parent",
    [None, {}, {"metadata": None}, {"metadata": {}}, {"metadata": {"annotations": None}}],
)
def test_recorded_sets_of_a_missing_or_bare_parent_are_empty(parent: Any) -> None:
    assert recorded_group_kinds(parent) == set()
    assert recorded_namespaces(parent) == set()


def test_recorded_sets_skip_empty_items_written_by_other_tools() -> None:
    parent = {
        "metadata": {
            "annotations": {
                CONTAINS_GROUP_KINDS: "ConfigMap,,Job.batch,",
                ADDITIONAL_NAMESPACES: ",",
            }
        }
    }
    assert recorded_group_kinds(parent) == {"ConfigMap", "Job.batch"}
    assert recorded_namespaces(parent) == set()


def test_group_kind_round_trip() -> None:
    cases = {
        ("v1", "ConfigMap"): "ConfigMap",
        ("apps/v1", "Deployment"): "Deployment.apps",
        ("networking.k8s.io/v1", "Ingress"): "Ingress.networking.k8s.io",
        ("example.com/v1alpha1", "Widget"): "Widget.example.com",
    }
    for (api_version, kind), gk in cases.items():
        assert group_kind(api_version, kind) == gk
        assert parse_group_kind(gk) == (api_version.rpartition("/")[0], kind)
