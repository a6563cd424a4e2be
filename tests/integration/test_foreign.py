"""Fields other hands add: each class of hand change made by a real ``kubectl``, detected with
its manager, corrected in correct mode (by the engine, and all at once by ``reconcile``), then
a clean diff. Plus list items keyed by value, the ignore rules (also through ``diff``/``apply
--config``) and the precision soak (controllers, scheduler and nodes running, zero drift)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_nb.cli import main
from gitops_nb.config import AppConfig
from gitops_nb.engine import Engine, SyncOptions
from gitops_nb.history import drift_intervals, load_runs
from gitops_nb.ignore import IgnoreRules
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Action, DiffStatus, Manifest, Mode
from gitops_nb.policyspec import Policy
from gitops_nb.source.render import render
from gitops_nb.usecases.jsonlog import json_logger
from gitops_nb.usecases.reconcile import reconcile_app
from tests.gitrepo import FIXTURES, GitRepo
from tests.integration.helpers import kubectl

SOAK_SECONDS = 60.0


SOAK_POLICY = Policy(
    cluster_kinds=("Namespace", "CustomResourceDefinition.apiextensions.k8s.io", "ClusterRole")
)
"""The soak app holds a ClusterRole: cluster RBAC must be listed."""


def app(namespace: str) -> list[Manifest]:
    """The soak app plus one ClusterRole named for the test's namespace."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": f"{namespace}-reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    }
    return [*render(FIXTURES, "soak"), Manifest(role, "clusterrole.yaml")]


def drift(kube: Kube, manifests: list[Manifest], opts: SyncOptions) -> list[tuple[Any, ...]]:
    report = Engine(kube).diff(manifests, replace(opts, fast=False))
    return [
        (e.ref.kind, e.ref.name, c.path, c.manager, c.op)
        for e in report.items
        if e.status is not DiffStatus.IN_SYNC
        for c in e.diff.changes
    ]


def correct(kube: Kube, manifests: list[Manifest], opts: SyncOptions) -> None:
    changes = Engine(kube).apply(manifests, replace(opts, force_conflicts=True))
    assert not changes.failed, [(str(e.ref), e.error) for e in changes.failed]


def _patch(kind: str, name: str, body: dict[str, Any], kind_type: str = "strategic") -> list[str]:
    return ["patch", f"{kind}/{name}", f"--type={kind_type}", "-p", json.dumps(body)]


