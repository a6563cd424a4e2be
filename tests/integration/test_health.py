"""Health against a real API server, controllers, kube-scheduler and kwok nodes.

Workloads run on the ``node_cluster`` (2 simulated nodes); kwok's Stages make Pods labelled
``gitops-nb.io/simulate`` fail. Every address the nodes and Pods get is loopback.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_nb.cli import main
from gitops_nb.engine import SyncOptions
from gitops_nb.engine.wait import HealthReader
from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.kube.resources import NODES, PODS
from gitops_nb.kube.sharedlists import SharedLists
from gitops_nb.localcluster import LocalCluster, is_loopback, non_loopback
from gitops_nb.localcluster.nodes import SIMULATE_LABEL
from gitops_nb.model import HealthStatus, ObjectRef, RunHealth
from gitops_nb.source import SourceSpec
from gitops_nb.usecases.sync import apply_app
from tests.gitrepo import GitRepo
from tests.integration.workloads import deployment, write_app


@pytest.fixture
def app_repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def _apply(
    cluster: LocalCluster, repo: GitRepo, ns: str, tmp_path: Path, wait_s: float | None
) -> Any:
    return apply_app(
        SourceSpec(str(repo.path), "main", "app"),
        SyncOptions(app="web", namespace=ns),
        kubeconfig=cluster.kubeconfig,
        cache_dir=tmp_path / "cache",
        wait_s=wait_s,
    )


@contextlib.contextmanager
def counted_reader(cluster: LocalCluster) -> Iterator[tuple[Kube, HealthReader]]:
    """A fresh client (its request counter starts at this test) and a reader whose
    discovery is already loaded, so only health reads are counted."""
    kube = Kube.from_kubeconfig(cluster.kubeconfig)
    try:
        disco = Discovery(kube)
        disco.resource_for("apps/v1", "Deployment")
        yield kube, HealthReader(kube, disco)
    finally:
        kube.close()


def _ref(ns: str, kind: str, name: str, api_version: str = "apps/v1") -> ObjectRef:
    return ObjectRef(api_version, kind, ns, name)


def test_nodes_and_pod_ips_are_loopback(
    node_cluster: LocalCluster,
    node_kube: Kube,
    node_namespace: str,
    app_repo: GitRepo,
    tmp_path: Path,
) -> None:
    nodes = node_kube.list(NODES.collection_path())
    assert len(nodes) == 2
    for n in nodes:
        assert is_loopback(n["spec"]["podCIDR"]), n["spec"]
        addresses = [a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"]
        assert addresses and all(is_loopback(a) for a in addresses), addresses
        assert not n["spec"].get("taints")
    # every component's command line passes the loopback check, kwok's included
    lines = node_cluster.command_lines()
    assert {"kube-scheduler", "kwok"} <= set(lines)
    assert all(non_loopback(args) == [] for args in lines.values())
    assert any(a.startswith("--cidr=127.") for a in lines["kwok"])

    write_app(app_repo, deployment("web", replicas=3))
    result = _apply(node_cluster, app_repo, node_namespace, tmp_path, wait_s=60)
    assert result.exit_code == 0
    pods = node_kube.list(PODS.collection_path(node_namespace))
    assert len(pods) == 3
    for p in pods:
        st = p["status"]
        assert st["phase"] == "Running"
        ips = [st["podIP"], st["hostIP"], *(i["ip"] for i in st["podIPs"])]
        assert all(is_loopback(ip) for ip in ips), ips


def test_deployment_rolls_out_to_current_and_a_new_image_is_tracked(
    node_cluster: LocalCluster,
    node_kube: Kube,
    node_namespace: str,
    app_repo: GitRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_app(app_repo, deployment("web", min_ready=2))
    t0 = time.monotonic()
    result = _apply(node_cluster, app_repo, node_namespace, tmp_path, wait_s=60)
    first_rollout_s = time.monotonic() - t0
    assert result.exit_code == 0, result.health
    ref = _ref(node_namespace, "Deployment", "web")
    assert result.health is not None and result.health.health is RunHealth.HEALTHY
    assert result.health.objects[ref].status is HealthStatus.CURRENT
    assert result.health.healthy_at is not None
    assert first_rollout_s < 30

    # a new image: InProgress (minReadySeconds holds it there 2s), then Current
    write_app(app_repo, deployment("web", image="nginx:1.27.4", min_ready=2), message="bump")
    result = _apply(node_cluster, app_repo, node_namespace, tmp_path, wait_s=None)
    assert result.health is None  # no wait: no health look
    reader = HealthReader(node_kube, Discovery(node_kube))
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        h = reader.read(ref)
        if not seen or seen[-1] != h.status:
            seen.append(h.status)
        if h.status is HealthStatus.CURRENT:
            break
        time.sleep(0.2)
    assert seen[0] is HealthStatus.IN_PROGRESS and seen[-1] is HealthStatus.CURRENT, seen

    # diff shows health next to sync status: JSON per resource, a HEALTH column in tables
    flags = ["--repo", str(app_repo.path), "--path", "app", "--app", "web"]
    flags += ["--namespace", node_namespace, "--kubeconfig", str(node_cluster.kubeconfig)]
    flags += ["--cache-dir", str(tmp_path / "cache")]
    assert main(["diff", *flags, "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [web] = doc["resources"]
    assert web["status"] == "InSync" and web["health"]["status"] == "Current"
    assert web["health"]["message"] == "Deployment is available. Replicas: 2"
    assert main(["diff", *flags]) == 0
    assert "HEALTH" in capsys.readouterr().out


def test_crash_looping_pods_make_apply_wait_exit_7(
    node_cluster: LocalCluster,
    node_kube: Kube,
    node_namespace: str,
    app_repo: GitRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_app(app_repo, deployment("web", replicas=1, simulate="crash-loop", deadline=3))
    argv = [
        "apply",
        "--repo",
        str(app_repo.path),
        "--path",
        "app",
        "--app",
        "web",
        "--namespace",
        node_namespace,
        "--kubeconfig",
        str(node_cluster.kubeconfig),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--wait",
        "--timeout",
        "20s",
    ]
    t0 = time.monotonic()
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 7, (out, err)
    assert time.monotonic() - t0 < 15  # Failed ends the wait before the timeout
    assert f"Deployment/{node_namespace}/web" in err
    assert "Failed ProgressDeadlineExceeded" in err and "an object Failed" in err
    assert "Pod web-" in err and "ContainerCrashLooping" in err  # why, from its Pods
    assert "HEALTH" in out and "Failed" in out
    # the Pod itself is Failed for the reason kstatus gives
    reader = HealthReader(node_kube, Discovery(node_kube))
    pods = node_kube.list(PODS.collection_path(node_namespace))
    assert pods
    pod = reader.read(_ref(node_namespace, "Pod", pods[0]["metadata"]["name"], "v1"))
    assert (pod.status, pod.reason) == (HealthStatus.FAILED, "ContainerCrashLooping")

    # JSON: per-object health and the run's health
    code = main([*argv[:-3], "--wait", "--timeout", "2s", "-o", "json"])
    out, _ = capsys.readouterr()
    assert code == 7
    doc = yaml.safe_load(out)
    assert doc["health"] == str(RunHealth.DEGRADED)
    entry = next(e for e in doc["entries"] if e["kind"] == "Deployment")
    assert entry["health"]["status"] == "Failed"


@pytest.mark.parametrize(
    ("simulate", "reason", "message"),
    [
        ("image-pull-error", "PodPending", "web ImagePullBackOff"),
        ("not-ready", "PodRunningNotReady", "Pod is running but is not Ready"),
    ],
)
def test_other_failures_keep_pods_in_progress_with_the_reason(
    node_kube: Kube, node_namespace: str, simulate: str, reason: str, message: str
) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {SIMULATE_LABEL: simulate}},
        "spec": {"containers": [{"name": "web", "image": "nginx:nope"}]},
    }
    node_kube.create(PODS.collection_path(node_namespace), pod)
    reader = HealthReader(node_kube, Discovery(node_kube))
    ref = _ref(node_namespace, "Pod", "p", "v1")
    deadline = time.monotonic() + 30
    h = reader.read(ref)
    while time.monotonic() < deadline and (h.reason, message in h.message) != (reason, True):
        time.sleep(0.2)
        h = reader.read(ref)
    assert h.status is HealthStatus.IN_PROGRESS
    assert h.reason == reason and message in h.message
    time.sleep(1.5)  # and it stays that way: the stage is applied once, not undone
    assert reader.read(ref).reason == reason


def test_job_completes_and_unbound_pvc_times_out(
    node_cluster: LocalCluster,
    node_kube: Kube,
    node_namespace: str,
    app_repo: GitRepo,
    tmp_path: Path,
) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "m", "image": "busybox:1.36"}],
                }
            }
        },
    }
    write_app(app_repo, job)
    result = _apply(node_cluster, app_repo, node_namespace, tmp_path, wait_s=60)
    assert result.exit_code == 0
    assert result.health is not None
    ref = _ref(node_namespace, "Job", "migrate", "batch/v1")
    assert result.health.objects[ref].status is HealthStatus.CURRENT  # started is Current
    reader = HealthReader(node_kube, Discovery(node_kube))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "Completed" not in reader.read(ref).message:
        time.sleep(0.3)
    h = reader.read(ref)
    assert (h.status, h.message) == (HealthStatus.CURRENT, "Job Completed. succeeded: 1/1")

    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    write_app(app_repo, job, pvc, message="pvc")
    result = _apply(node_cluster, app_repo, node_namespace, tmp_path, wait_s=2)
    assert result.exit_code == 7
    assert result.health is not None and result.health.timed_out
    [(ref, h)] = result.health.unhealthy
    assert ref.kind == "PersistentVolumeClaim"
    assert (h.status, h.reason) == (HealthStatus.IN_PROGRESS, "NotBound")
    assert result.health.health is RunHealth.DEGRADED


def test_many_objects_are_judged_with_a_list_per_kind_and_no_read_of_statusless_ones(
    node_cluster: LocalCluster,
    node_kube: Kube,
    node_namespace: str,
    app_repo: GitRepo,
    tmp_path: Path,
) -> None:
    """A no-op must not cost a GET per object: 6 Deployments are one LIST, ConfigMaps the
    run saw are Current without a read, and only what is not known to exist is read."""
    cms = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}} for i in range(6)
    ]
    deps = [deployment(f"web-{i}", replicas=1) for i in range(6)]
    write_app(app_repo, *deps, *cms)
    result = _apply(node_cluster, app_repo, node_namespace, tmp_path, wait_s=60)
    assert result.exit_code == 0, result.health
    dep_refs = [_ref(node_namespace, "Deployment", f"web-{i}") for i in range(6)]
    cm_refs = [_ref(node_namespace, "ConfigMap", f"cm-{i}", "v1") for i in range(6)]
    node_kube.delete(f"/api/v1/namespaces/{node_namespace}/configmaps/cm-0")  # by hand

    with counted_reader(node_cluster) as (kube, reader):
        before = kube.requests
        # cm-1..5 were seen by the run; cm-0 was not (it is read, and found gone)
        got = reader.read_all([*dep_refs, *cm_refs], present=set(cm_refs[1:]))
        assert kube.requests - before == 2  # one LIST of Deployments, one GET of cm-0
    assert all(got[r].status is HealthStatus.CURRENT for r in dep_refs), got
    assert all(got[r].status is HealthStatus.CURRENT for r in cm_refs[1:])
    assert got[cm_refs[0]].status is HealthStatus.NOT_FOUND


def test_listed_workloads_that_are_not_current_ask_one_pod_list_why(
    node_cluster: LocalCluster,
    node_kube: Kube,
    node_namespace: str,
    app_repo: GitRepo,
    tmp_path: Path,
) -> None:
    """Five Deployments whose Pods never get Ready: one LIST of them, one LIST of the
    namespace's Pods, and each Deployment names its own Pod's reason."""
    write_app(
        app_repo, *(deployment(f"slow-{i}", replicas=1, simulate="not-ready") for i in range(5))
    )
    assert _apply(node_cluster, app_repo, node_namespace, tmp_path, wait_s=None).exit_code == 0
    refs = [_ref(node_namespace, "Deployment", f"slow-{i}") for i in range(5)]
    with counted_reader(node_cluster) as (kube, reader):
        deadline = time.monotonic() + 60
        while True:  # until every Deployment has a Pod that kwok runs (not Ready)
            before = kube.requests
            got = reader.read_all(refs, present=set(refs))
            sent = kube.requests - before
            if all("PodRunningNotReady" in got[r].message for r in refs):
                break
            assert time.monotonic() < deadline, got
            time.sleep(0.5)
    assert sent == 2, sent  # the Deployments, then the Pods
    for i, r in enumerate(refs):
        assert got[r].status is HealthStatus.IN_PROGRESS
        assert f"Pod slow-{i}-" in got[r].message  # its own Pod, not a neighbour's

    # A fleet's apps read from shared LISTs: still two requests for all of them, however
    # many apps ask, and each Deployment still names its own Pod
    with counted_reader(node_cluster) as (kube, reader):
        shared = SharedLists()
        before = kube.requests
        for r in refs:  # one app per Deployment
            fleet_app = HealthReader(kube, reader.discovery, snapshot=shared)
            health = fleet_app.read_all([r], present={r})
            assert health[r].status is HealthStatus.IN_PROGRESS
            assert f"Pod {r.name}-" in health[r].message, health
        assert kube.requests - before == 2  # the Deployments, then the Pods, once
