"""Issue 13 item 6: `namespace: X` and an omitted namespace defaulting to X are one object."""

from __future__ import annotations

import pytest

from gitops_nb.engine import Engine, SyncOptions
from gitops_nb.errors import RenderError
from gitops_nb.kube.client import Kube
from gitops_nb.model import Manifest


def configmap(value: str, namespace: str | None) -> dict[str, object]:
    meta: dict[str, object] = {"name": "twice"}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"v": value}}


@pytest.mark.parametrize("verb", ["diff", "apply"])
def test_explicit_and_defaulted_namespace_are_one_object(
    kube: Kube, namespace: str, verb: str
) -> None:
    manifests = [
        Manifest(configmap("a", namespace), "a.yaml", 3),
        Manifest(configmap("b", None), "b.yaml", 7),
    ]
    opts = SyncOptions(app="twice", namespace=namespace)
    with pytest.raises(RenderError) as e:
        getattr(Engine(kube), verb)(manifests, opts)
    assert e.value.location == "b.yaml:7"
    assert "a.yaml:3" in str(e.value)
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/twice") is None


def test_namespace_on_cluster_scoped_object_is_dropped_before_the_check(
    kube: Kube, namespace: str
) -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "rules": []}
    manifests = [
        Manifest({**role, "metadata": {"name": f"{namespace}-r"}}, "a.yaml", 1),
        Manifest({**role, "metadata": {"name": f"{namespace}-r", "namespace": "x"}}, "b.yaml", 2),
    ]
    with pytest.raises(RenderError, match=r"also defined at a\.yaml:1"):
        Engine(kube).apply(manifests, SyncOptions(app="twice", namespace=namespace))
