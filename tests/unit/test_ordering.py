"""Apply order by kind, parallel batches, and prune as the exact reverse (no server)."""

from __future__ import annotations

import random

from gitops_nb.engine import ordering
from gitops_nb.engine.ordering import STAGE_CLUSTER_RBAC, STAGE_FOUNDATION, STAGE_REST
from gitops_nb.model import ObjectRef


def ref(kind: str, name: str = "x", namespace: str = "web", api_version: str = "v1") -> ObjectRef:
    return ObjectRef(api_version, kind, namespace, name)


NS = ref("Namespace", "web", "")
CRD = ref("CustomResourceDefinition", "widgets.example.com", "", "apiextensions.k8s.io/v1")
CROLE = ref("ClusterRole", "reader", "", "rbac.authorization.k8s.io/v1")
CBIND = ref("ClusterRoleBinding", "reader", "", "rbac.authorization.k8s.io/v1")
SA = ref("ServiceAccount", "app")
ROLE = ref("Role", "app", api_version="rbac.authorization.k8s.io/v1")
CM = ref("ConfigMap", "settings")
SECRET = ref("Secret", "db")
SVC = ref("Service", "web")
DEP = ref("Deployment", "web", api_version="apps/v1")
STS = ref("StatefulSet", "db", api_version="apps/v1")
HPA = ref("HorizontalPodAutoscaler", "web", api_version="autoscaling/v2")
ING = ref("Ingress", "web", api_version="networking.k8s.io/v1")
WIDGET = ref("Widget", "w1", api_version="example.com/v1")

APPLY_ORDER = [NS, CRD, CROLE, CBIND, SA, ROLE, CM, SECRET, SVC, DEP, STS, HPA, ING, WIDGET]


def identity(r: ObjectRef) -> ObjectRef:
    return r


def test_stages_foundation_then_cluster_rbac_then_the_rest() -> None:
    assert ordering.stage(NS) == ordering.stage(CRD) == STAGE_FOUNDATION
    assert ordering.stage(CROLE) == ordering.stage(CBIND) == STAGE_CLUSTER_RBAC
    for r in (SA, ROLE, CM, SECRET, SVC, DEP, HPA, ING, WIDGET):
        assert ordering.stage(r) == STAGE_REST, r
    assert STAGE_FOUNDATION < STAGE_CLUSTER_RBAC < STAGE_REST


def test_ranks_follow_dependencies_and_unknown_kinds_go_last() -> None:
    r = ordering.rank
    assert r(NS) < r(CRD) < r(CROLE) < r(CBIND) < r(SA) < r(ROLE)
    assert r(ROLE) < r(CM) == r(SECRET) < r(SVC) < r(DEP) == r(STS) < r(HPA) < r(ING)
    # a custom resource ranks after every built-in kind, whatever its name
    assert r(WIDGET) == r(ref("Zebra")) > max(ordering.rank(x) for x in APPLY_ORDER[:-1])
    # the rank depends on the kind only, not on group, namespace or name
    assert r(ref("Deployment", "a", "x", "apps/v1")) == r(ref("Deployment", "b", "", "v9"))


def test_sort_for_apply_is_deterministic_whatever_the_input_order() -> None:
    shuffled = APPLY_ORDER[:]
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert ordering.sort_for_apply(shuffled, identity) == APPLY_ORDER


def test_equal_ranks_sort_by_namespace_kind_name() -> None:
    a = ref("ConfigMap", "b", "a-ns")
    b = ref("ConfigMap", "a", "b-ns")
    c = ref("Secret", "a", "b-ns")
    d = ref("ConfigMap", "z", "b-ns")
    assert ordering.sort_for_apply([c, d, b, a], identity) == [a, b, d, c]


def test_prune_order_is_the_reverse_of_apply_order() -> None:
    shuffled = APPLY_ORDER[::2] + APPLY_ORDER[1::2]
    pruned = ordering.sort_for_prune(shuffled, identity)
    assert pruned == list(reversed(APPLY_ORDER))
    assert pruned[0] == WIDGET and pruned[-1] == NS  # namespaces go last
    assert pruned.index(DEP) < pruned.index(SA) < pruned.index(CROLE) < pruned.index(CRD)


def test_sort_uses_ref_of_on_arbitrary_items() -> None:
    items = [("dep", DEP), ("ns", NS), ("cm", CM)]
    assert [n for n, _ in ordering.sort_for_apply(items, lambda i: i[1])] == ["ns", "cm", "dep"]
    assert [n for n, _ in ordering.sort_for_prune(items, lambda i: i[1])] == ["dep", "cm", "ns"]


def test_batches_group_equal_ranks_in_apply_order() -> None:
    dep2 = ref("Deployment", "api", api_version="apps/v1")
    got = ordering.batches([ING, dep2, CM, DEP, NS, SECRET, STS], identity)
    assert got == [[NS], [CM, SECRET], [dep2, DEP, STS], [ING]]
    flat = [r for batch in got for r in batch]
    assert flat == ordering.sort_for_apply(flat, identity)
    for batch in got:
        assert len({ordering.rank(r) for r in batch}) == 1
    assert ordering.batches([], identity) == []