POD = {"spec": {"template": {"spec": {}}}}
HAND_CHANGES: dict[str, tuple[list[str], str, str, str, str]] = {
    # name: (kubectl args, kind, object, path, manager)
    "label": (
        ["label", "deployment/web", "team=ops"],
        "Deployment",
        "web",
        "metadata.labels.team",
        "kubectl-label",
    ),
    "annotation": (
        ["annotate", "service/web", "note=by-hand"],
        "Service",
        "web",
        "metadata.annotations.note",
        "kubectl-annotate",
    ),
    "set-env": (
        ["set", "env", "deployment/web", "DEBUG=1"],
        "Deployment",
        "web",
        "spec.template.spec.containers[name=web].env[name=DEBUG]",
        "kubectl-set",
    ),
    "container-port": (
        _patch(
            "deployment",
            "web",
            [
                {
                    "op": "add",
                    "path": "/spec/template/spec/containers/0/ports/-",
                    "value": {"containerPort": 9090},
                }
            ],  # type: ignore[arg-type]
            "json",
        ),
        "Deployment",
        "web",
        "spec.template.spec.containers[name=web].ports[containerPort=9090,protocol=TCP]",
        "kubectl-patch",
    ),
    "toleration": (
        _patch(
            "cronjob",
            "backup",
            {
                "spec": {
                    "jobTemplate": {
                        "spec": {
                            "template": {
                                "spec": {"tolerations": [{"key": "gpu", "operator": "Exists"}]}
                            }
                        }
                    }
                }
            },
        ),
        "CronJob",
        "backup",
        "spec.jobTemplate.spec.template.spec.tolerations",
        "kubectl-patch",
    ),
    "sidecar": (
        _patch(
            "deployment",
            "web",
            {"spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "e:1"}]}}}},
        ),
        "Deployment",
        "web",
        "spec.template.spec.containers[name=proxy]",
        "kubectl-patch",
    ),
    "volume": (
        _patch(
            "deployment",
            "web",
            {"spec": {"template": {"spec": {"volumes": [{"name": "cache", "emptyDir": {}}]}}}},
        ),
        "Deployment",
        "web",
        "spec.template.spec.volumes[name=cache]",
        "kubectl-patch",
    ),
    "cronjob-suspend": (
        _patch("cronjob", "backup", {"spec": {"suspend": True}}),
        "CronJob",
        "backup",
        "spec.suspend",
        "kubectl-patch",
    ),
    "service-session-affinity": (
        _patch("service", "web", {"spec": {"sessionAffinity": "ClientIP"}}),
        "Service",
        "web",
        "spec.sessionAffinity",
        "kubectl-patch",
    ),
    "configmap-key": (
        _patch("configmap", "web-config", {"data": {"extra": "1"}}),
        "ConfigMap",
        "web-config",
        "data.extra",
        "kubectl-patch",
    ),
    "serviceaccount-field": (
        _patch("serviceaccount", "web", {"automountServiceAccountToken": False}),
        "ServiceAccount",
        "web",
        "automountServiceAccountToken",
        "kubectl-patch",
    ),
}


@pytest.mark.parametrize("case", sorted(HAND_CHANGES))
def test_hand_change_is_detected_attributed_and_corrected(
    cluster: LocalCluster, kube: Kube, namespace: str, case: str
) -> None:
    args, kind, name, path, manager = HAND_CHANGES[case]
    manifests = app(namespace)
    opts = SyncOptions(app="soak", namespace=namespace, policy=SOAK_POLICY)
    assert not Engine(kube).apply(manifests, opts).failed
    kubectl(cluster, "-n", namespace, *args)

    found = drift(kube, manifests, opts)
    assert (kind, name, path, manager, "added") in found, found
    assert {(k, n, m, op) for k, n, _p, m, op in found} == {(kind, name, manager, "added")}
    # apply without --force-conflicts reports the addition and the flag, and leaves it
    plain = Engine(kube).apply(manifests, opts)
    [entry] = [e for e in plain.entries if e.ref.kind == kind and e.ref.name == name]
    assert "--force-conflicts" in (entry.error or "") and entry.action is not Action.FAILED
    assert (kind, name, path, manager, "added") in drift(kube, manifests, opts)

    correct(kube, manifests, opts)
    assert drift(kube, manifests, opts) == []
    assert Engine(kube).diff(manifests, opts).drifted == []  # the fast path agrees


def test_clusterrole_rule_added_with_kubectl_edit(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    manifests = app(namespace)
    opts = SyncOptions(app="soak", namespace=namespace, policy=SOAK_POLICY)
    assert not Engine(kube).apply(manifests, opts).failed
    rule = r"- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]"
    editor = {"KUBE_EDITOR": f"sed -i 's/^rules:/rules:\\n{rule}/'"}
    kubectl(cluster, "edit", f"clusterrole/{namespace}-reader", env=editor)
    found = drift(kube, manifests, opts)
    assert {(k, n, m) for k, n, _p, m, _op in found} == {
        ("ClusterRole", f"{namespace}-reader", "kubectl-edit")
    }
    correct(kube, manifests, opts)
    assert drift(kube, manifests, opts) == []
    live = kube.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{namespace}-reader")
    assert live["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]


def test_write_through_the_api_by_an_ops_script(kube: Kube, namespace: str) -> None:
    manifests = app(namespace)
    opts = SyncOptions(app="soak", namespace=namespace, policy=SOAK_POLICY)
    assert not Engine(kube).apply(manifests, opts).failed
    path = f"/apis/apps/v1/namespaces/{namespace}/statefulsets/db"
    kube.apply(
        path,
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "labels": {"tier": "data"}},
        },
        field_manager="ops-script",
    )
    assert drift(kube, manifests, opts) == [
        ("StatefulSet", "db", "metadata.labels.tier", "ops-script", "added")
    ]
    correct(kube, manifests, opts)
    assert drift(kube, manifests, opts) == []
    assert "tier" not in kube.get(path)["metadata"].get("labels", {})


def _hand_label_and_annotation(cluster: LocalCluster, namespace: str) -> None:
    kubectl(cluster, "-n", namespace, "label", "deployment/web", "team=ops")
    kubectl(cluster, "-n", namespace, "annotate", "deployment/web", "note=by-hand")


@pytest.mark.parametrize(
    ("rule", "ignored"),
    [
        ("manager=kubectl-label", "metadata.labels.team"),
        ("path=metadata.annotations.*", "metadata.annotations.note"),
        ("path=metadata.labels.team;kind=Deployment;name=web", "metadata.labels.team"),
        ("manager=kubectl-annotate;namespace=t-*", "metadata.annotations.note"),
    ],
)
def test_ignore_rule_suppresses_exactly_its_field_and_correct_leaves_it(
    cluster: LocalCluster, kube: Kube, namespace: str, rule: str, ignored: str
) -> None:
    manifests = app(namespace)
    opts = SyncOptions(
        app="soak", namespace=namespace, policy=SOAK_POLICY, ignore=IgnoreRules.of([rule])
    )
    assert not Engine(kube).apply(manifests, opts).failed
    _hand_label_and_annotation(cluster, namespace)
    found = {p for _k, _n, p, _m, _op in drift(kube, manifests, opts)}
    assert found == {"metadata.labels.team", "metadata.annotations.note"} - {ignored}
    correct(kube, manifests, opts)
    assert drift(kube, manifests, opts) == []
    meta = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web")["metadata"]
    kept = {
        "metadata.labels.team": ("labels", "team"),
        "metadata.annotations.note": ("annotations", "note"),
    }
    where, key = kept[ignored]
    assert key in meta.get(where, {})  # the ignored field is never touched
    other = next(p for p in kept if p != ignored)
    assert kept[other][1] not in meta.get(kept[other][0], {})


def test_rule_for_another_kind_suppresses_nothing(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    manifests = app(namespace)
    rules = IgnoreRules.of(["path=metadata.labels.team;kind=Service"])
    opts = SyncOptions(app="soak", namespace=namespace, policy=SOAK_POLICY, ignore=rules)
    assert not Engine(kube).apply(manifests, opts).failed
    _hand_label_and_annotation(cluster, namespace)
    found = {p for _k, _n, p, _m, _op in drift(kube, manifests, opts)}
    assert found == {"metadata.labels.team", "metadata.annotations.note"}


def test_rollout_restart_is_not_drift_and_is_kept(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    manifests = app(namespace)
    opts = SyncOptions(app="soak", namespace=namespace, policy=SOAK_POLICY)
    assert not Engine(kube).apply(manifests, opts).failed
    kubectl(cluster, "-n", namespace, "rollout", "restart", "deployment/web")
    assert drift(kube, manifests, opts) == []
    kubectl(cluster, "-n", namespace, "label", "deployment/web", "team=ops")
    correct(kube, manifests, opts)
    dep = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
    annotations = dep["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    assert "team" not in dep["metadata"]["labels"]


class SoakReconciler:
    """Reconcile runs of the soak fixture, committed to a fresh repository, into
    ``namespace``; records in ``tmp/history``."""

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        tmp: Path,
        ignore: tuple[str, ...] = (),
        extra: dict[str, str] | None = None,
    ) -> None:
        """``extra``: more files committed with the app (path → text); then the app may
        hold a ClusterRole (SOAK_POLICY)."""
        self.kube, self.namespace, self.tmp, self.ignore = kube, namespace, tmp, ignore
        self.repo = GitRepo(tmp / "repo")
        self.repo.add_fixture("soak", "soak")
        for rel, text in (extra or {}).items():
            self.repo.write(rel, text)
        self.policy = SOAK_POLICY if extra else AppConfig().policy
        self.repo.commit("soak app")
        self.log = json_logger(f"test.soak.{namespace}", open(tmp / "log.jsonl", "w"))  # noqa: SIM115

    def run(self, mode: Mode) -> Any:
        cfg = AppConfig(
            app="soak",
            repo=str(self.repo.path),
            path="soak",
            namespace=self.namespace,
            mode=mode,
            history_dir=str(self.tmp / "history"),
            cache_dir=str(self.tmp / "cache"),
            ignore=self.ignore,
            policy=self.policy,
        ).validate()
        result = reconcile_app(cfg, self.log, kube=self.kube)
        assert result.run is not None
        return result


def test_reconcile_records_additions_and_rules_then_corrects(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    run = SoakReconciler(kube, namespace, tmp_path, ignore=("path=metadata.labels.keep",)).run

    run(Mode.CORRECT)
    kubectl(cluster, "-n", namespace, "label", "deployment/web", "team=ops", "keep=yes")
    kubectl(cluster, "-n", namespace, "patch", "cronjob/backup", "-p", '{"spec":{"suspend":true}}')
    detect = run(Mode.DETECT)
    assert detect.exit_code == 1
    changes = {(o.ref.kind, c.path, c.manager, c.op) for o in detect.run.objects for c in o.changes}
    assert changes == {
        ("Deployment", "metadata.labels.team", "kubectl-label", "added"),
        ("CronJob", "spec.suspend", "kubectl-patch", "added"),
    }
    assert "path=metadata.labels.keep" in detect.run.ignore
    assert "manager=kube-controller-manager" in detect.run.ignore
    fixed = run(Mode.CORRECT)
    assert fixed.exit_code == 0
    assert {o.ref.kind for o in fixed.run.objects if o.action is Action.CONFIGURED} == {
        "Deployment",
        "CronJob",
    }
    assert run(Mode.DETECT).exit_code == 0
    cron = kube.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/backup")
    assert cron["spec"]["suspend"] is False
    dep = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
    assert dep["metadata"]["labels"]["keep"] == "yes" and "team" not in dep["metadata"]["labels"]


def test_soak_apps_left_alone_with_controllers_running_show_no_drift(
    node_kube: Kube, node_namespace: str
) -> None:
    """Deployments, StatefulSets, CronJobs, HPAs, Services, ServiceAccounts, PVCs, Ingress,
    NetworkPolicy and RBAC: after a minute of the controller-manager, kube-scheduler and
    kwok's simulated kubelets running the Pods, still zero drift."""
    kube, namespace = node_kube, node_namespace
    manifests = app(namespace)
    opts = SyncOptions(app="soak", namespace=namespace, policy=SOAK_POLICY)
    assert not Engine(kube).apply(manifests, opts).failed
    deadline = time.monotonic() + SOAK_SECONDS
    while time.monotonic() < deadline:
        assert drift(kube, manifests, opts) == []
        time.sleep(15)
    assert drift(kube, manifests, opts) == []
    assert Engine(kube).diff(manifests, opts).drifted == []
    managers = {
        m["manager"]
        for e in Engine(kube).diff(manifests, replace(opts, fast=False)).items
        if e.live
        for m in e.live["metadata"].get("managedFields", ())
    }
    assert "kube-controller-manager" in managers  # the controllers did write
    pods = kube.list(f"/api/v1/namespaces/{namespace}/pods")
    running = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
    assert running and all(p["spec"].get("nodeName") for p in running)  # scheduled, running


def test_ignored_change_to_a_git_field_survives_correcting_another_field(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    manifests = app(namespace)
    opts = SyncOptions(
        app="soak",
        namespace=namespace,
        policy=SOAK_POLICY,
        ignore=IgnoreRules.of(["path=spec.replicas;kind=Deployment"]),
    )
    assert not Engine(kube).apply(manifests, opts).failed
    kubectl(cluster, "-n", namespace, "scale", "deployment/web", "--replicas=5")
    assert drift(kube, manifests, opts) == []
    kubectl(cluster, "-n", namespace, "label", "deployment/web", "team=ops")
    correct(kube, manifests, opts)  # applies the Deployment to remove the label
    dep = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
    assert dep["spec"]["replicas"] == 5 and "team" not in dep["metadata"]["labels"]
    assert drift(kube, manifests, opts) == []


def test_object_created_by_kubectl_then_adopted_shows_no_default_as_added(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    kubectl(cluster, "-n", namespace, "create", "deployment", "adopted", "--image=nginx:1.27")
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "adopted", "labels": {"app": "adopted"}},
        "spec": {
            "selector": {"matchLabels": {"app": "adopted"}},
            "template": {
                "metadata": {"labels": {"app": "adopted"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
            },
        },
    }
    manifests = [Manifest(dep, "adopted.yaml")]
    opts = SyncOptions(app="adopt", namespace=namespace)
    [item] = Engine(kube).diff(manifests, replace(opts, fast=False)).items
    # only our ApplySet label is missing; kubectl-create's defaults are not "added"
    assert [c.op for c in item.diff.changes] == ["removed"]
    correct(kube, manifests, opts)
    assert drift(kube, manifests, opts) == []


def test_a_field_removed_by_hand_is_drift_in_detect_mode_and_corrected(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    """Nobody owns a removed field, so managedFields cannot name a manager: the cause comes
    from knowing that Git did not move the object since a run saw it whole."""
    soak = SoakReconciler(kube, namespace, tmp_path)
    repo, run = soak.repo, soak.run

    def causes(result: Any) -> set[tuple[str, str, str, str]]:
        return {
            (o.ref.kind, c.path, c.op, str(c.cause)) for o in result.run.objects for c in o.changes
        }

    run(Mode.CORRECT)
    assert run(Mode.DETECT).exit_code == 0  # seen whole at this commit
    remove = '[{"op":"remove","path":"/spec/template/spec/containers/0/ports"}]'
    kubectl(cluster, "-n", namespace, "patch", "deployment/web", "--type=json", "-p", remove)
    remove_key = '[{"op":"remove","path":"/data/mode"}]'
    kubectl(
        cluster, "-n", namespace, "patch", "configmap/web-config", "--type=json", "-p", remove_key
    )
    ports = "spec.template.spec.containers[name=web].ports"
    removed = {
        ("Deployment", ports, "removed", "cluster"),
        ("ConfigMap", "data", "removed", "cluster"),
    }
    assert causes(run(Mode.DETECT)) == removed
    assert causes(run(Mode.DETECT)) == removed  # and it stays the cluster's run after run

    # Git adds a label nobody applied yet (detect mode): a deployment, never drift
    text = (repo.path / "soak" / "app.yaml").read_text()
    repo.write(
        "soak/app.yaml",
        text.replace(
            "labels: {app: web}\nspec:\n  replicas",
            "labels: {app: web, tier: front}\nspec:\n  replicas",
            1,
        ),
    )
    repo.commit("label the web tier")
    assert causes(run(Mode.DETECT)) == removed | {
        ("Deployment", "metadata.labels.tier", "removed", "git")
    }
    assert run(Mode.CORRECT).exit_code == 0
    assert run(Mode.DETECT).exit_code == 0
    dep = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
    assert dep["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 80
    assert kube.get(f"/api/v1/namespaces/{namespace}/configmaps/web-config")["data"] == {
        "mode": "production"
    }
    episodes = drift_intervals(load_runs(history_dir=tmp_path / "history"))
    assert sorted(zip(episodes["object"], episodes["path"], episodes["cause"], strict=True)) == [
        (f"ConfigMap/{namespace}/web-config", "data", "cluster"),
        (f"Deployment/{namespace}/web", ports, "cluster"),
    ]
    assert set(episodes["resolution"]) == {"corrected by reconciler"}


CLUSTERROLE = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {name}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get]
"""


def _changes(result: Any) -> set[tuple[str, str, str, str, str]]:
    return {
        (o.ref.kind, o.ref.name, c.path, c.manager, c.op)
        for o in result.run.objects
        for c in o.changes
    }


def test_every_hand_change_is_recorded_then_corrected_by_reconcile(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    role = f"{namespace}-reader"
    soak = SoakReconciler(
        kube, namespace, tmp_path, extra={"soak/clusterrole.yaml": CLUSTERROLE.format(name=role)}
    )
    assert soak.run(Mode.CORRECT).exit_code == 0
    expected = set()
    for args, kind, name, path, manager in HAND_CHANGES.values():
        kubectl(cluster, "-n", namespace, *args)
        expected.add((kind, name, path, manager, "added"))
    rule = r"- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]"
    editor = {"KUBE_EDITOR": f"sed -i 's/^rules:/rules:\\n{rule}/'"}
    kubectl(cluster, "edit", f"clusterrole/{role}", env=editor)
    # the edit put a rule first: the first rule changed and a second appeared
    expected |= {
        ("ClusterRole", role, "rules[0].resources", "kubectl-edit", "changed"),
        ("ClusterRole", role, "rules[1]", "kubectl-edit", "changed"),
    }
    # sessionAffinity: ClientIP brings its defaulted config, under the same manager
    affinity = "spec.sessionAffinityConfig.clientIP.timeoutSeconds"
    expected.add(("Service", "web", affinity, "kubectl-patch", "added"))
    kube.apply(
        f"/apis/apps/v1/namespaces/{namespace}/statefulsets/db",
        {"apiVersion": "apps/v1", "kind": "StatefulSet"}
        | {"metadata": {"name": "db", "labels": {"tier": "data"}}},
        field_manager="ops-script",
    )
    expected.add(("StatefulSet", "db", "metadata.labels.tier", "ops-script", "added"))

    detect = soak.run(Mode.DETECT)
    assert detect.exit_code == 1
    assert _changes(detect) == expected
    assert {str(c.cause) for o in detect.run.objects for c in o.changes} == {"cluster"}

    assert soak.run(Mode.CORRECT).exit_code == 0
    after = soak.run(Mode.DETECT)
    assert after.exit_code == 0 and _changes(after) == set()
    cron = kube.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/backup")
    assert cron["spec"]["suspend"] is False
    assert "tolerations" not in cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web")["spec"]["template"]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["web"]
    assert "env" not in pod["spec"]["containers"][0]
    live_role = kube.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{role}")
    assert live_role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}
    ]


def test_a_list_item_keyed_by_value_is_an_addition(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    """A finalizer is a set item (``v:"…"`` in managedFields): added by hand, then removed."""
    manifests = app(namespace)
    opts = SyncOptions(app="soak", namespace=namespace, policy=SOAK_POLICY)
    assert not Engine(kube).apply(manifests, opts).failed
    patch = json.dumps({"metadata": {"finalizers": ["example.com/hold"]}})
    kubectl(cluster, "-n", namespace, "patch", "configmap/web-config", "--type=merge", "-p", patch)
    try:
        found = drift(kube, manifests, opts)
        [(kind, name, path, manager, op)] = found
        assert (kind, name, manager, op) == ("ConfigMap", "web-config", "kubectl-patch", "added")
        assert path.startswith("metadata.finalizers[") and "example.com/hold" in path
        correct(kube, manifests, opts)
        assert drift(kube, manifests, opts) == []
        live = kube.get(f"/api/v1/namespaces/{namespace}/configmaps/web-config")
        assert not live["metadata"].get("finalizers")
    finally:  # a finalizer left behind would hold the namespace's deletion
        clear = json.dumps({"metadata": {"finalizers": None}})
        kubectl(
            cluster, "-n", namespace, "patch", "configmap/web-config", "--type=merge", "-p", clear
        )


@pytest.fixture
def config_file(cluster: LocalCluster, namespace: str, tmp_path: Path) -> Path:
    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("soak", "soak")
    repo.commit("soak app")
    cfg = {
        "app": "soak",
        "repo": str(repo.path),
        "path": "soak",
        "namespace": namespace,
        "kubeconfig": str(cluster.kubeconfig),
        "cacheDir": str(tmp_path / "cache"),
        "ignore": ["path=metadata.labels.team;kind=Deployment"],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _diff_paths(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, set[str]]:
    code = main(["diff", *argv, "-o", "json", "--precise"])
    doc = json.loads(capsys.readouterr().out)
    return code, {c["path"] for r in doc["resources"] for c in r.get("changes", ())}


def test_diff_and_apply_with_config_use_its_ignore_rules(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    config_file: Path,
) -> None:
    assert main(["apply", "--config", str(config_file)]) == 0
    capsys.readouterr()
    kubectl(cluster, "-n", namespace, "label", "deployment/web", "team=ops")
    kubectl(cluster, "-n", namespace, "annotate", "deployment/web", "note=by-hand")

    code, paths = _diff_paths(capsys, "--config", str(config_file))
    assert code == 1 and paths == {"metadata.annotations.note"}  # the config's rule holds
    # without --config the same app shows both (the rule lives only in the config)
    code, paths = _diff_paths(
        capsys,
        *("--repo", str(config_file.parent / "repo"), "--path", "soak", "--app", "soak"),
        *("-n", namespace, "--kubeconfig", str(cluster.kubeconfig)),
        *("--cache-dir", str(config_file.parent / "cache")),
    )
    assert code == 1 and paths == {"metadata.labels.team", "metadata.annotations.note"}

    assert main(["apply", "--config", str(config_file), "--force-conflicts"]) == 0
    meta = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web")["metadata"]
    assert meta["labels"]["team"] == "ops"  # ignored: never touched
    assert "note" not in meta.get("annotations", {})
    capsys.readouterr()
    assert _diff_paths(capsys, "--config", str(config_file)) == (0, set())


def test_diff_without_repo_or_config_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["diff", "--path", "x"]) == 2
    assert "--repo is required (or --config FILE)" in capsys.readouterr().err
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"repo": str(tmp_path), "apps": [{"name": "a", "path": "a"}]}))
    assert main(["diff", "--config", str(fleet)]) == 2
    assert "name the app with --app" in capsys.readouterr().err
