"""The engine against a real API server: no false drift, attribution, apply, prune."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitops_nb.engine import Engine, SyncOptions
from gitops_nb.engine.applyset import PART_OF, applyset_id
from gitops_nb.errors import PruneGuardError, UnknownKindError
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster, find_binary
from gitops_nb.model import Action, DiffStatus, Manifest
from gitops_nb.policyspec import Policy
from gitops_nb.source.render import render
from tests.factories import BASELINE
from tests.gitrepo import FIXTURES

from .helpers import kubectl

PLATFORM_POLICY = Policy(
    cluster_kinds=("Namespace", "CustomResourceDefinition.apiextensions.k8s.io", "ClusterRole")
)
"""The platform fixture holds a ClusterRole: cluster RBAC must be listed."""


def platform() -> list[Manifest]:
    return render(FIXTURES, "platform")


def newest_manager(obj: dict[str, Any]) -> str:
    entries = sorted(obj["metadata"]["managedFields"], key=lambda m: m.get("time", ""))
    return str(entries[-1]["manager"])


def test_round_trip_has_no_false_drift_and_second_apply_writes_nothing(
    kube: Kube, namespace: str
) -> None:
    # adopt: the cluster-scoped CRD and ClusterRole may belong to another test's app.
    opts = SyncOptions(app="platform", namespace=namespace, policy=PLATFORM_POLICY, adopt=True)
    engine = Engine(kube)
    first = engine.apply(platform(), opts)
    assert not first.failed, first.failed
    # Cluster-scoped objects (CRD, ClusterRole) may exist from an earlier test of the session.
    assert {e.action for e in first.entries if e.ref.namespace} == {Action.CREATED}
    assert {e.action for e in first.entries if not e.ref.namespace} <= {
        Action.CREATED,
        Action.CONFIGURED,
    }
    report = Engine(kube).diff(platform(), opts)
    not_in_sync = [
        (str(e.ref), e.status, e.diff.changes)
        for e in report.items
        if e.status is not DiffStatus.IN_SYNC
    ]
    assert not_in_sync == []
    assert len(report.items) == len(platform())

    before = kube.requests
    again = Engine(kube).apply(platform(), opts)
    assert {e.action for e in again.entries} == {Action.UNCHANGED}
    assert again.writes == 0
    assert kube.requests > before  # it did look


def test_kustomize_overlay_round_trip(kube: Kube, namespace: str) -> None:
    manifests = render(FIXTURES, "shop/overlays/prod")
    opts = SyncOptions(app="shop", namespace=namespace)
    changes = Engine(kube).apply(manifests, opts)
    assert not changes.failed
    dep = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/prod-shop")
    assert dep["spec"]["replicas"] == 3
    assert dep["metadata"]["labels"][PART_OF] == opts.applyset.id
    report = Engine(kube).diff(manifests, opts)
    assert all(e.status is DiffStatus.IN_SYNC for e in report.items)


def test_kubectl_drift_is_attributed_and_corrected(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    manifests = render(FIXTURES, "shop/overlays/prod")
    opts = SyncOptions(app="shop", namespace=namespace, force_conflicts=True)
    Engine(kube).apply(manifests, opts)
    ns = ["-n", namespace]
    kubectl(cluster, "scale", "deployment/prod-shop", "--replicas=5", *ns)
    kubectl(cluster, "set", "image", "deployment/prod-shop", "shop=ghcr.io/example/shop:6.6.6", *ns)
    kubectl(cluster, "label", "deployment/prod-shop", "env=staging", "--overwrite", *ns)
    kubectl(
        cluster,
        "patch",
        "service/prod-shop",
        *ns,
        "--type=merge",
        "-p",
        '{"spec":{"ports":[{"port":80,"targetPort":9090}]}}',
    )

    report = Engine(kube).diff(manifests, opts)
    by_obj = {str(e.ref): e for e in report.items}
    dep = by_obj[f"Deployment/{namespace}/prod-shop"]
    assert dep.status is DiffStatus.DRIFTED
    changes = {c.path: c for c in dep.diff.changes}
    assert set(changes) == {
        "spec.replicas",
        "spec.template.spec.containers[name=shop].image",
        "metadata.labels.env",
    }
    assert changes["spec.replicas"].live == 5 and changes["spec.replicas"].desired == 3
    image = changes["spec.template.spec.containers[name=shop].image"]
    assert image.live == "ghcr.io/example/shop:6.6.6"
    assert image.desired == "ghcr.io/example/shop:1.1.0"
    assert image.manager == "kubectl-set" and image.operation == "Update" and image.time
    assert changes["metadata.labels.env"].manager == "kubectl-label"
    assert changes["spec.replicas"].manager is not None
    assert changes["spec.replicas"].manager.startswith("kubectl")
    svc = by_obj[f"Service/{namespace}/prod-shop"]
    assert [c.path for c in svc.diff.changes] == ["spec.ports[port=80,protocol=TCP].targetPort"]
    assert svc.diff.changes[0].manager == "kubectl-patch"
    assert "targetPort: 9090" in svc.diff.diff_text and "targetPort: 8080" in svc.diff.diff_text
    untouched = [e for e in report.items if e.ref.kind == "ConfigMap"]
    assert len(untouched) == 1 and untouched[0].status is DiffStatus.IN_SYNC

    changes_made = Engine(kube).apply(manifests, opts)
    actions = {str(e.ref): e.action for e in changes_made.entries}
    assert actions[f"Deployment/{namespace}/prod-shop"] is Action.CONFIGURED
    assert actions[f"ConfigMap/{namespace}/{untouched[0].ref.name}"] is Action.UNCHANGED
    after = Engine(kube).diff(manifests, opts)
    assert [
        (str(e.ref), e.diff.changes) for e in after.items if e.status is not DiffStatus.IN_SYNC
    ] == []


def test_kubectl_edit_is_attributed(cluster: LocalCluster, kube: Kube, namespace: str) -> None:
    manifests = render(FIXTURES, "shop/overlays/prod")
    opts = SyncOptions(app="shop", namespace=namespace)
    Engine(kube).apply(manifests, opts)
    name = next(m.ref.name for m in manifests if m.ref.kind == "ConfigMap")
    editor = {"KUBE_EDITOR": "sed -i s/CURRENCY:\\ EUR/CURRENCY:\\ USD/"}
    kubectl(cluster, "edit", f"configmap/{name}", "-n", namespace, env=editor)
    report = Engine(kube).diff(manifests, opts)
    [drifted] = report.drifted
    assert [(c.path, c.live, c.desired, c.manager, c.operation) for c in drifted.diff.changes] == [
        ("data.CURRENCY", "USD", "EUR", "kubectl-edit", "Update")
    ]


def test_conflict_is_reported_without_force(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    manifests = render(FIXTURES, "shop/overlays/prod")
    opts = SyncOptions(app="shop", namespace=namespace)
    Engine(kube).apply(manifests, opts)
    kubectl(cluster, "set", "image", "deployment/prod-shop", "shop=x:1", "-n", namespace)
    changes = Engine(kube).apply(manifests, opts)
    failed = {str(e.ref): e.error for e in changes.failed}
    assert list(failed) == [f"Deployment/{namespace}/prod-shop"]
    assert "kubectl-set" in (failed[f"Deployment/{namespace}/prod-shop"] or "")
    assert "--force-conflicts" in (failed[f"Deployment/{namespace}/prod-shop"] or "")
    live = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/prod-shop")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "x:1"


def _configmaps(names: list[str]) -> list[Manifest]:
    return [
        Manifest(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}, "data": {"k": n}},
            f"{n}.yaml",
        )
        for n in names
    ]


def test_prune_removes_exactly_what_git_dropped(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    opts = SyncOptions(app="cms", namespace=namespace, prune=True)
    Engine(kube).apply(_configmaps(["a", "b", "c", "d"]), opts)
    kubectl(cluster, "create", "configmap", "not-ours", "-n", namespace)
    changes = Engine(kube).apply(_configmaps(["a", "b", "c"]), opts)
    pruned = [str(e.ref) for e in changes.entries if e.action is Action.PRUNED]
    assert pruned == [f"ConfigMap/{namespace}/d"]
    names = {c["metadata"]["name"] for c in kube.list(f"/api/v1/namespaces/{namespace}/configmaps")}
    assert {"a", "b", "c", "not-ours", "gitops-nb.cms"} <= names
    assert "d" not in names


def test_diff_reports_extraneous_and_dry_run_prune_writes_nothing(
    kube: Kube, namespace: str
) -> None:
    opts = SyncOptions(app="cms", namespace=namespace, prune=True)
    Engine(kube).apply(_configmaps(["a", "b", "c"]), opts)
    report = Engine(kube).diff(_configmaps(["a", "b"]), opts)
    assert {str(e.ref): e.status for e in report.items}[f"ConfigMap/{namespace}/c"] is (
        DiffStatus.EXTRANEOUS
    )
    dry = Engine(kube).apply(
        _configmaps(["a", "b"]),
        SyncOptions(app="cms", namespace=namespace, prune=True, dry_run=True),
    )
    assert [e.action for e in dry.entries if e.ref.name == "c"] == [Action.PRUNED]
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/c") is not None


def test_prune_guards(kube: Kube, namespace: str) -> None:
    opts = SyncOptions(app="cms", namespace=namespace, prune=True)
    Engine(kube).apply(_configmaps(["a", "b", "c", "d"]), opts)
    with pytest.raises(PruneGuardError, match="empty"):
        Engine(kube).apply([], opts)
    with pytest.raises(PruneGuardError, match="3 of 4"):
        Engine(kube).apply(_configmaps(["a"]), opts)
    names = {c["metadata"]["name"] for c in kube.list(f"/api/v1/namespaces/{namespace}/configmaps")}
    assert {"a", "b", "c", "d"} <= names
    allowed = SyncOptions(app="cms", namespace=namespace, prune=True, allow_mass_prune=True)
    changes = Engine(kube).apply(_configmaps(["a"]), allowed)
    assert sorted(e.ref.name for e in changes.entries if e.action is Action.PRUNED) == [
        "b",
        "c",
        "d",
    ]


def test_unknown_kind_fails_before_any_write(kube: Kube, namespace: str) -> None:
    bad = [
        *_configmaps(["first"]),
        Manifest(
            {"apiVersion": "nope.example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}},
            "gadget.yaml",
            3,
        ),
    ]
    with pytest.raises(UnknownKindError) as err:
        Engine(kube).apply(bad, SyncOptions(app="x", namespace=namespace))
    assert "gadget.yaml:3" in str(err.value) and f"Gadget/{namespace}/g" in str(err.value)
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/first") is None


def test_immutable_field_failure_does_not_stop_others(kube: Kube, namespace: str) -> None:
    opts = SyncOptions(app="imm", namespace=namespace, force_conflicts=True)
    dep = render(FIXTURES, "shop/overlays/prod")
    Engine(kube).apply(dep, opts)
    changed = []
    for m in dep:
        obj = json.loads(json.dumps(m.obj))
        if obj["kind"] == "Deployment":
            obj["spec"]["selector"]["matchLabels"]["app"] = "other"  # immutable
            obj["spec"]["template"]["metadata"]["labels"]["app"] = "other"
        if obj["kind"] == "Service":
            obj["spec"]["ports"][0]["targetPort"] = 8181
        changed.append(Manifest(obj, m.source, m.line))
    changes = Engine(kube).apply(changed, opts)
    actions = {e.ref.kind: e for e in changes.entries}
    assert actions["Deployment"].action is Action.FAILED
    assert "immutable" in (actions["Deployment"].error or "")
    assert actions["Service"].action is Action.CONFIGURED


def test_applyset_is_what_kubectl_computes(
    cluster: LocalCluster, namespace: str, tmp_path: Path
) -> None:
    # kubectl labels its own ApplySet parent with the ID it computes; ours must agree.
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata: {a: b}\n"
    )
    subprocess.run(
        [
            str(find_binary("kubectl")),
            "--kubeconfig",
            str(cluster.kubeconfig),
            "apply",
            "--server-side",
            "--prune",
            "--applyset=configmap/kset",
            "-n",
            namespace,
            "-f",
            str(tmp_path / "cm.yaml"),
        ],
        check=True,
        capture_output=True,
        env={"KUBECTL_APPLYSET": "true", "PATH": "/usr/bin", "HOME": str(tmp_path)},
    )
    parent = json.loads(kubectl(cluster, "get", "configmap", "kset", "-n", namespace, "-o", "json"))
    assert parent["metadata"]["labels"]["applyset.kubernetes.io/id"] == applyset_id(
        "kset", namespace
    )


def _cm(name: str, namespace: str, data: dict[str, str]) -> Manifest:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
    if namespace:
        obj["metadata"]["namespace"] = namespace  # type: ignore[index]
    return Manifest(obj, f"{name}.yaml", 1)


def test_a_deleted_object_is_drift_even_without_records_and_a_failed_create_is_not(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    """The CLI has no run records: the ApplySet inventory says which objects this app applied
    at least once, so a Missing one was deleted by hand (cause cluster); one whose creation
    failed is forgotten, so once fixed in Git it is new (cause git)."""
    opts = SyncOptions(app="inv", namespace=namespace)
    ns = f"{namespace}-new"
    new_ns = Manifest(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": BASELINE}},
        "ns.yaml",
        1,
    )
    kept = _cm("kept", "", {"k": "v"})
    # a ConfigMap in a Namespace the set creates cannot be dry-run first: it fails on create
    bad = _cm("late", ns, {"bad key!": "v"})
    try:
        changes = Engine(kube).apply([kept, new_ns, bad], opts)
        assert [str(e.ref) for e in changes.failed] == [f"ConfigMap/{ns}/late"]
        kubectl(cluster, "-n", namespace, "delete", "configmap", "kept")
        fixed = _cm("late", ns, {"good-key": "v"})
        report = Engine(kube).diff([kept, new_ns, fixed], opts)
        causes = {str(e.ref): (str(e.status), str(e.diff.cause)) for e in report.items}
        assert causes[f"ConfigMap/{namespace}/kept"] == ("Missing", "cluster")
        assert causes[f"ConfigMap/{ns}/late"] == ("Missing", "git")
    finally:
        kube.delete(f"/api/v1/namespaces/{ns}")
