"""The reconciler records health (kwok nodes): a bad rollout is Degraded, the fix restores it;
a StatefulSet scaled by hand shows drift and health, and the correcting run restores both."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from gitops_nb.config import AppConfig
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import EVENTS
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import DiffStatus, HealthStatus, Mode, RunHealth, SyncRun
from gitops_nb.records.files import read_dir
from gitops_nb.usecases.jsonlog import json_logger
from gitops_nb.usecases.reconcile import reconcile_app
from tests.gitrepo import GitRepo

from .helpers import kubectl
from .workloads import deployment, write_app


class Runner:
    """Reconciles app ``web`` from ``repo`` (path ``app``) with records on disk."""

    def __init__(self, kube: Kube, repo: GitRepo, ns: str, tmp_path: Path) -> None:
        self.kube, self.repo, self.ns, self.tmp = kube, repo, ns, tmp_path
        self.codes: list[int] = []
        self.log = json_logger("test.health", open(tmp_path / "log.jsonl", "a"))  # noqa: SIM115

    def __call__(self, mode: Mode = Mode.CORRECT, wait: bool = True) -> SyncRun:
        cfg = AppConfig(
            app="web",
            repo=str(self.repo.path),
            path="app",
            namespace=self.ns,
            mode=mode,
            history_dir=str(self.tmp / "history"),
            cache_dir=str(self.tmp / "cache"),
            wait=wait,
            wait_timeout="30s",
        ).validate()
        result = reconcile_app(cfg, self.log, kube=self.kube)
        assert result.run is not None
        self.codes.append(result.exit_code)
        return result.run


def _reasons(kube: Kube, ns: str) -> list[str]:
    return [e["reason"] for e in kube.list(EVENTS.collection_path(ns))]


def test_bad_rollout_is_degraded_and_the_fix_restores_health(
    node_kube: Kube, node_namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    write_app(repo, deployment("web"))
    run = Runner(node_kube, repo, node_namespace, tmp_path)
    codes = run.codes
    first = run()
    assert codes == [0] and first.health is RunHealth.HEALTHY and first.healthy_at

    write_app(repo, deployment("web", simulate="crash-loop", deadline=3), message="bad")
    bad = run()
    assert codes[-1] == 7
    assert bad.health is RunHealth.DEGRADED and bad.healthy_at is None
    [web] = [o for o in bad.objects if o.ref.kind == "Deployment"]
    assert web.health is not None
    assert (web.health.status, web.health.reason) == (
        HealthStatus.FAILED,
        "ProgressDeadlineExceeded",
    )
    assert "HealthDegraded" in _reasons(node_kube, node_namespace)

    write_app(repo, deployment("web", deadline=3), message="revert the bad rollout")
    fixed = run()
    assert codes[-1] == 0 and fixed.health is RunHealth.HEALTHY
    assert "HealthRestored" in _reasons(node_kube, node_namespace)
    # the records on disk say the same
    recorded = read_dir(tmp_path / "history", "web")
    assert [r.health for r in recorded] == [
        RunHealth.HEALTHY,
        RunHealth.DEGRADED,
        RunHealth.HEALTHY,
    ]


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_statefulset_scaled_by_hand_shows_drift_and_health_and_is_restored(
    node_cluster: LocalCluster, node_kube: Kube, node_namespace: str, tmp_path: Path
) -> None:
    """One Pod per node (required anti-affinity on the hostname): Git asks for as many
    replicas as there are kwok nodes, so a replica added by hand can never be scheduled and
    the StatefulSet stays InProgress (LessReady) until the correcting run scales it back."""
    nodes = len(node_kube.list("/api/v1/nodes"))
    one_per_node = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": {"app": "db"}},
                    "topologyKey": "kubernetes.io/hostname",
                }
            ]
        }
    }
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": nodes,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "affinity": one_per_node,
                    "containers": [{"name": "db", "image": "postgres:17"}],
                },
            },
        },
    }
    repo = GitRepo(tmp_path / "repo")
    write_app(repo, sts)
    run = Runner(node_kube, repo, node_namespace, tmp_path)
    codes = run.codes
    first = run()
    assert first.health is RunHealth.HEALTHY
    [db] = first.objects
    assert db.health is not None and db.health.status is HealthStatus.CURRENT

    # scaled by hand to a replica that cannot become ready; the record is taken once the
    # controller has made that Pod (so the look sees counts, not an unobserved generation)
    kubectl(
        node_cluster, "-n", node_namespace, "scale", "statefulset/db", f"--replicas={nodes + 1}"
    )
    path = f"/apis/apps/v1/namespaces/{node_namespace}/statefulsets/db"

    def extra_pod_made() -> bool:
        live = node_kube.get(path)
        st = live.get("status") or {}
        observed = st.get("observedGeneration") == live["metadata"]["generation"]
        return observed and st.get("replicas") == nodes + 1

    _wait_for(extra_pod_made, "the StatefulSet controller to create the extra Pod")
    detect = run(Mode.DETECT, wait=False)
    assert codes[-1] == 1
    [db] = detect.objects
    assert db.status is DiffStatus.DRIFTED
    assert db.health is not None
    assert (db.health.status, db.health.reason) == (HealthStatus.IN_PROGRESS, "LessReady")
    assert f"Ready: {nodes}/{nodes + 1}" in db.health.message
    assert f"Pod db-{nodes}" in db.health.message  # the Pod that says why (unschedulable)
    assert detect.health is RunHealth.PROGRESSING

    fixed = run()
    assert codes[-1] == 0
    [db] = fixed.objects
    assert db.status is DiffStatus.DRIFTED  # what the correcting run found, then corrected
    assert db.health is not None and db.health.status is HealthStatus.CURRENT
    assert fixed.health is RunHealth.HEALTHY and fixed.healthy_at
    after = run(Mode.DETECT, wait=False)
    assert codes[-1] == 0 and after.objects[0].status is DiffStatus.IN_SYNC
    assert after.objects[0].health is not None
    assert after.objects[0].health.status is HealthStatus.CURRENT
    # the records on disk hold the same story: Current, InProgress after the hand scale,
    # Current again after the correcting run
    recorded = read_dir(tmp_path / "history", "web")
    statuses = [r.objects[0].health.status for r in recorded if r.objects[0].health]
    assert statuses == [
        HealthStatus.CURRENT,
        HealthStatus.IN_PROGRESS,
        HealthStatus.CURRENT,
        HealthStatus.CURRENT,
    ]
