"""The no-op fast path: fingerprints skip dry-runs, and any foreign write is noticed.

Every case writes to the real API server the way users and controllers do, then checks the
touched object goes down the precise (dry-run) path while the untouched ones stay fast.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from gitops_nb.engine import DiffReport, Engine, SyncOptions, fingerprint
from gitops_nb.engine.wait import HealthReader
from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Action, DiffStatus, HealthStatus, Manifest
from gitops_nb.usecases.sync import diff_health

from .helpers import kubectl

CASES = ("update", "patch", "apply", "label", "annotate", "untouched")


def manifests() -> list[Manifest]:
    out = [
        Manifest(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm-{c}"},
                "data": {"key": "git"},
            },
            f"{c}.yaml",
        )
        for c in CASES
    ]
    out.append(
        Manifest(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "scaled"},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": "s"}},
                    "template": {
                        "metadata": {"labels": {"app": "s"}},
                        "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
                    },
                },
            },
            "deploy.yaml",
        )
    )
    return out


def settle(kube: Kube, opts: SyncOptions) -> None:
    """Reconcile until every object is judged by fingerprint alone."""
    for _ in range(20):
        Engine(kube).apply(manifests(), opts)
        report = Engine(kube).diff(manifests(), opts)
        if all(e.fast for e in report.items):
            return
        time.sleep(0.3)  # controllers still writing (revision annotation, status)
    raise AssertionError("fingerprints never settled")


def by_name(report: DiffReport) -> dict[str, Any]:
    return {e.ref.name: e for e in report.items}


def test_noop_needs_no_per_object_request(kube: Kube, namespace: str) -> None:
    opts = SyncOptions(app="fp", namespace=namespace, record_fingerprints=True)
    settle(kube, opts)
    before = kube.requests
    engine = Engine(kube)
    changes = engine.apply(manifests(), opts)
    sent = kube.requests - before
    assert {e.action for e in changes.entries} == {Action.UNCHANGED}
    assert engine.stats == {"fast": 7, "precise": 0, "members": 7}
    # discovery (2) + parent GET + one metadata LIST per kind, whatever the object count
    assert sent == 2 + 1 + 2, sent
    precise = Engine(kube).diff(manifests(), SyncOptions(app="fp", namespace=namespace, fast=False))
    assert not any(e.fast for e in precise.items)
    assert {e.status for e in precise.items} == {DiffStatus.IN_SYNC}


def test_health_of_a_fingerprint_noop_reads_only_objects_with_a_status(
    kube: Kube, namespace: str
) -> None:
    """``diff`` shows health; objects judged by fingerprint alone have no live copy in hand,
    but ConfigMaps have no status to read: only the Deployment costs requests."""
    opts = SyncOptions(app="fp", namespace=namespace, record_fingerprints=True)
    settle(kube, opts)
    report = Engine(kube).diff(manifests(), opts)
    assert all(e.fast and e.live is None for e in report.items)
    disco = Discovery(kube)
    disco.resource_for("apps/v1", "Deployment")  # discovery is not what is counted
    before = kube.requests
    health = diff_health(report, HealthReader(kube, disco))
    # the Deployment's GET, and (no nodes on this cluster: it never becomes Available) the
    # LIST of its Pods that says why
    assert kube.requests - before == 2, kube.requests - before
    assert set(health) == {e.ref for e in report.items}
    [dep] = [h for r, h in health.items() if r.kind == "Deployment"]
    assert dep.status is HealthStatus.IN_PROGRESS
    configmaps = [h for r, h in health.items() if r.kind == "ConfigMap"]
    assert len(configmaps) == 6 and all(h.status is HealthStatus.CURRENT for h in configmaps)


def test_every_kind_of_foreign_write_takes_the_precise_path(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    opts = SyncOptions(app="fp", namespace=namespace, record_fingerprints=True)
    settle(kube, opts)
    ns = ["-n", namespace]
    cm = kube.get(f"/api/v1/namespaces/{namespace}/configmaps/cm-update")
    cm["data"]["key"] = "updated"
    kube.replace(f"/api/v1/namespaces/{namespace}/configmaps/cm-update", cm)  # Update (PUT)
    kubectl(
        cluster,
        "patch",
        "configmap/cm-patch",
        *ns,
        "--type=merge",
        "-p",
        '{"data":{"key":"patched"}}',
    )
    kubectl(cluster, "label", "configmap/cm-label", "team=payments", *ns)
    kubectl(cluster, "annotate", "configmap/cm-annotate", "note=hand-made", *ns)
    kubectl(cluster, "scale", "deployment/scaled", "--replicas=3", *ns)
    other = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm-apply", "namespace": namespace},
        "data": {"key": "intruder"},
    }
    kube.apply(
        f"/api/v1/namespaces/{namespace}/configmaps/cm-apply",
        other,
        field_manager="intruder",
        force=True,
    )  # server-side apply by another manager

    report = Engine(kube).diff(manifests(), opts)
    items = by_name(report)
    assert [n for n, e in items.items() if e.fast] == ["cm-untouched"]
    assert items["cm-update"].status is DiffStatus.DRIFTED
    assert items["cm-patch"].diff.changes[0].manager == "kubectl-patch"
    assert items["cm-apply"].diff.changes[0].manager == "intruder"
    assert items["scaled"].diff.changes[0].path == "spec.replicas"
    # Labels/annotations Git does not declare are drift other hands added (issue 11).
    for name, path, manager in (
        ("cm-label", "metadata.labels.team", "kubectl-label"),
        ("cm-annotate", "metadata.annotations.note", "kubectl-annotate"),
    ):
        [change] = items[name].diff.changes
        assert not items[name].fast
        assert (change.path, change.manager, change.op) == (path, manager, "added")


def test_git_change_and_recreation_take_the_precise_path(kube: Kube, namespace: str) -> None:
    opts = SyncOptions(app="fp", namespace=namespace, record_fingerprints=True)
    settle(kube, opts)
    path = f"/api/v1/namespaces/{namespace}/configmaps/cm-untouched"
    live = kube.get(path)
    kube.delete(path)
    kube.create(
        f"/api/v1/namespaces/{namespace}/configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cm-untouched", "labels": live["metadata"]["labels"]},
            "data": {"key": "git"},
        },
    )  # same content, new object: the uid changes the fingerprint
    changed = manifests()
    changed[0] = Manifest({**changed[0].obj, "data": {"key": "new in git"}}, "update.yaml")
    report = Engine(kube).diff(changed, opts)
    slow = sorted(e.ref.name for e in report.items if not e.fast)
    assert slow == ["cm-untouched", "cm-update"]
    assert by_name(report)["cm-update"].status is DiffStatus.DRIFTED


def test_fingerprints_survive_in_the_parent_and_are_bounded(kube: Kube, namespace: str) -> None:
    opts = SyncOptions(app="fp", namespace=namespace, record_fingerprints=True)
    settle(kube, opts)
    parent = kube.get(f"/api/v1/namespaces/{namespace}/configmaps/gitops-nb.fp")
    stored = fingerprint.decode(parent)
    assert len(stored.objects) == 7
    assert stored.source == ""  # one-off applies name no source: the reconciler does
    big = {f"apps|Deployment|ns-{i % 10}|name-{i:05d}": ("a" * 20, "b" * 20) for i in range(10000)}
    versions = dict.fromkeys(big, "apps/v1")
    assert len(fingerprint.encode(big, versions, "src")) < 900 * 1024


@pytest.mark.parametrize("corrupt", ["not-base64!", "aGVsbG8="])
def test_unreadable_fingerprints_mean_precise_path(corrupt: str) -> None:
    assert fingerprint.decode({"binaryData": {fingerprint.DATA_KEY: corrupt}}).objects == {}
    assert fingerprint.decode(None) == fingerprint.Stored()


def _reconcile_logs(
    kube: Kube, repo: Any, namespace: str, tmp: Any
) -> tuple[list[dict[str, Any]], Any]:
    import io

    from gitops_nb.config import AppConfig
    from gitops_nb.usecases.jsonlog import json_logger
    from gitops_nb.usecases.reconcile import reconcile_app as reconcile

    buf = io.StringIO()
    cfg = AppConfig(
        app="shop",
        repo=str(repo.path),
        path="shop/overlays/prod",
        namespace=namespace,
        history_dir=str(tmp / "h"),
        cache_dir=str(tmp / "c"),
    ).validate()
    result = reconcile(cfg, json_logger("test.quick", buf), kube=kube)
    return [json.loads(line) for line in buf.getvalue().splitlines()], result


def test_unchanged_commit_and_cluster_skip_rendering(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Any
) -> None:
    from tests.gitrepo import GitRepo

    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("shop", "shop")
    repo.commit("shop")
    events = [e["event"] for e in _reconcile_logs(kube, repo, namespace, tmp_path)[0]]
    assert "rendered" in events  # first run: creates
    for _ in range(10):  # until the controllers stop writing to the new Deployment
        logs, result = _reconcile_logs(kube, repo, namespace, tmp_path)
        if any(e["event"] == "in-sync" for e in logs):
            break
        time.sleep(0.3)
    else:
        raise AssertionError("never reached the no-render path")
    assert "rendered" not in [e["event"] for e in logs]
    assert result.exit_code == 0 and result.run.counts["in_sync"] == 3
    assert {o.action for o in result.run.objects} == {Action.UNCHANGED}

    kubectl(cluster, "scale", "deployment/prod-shop", "--replicas=9", "-n", namespace)
    logs, result = _reconcile_logs(kube, repo, namespace, tmp_path)
    assert "rendered" in [e["event"] for e in logs]  # a foreign write: full path
    assert result.run.counts["configured"] == 1

    kubectl(cluster, "delete", "service/prod-shop", "-n", namespace)
    logs, result = _reconcile_logs(kube, repo, namespace, tmp_path)
    assert "rendered" in [e["event"] for e in logs]
    assert result.run.counts["created"] == 1

    svc = "shop/base/service.yaml"
    repo.write(svc, (repo.path / svc).read_text().replace("targetPort: 8080", "targetPort: 8443"))
    repo.commit("new port")
    logs, result = _reconcile_logs(kube, repo, namespace, tmp_path)
    assert "rendered" in [e["event"] for e in logs]  # a new commit: full path
    assert result.run.counts["configured"] == 1


def test_source_is_recorded_only_for_a_complete_in_sync_set(kube: Kube, namespace: str) -> None:
    opts = SyncOptions(
        app="fp", namespace=namespace, record_fingerprints=True, source_key="commit-1"
    )
    settle(kube, opts)
    parent = kube.get(f"/api/v1/namespaces/{namespace}/configmaps/gitops-nb.fp")
    assert fingerprint.decode(parent).source == "commit-1"
    assert Engine(kube).quick_check(opts) is not None
    assert (
        Engine(kube).quick_check(SyncOptions(app="fp", namespace=namespace, source_key="commit-2"))
        is None
    )
    # One object cannot be applied (immutable selector): the set is incomplete.
    broken = manifests()
    dep = json.loads(json.dumps(broken[-1].obj))
    dep["spec"]["selector"]["matchLabels"]["app"] = "t"
    dep["spec"]["template"]["metadata"]["labels"]["app"] = "t"
    broken[-1] = Manifest(dep, "deploy.yaml")
    changes = Engine(kube).apply(
        broken,
        SyncOptions(app="fp", namespace=namespace, record_fingerprints=True, source_key="commit-3"),
    )
    assert [e.ref.name for e in changes.failed] == ["scaled"]
    parent = kube.get(f"/api/v1/namespaces/{namespace}/configmaps/gitops-nb.fp")
    assert fingerprint.decode(parent).source == "commit-1"  # not advanced past a failure
