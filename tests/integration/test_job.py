"""`gitops-nb reconcile` as a subprocess against the real control plane."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from gitops_nb.errors import ExitCode
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import (
    Action,
    DiffStatus,
    Manifest,
    Mode,
    ObjectRef,
    Outcome,
    SyncRun,
)
from gitops_nb.records.configmaps import ConfigMapStore, encode
from tests.factories import change, drifted, in_sync, sync_run
from tests.gitrepo import GitRepo

from . import jobrunner as jr
from .helpers import kubectl


def many_configmaps(repo: GitRepo, n: int, value: str = "v1") -> None:
    docs = [
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:04d}\ndata:\n  k: {value}\n"
        for i in range(n)
    ]
    repo.write("big/configmaps.yaml", "---\n".join(docs))


def records(kube: Kube, namespace: str, app: str = "shop") -> list[SyncRun]:
    return ConfigMapStore(kube, namespace).read(app)


def event_reasons(kube: Kube, namespace: str) -> set[str]:
    return {
        e["reason"]
        for e in kube.list(f"/api/v1/namespaces/{namespace}/events")
        if e.get("source", {}).get("component") == "gitops-nb"
    }


def test_correct_mode_reconciles_records_and_emits_events(
    cluster: LocalCluster, kube: Kube, namespace: str, repo: GitRepo, tmp_path: Path
) -> None:
    args = jr.reconcile_args(repo.path, "shop/overlays/prod", "shop", namespace, tmp_path / "c")
    env = jr.admin_env(cluster)
    code, logs, err = jr.run(args, env)
    assert code == ExitCode.OK, (logs, err)
    assert kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/prod-shop")
    [run] = records(kube, namespace)
    assert run.outcome is Outcome.SUCCEEDED and run.mode is Mode.CORRECT
    assert run.revision is not None and run.revision.commit == repo.git("rev-parse", "HEAD")
    assert run.counts["created"] == 3 and run.counts["desired"] == 3
    assert {e["event"] for e in logs} >= {
        "run-started",
        "rendered",
        "object",
        "recorded",
        "run-finished",
    }
    assert all(isinstance(e["ts"], str) for e in logs)

    # A new commit is applied; a revert rolls it back.
    svc = "shop/base/service.yaml"
    repo.write(svc, (repo.path / svc).read_text().replace("targetPort: 8080", "targetPort: 7070"))
    change = repo.commit("shop: port 7070")
    assert jr.run(args, env)[0] == ExitCode.OK
    svc_path = f"/api/v1/namespaces/{namespace}/services/prod-shop"
    assert kube.get(svc_path)["spec"]["ports"][0]["targetPort"] == 7070
    repo.revert(change)
    assert jr.run(args, env)[0] == ExitCode.OK
    assert kube.get(svc_path)["spec"]["ports"][0]["targetPort"] == 8080

    # Drift made with kubectl is corrected, and recorded with who made it.
    kubectl(cluster, "scale", "deployment/prod-shop", "--replicas=7", "-n", namespace)
    code, logs, _ = jr.run(args, env)
    assert code == ExitCode.OK
    dep = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/prod-shop")
    assert dep["spec"]["replicas"] == 3
    last = records(kube, namespace)[-1]
    drifted = [o for o in last.objects if o.status is DiffStatus.DRIFTED]
    assert [(o.ref.name, o.action) for o in drifted] == [("prod-shop", Action.CONFIGURED)]
    assert drifted[0].changes[0].path == "spec.replicas"
    assert (drifted[0].changes[0].manager or "").startswith("kubectl")
    assert any(e["event"] == "drift" for e in logs)
    assert {"DriftDetected", "DriftCorrected"} <= event_reasons(kube, namespace)

    # The same records, read back from the cluster by the history command.
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitops_nb.cli",
            "history",
            "timeline",
            "--app",
            "shop",
            "--namespace",
            namespace,
            "--kubeconfig",
            str(cluster.kubeconfig),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    episodes = [e for e in json.loads(out.stdout) if e["path"] == "spec.replicas"]
    # Seen and corrected by the last run; it resolves when a later run finds it gone.
    assert len(episodes) == 1 and episodes[0]["managers"].startswith("kubectl")


def test_detect_mode_records_drift_and_writes_nothing_else(
    cluster: LocalCluster, kube: Kube, namespace: str, repo: GitRepo, tmp_path: Path
) -> None:
    base = jr.reconcile_args(repo.path, "shop/overlays/prod", "shop", namespace, tmp_path / "c")
    env = jr.admin_env(cluster)
    assert jr.run(base, env)[0] == ExitCode.OK
    kubectl(cluster, "set", "image", "deployment/prod-shop", "shop=hotfix:9", "-n", namespace)
    code, _logs, _ = jr.run([*base, "--mode", "detect"], env)
    assert code == ExitCode.DRIFT
    dep = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/prod-shop")
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "hotfix:9"
    last = records(kube, namespace)[-1]
    assert last.mode is Mode.DETECT and last.outcome is Outcome.SUCCEEDED
    [obj] = [o for o in last.objects if o.status is DiffStatus.DRIFTED]
    assert obj.action is Action.SKIPPED and obj.changes[0].manager == "kubectl-set"
    assert last.counts["drifted"] == 1 and last.counts["configured"] == 0


def test_history_dir_and_prune_events(
    cluster: LocalCluster, kube: Kube, namespace: str, repo: GitRepo, tmp_path: Path
) -> None:
    hist = tmp_path / "history"
    args = jr.reconcile_args(
        repo.path,
        "shop/overlays/prod",
        "shop",
        namespace,
        tmp_path / "c",
        "--history-dir",
        str(hist),
    )
    env = jr.admin_env(cluster)
    assert jr.run(args, env)[0] == ExitCode.OK
    repo.remove("shop/base/service.yaml")
    kust = "shop/base/kustomization.yaml"
    repo.write(kust, (repo.path / kust).read_text().replace("  - service.yaml\n", ""))
    repo.commit("shop: drop the service")
    assert jr.run(args, env)[0] == ExitCode.OK
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/services/prod-shop") is None
    from gitops_nb.records.files import read_dir

    runs = read_dir(hist)
    assert [r.counts["pruned"] for r in runs] == [0, 1]
    assert records(kube, namespace) == []  # --history-dir replaces the ConfigMap store
    assert "Pruned" in event_reasons(kube, namespace)


def test_two_reconcilers_at_once_exactly_one_writes(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    r = GitRepo(tmp_path / "big")
    many_configmaps(r, 600)
    r.commit("600 configmaps")
    env = jr.admin_env(cluster)
    procs = [
        jr.start(jr.reconcile_args(r.path, "big", "big", namespace, tmp_path / f"c{i}"), env)
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=240)[0] for p in procs]  # drain pipes while waiting
    results = [(p.returncode, jr.parse(out)) for p, out in zip(procs, outputs, strict=True)]
    codes = sorted(c for c, _ in results)
    assert codes == [ExitCode.OK, ExitCode.LOCKED], results
    loser = next(logs for c, logs in results if c == ExitCode.LOCKED)
    assert [e["event"] for e in loser] == ["lease-held"]
    assert len(records(kube, namespace, "big")) == 1


def test_stale_lease_is_taken_over(
    cluster: LocalCluster, kube: Kube, namespace: str, repo: GitRepo, tmp_path: Path
) -> None:
    kube.create(
        f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "gitops-nb.shop"},
            "spec": {
                "holderIdentity": "crashed-pod",
                "leaseDurationSeconds": 15,
                "renewTime": "2020-01-01T00:00:00.000000Z",
            },
        },
    )
    args = jr.reconcile_args(repo.path, "shop/overlays/prod", "shop", namespace, tmp_path / "c")
    assert jr.run(args, jr.admin_env(cluster))[0] == ExitCode.OK
    lease = kube.get(f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/gitops-nb.shop")
    assert not lease["spec"].get("holderIdentity")  # released at the end


def test_fresh_lease_of_another_holder_blocks(
    cluster: LocalCluster, kube: Kube, namespace: str, repo: GitRepo, tmp_path: Path
) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    kube.create(
        f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "gitops-nb.shop"},
            "spec": {"holderIdentity": "other-pod", "leaseDurationSeconds": 60, "renewTime": now},
        },
    )
    args = jr.reconcile_args(repo.path, "shop/overlays/prod", "shop", namespace, tmp_path / "c")
    code, logs, _ = jr.run(args, jr.admin_env(cluster))
    assert code == ExitCode.LOCKED
    assert "other-pod" in logs[0]["error"]
    assert kube.get_or_none(f"/apis/apps/v1/namespaces/{namespace}/deployments/prod-shop") is None
    assert records(kube, namespace) == []


def test_sigterm_stops_cleanly_and_records_interrupted(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    r = GitRepo(tmp_path / "big")
    many_configmaps(r, 400)
    r.commit("400 configmaps")
    args = jr.reconcile_args(
        r.path, "big", "big", namespace, tmp_path / "c", "--history-dir", str(tmp_path / "h")
    )
    p = jr.start(args, jr.admin_env(cluster))
    jr.wait_for_line(p, "object")
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=120)
    assert p.returncode == ExitCode.INTERRUPTED
    from gitops_nb.records.files import read_dir

    [run] = read_dir(tmp_path / "h")
    assert run.outcome is Outcome.INTERRUPTED
    created = sum(1 for o in run.objects if o.action is Action.CREATED)
    assert 0 < created < 400
    assert run.counts["created"] == created
    lease = kube.get(f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/gitops-nb.big")
    assert not lease["spec"].get("holderIdentity")
    # The next run finishes the job.
    assert jr.run(args, jr.admin_env(cluster))[0] == ExitCode.OK
    assert (
        len(
            kube.list(
                f"/api/v1/namespaces/{namespace}/configmaps",
                label_selector="applyset.kubernetes.io/part-of",
            )
        )
        == 400
    )


def test_apiserver_outage_mid_run_fails_then_recovers(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    r = GitRepo(tmp_path / "big")
    many_configmaps(r, 1000)
    r.commit("1000 configmaps")
    args = jr.reconcile_args(r.path, "big", "big", namespace, tmp_path / "c")
    env = jr.admin_env(cluster)
    p = jr.start(args, env)
    jr.wait_for_line(p, "object")
    cluster.stop_apiserver()
    try:
        time.sleep(15)  # longer than the client's retry budget
    finally:
        cluster.start_apiserver()
    out, err = p.communicate(timeout=240)
    assert p.returncode in (ExitCode.TRANSIENT, ExitCode.INTERRUPTED), (out, err)
    [failed] = records(kube, namespace, "big")
    assert failed.outcome in (Outcome.FAILED, Outcome.INTERRUPTED)
    assert "API server" in (failed.error or "")
    assert jr.run(args, env)[0] == ExitCode.OK
    runs = records(kube, namespace, "big")
    assert runs[-1].outcome is Outcome.SUCCEEDED
    # Nothing half-owned: every object is ours and in sync, the parent lists its kind.
    from gitops_nb.engine import Engine, SyncOptions
    from gitops_nb.source.render import render

    report = Engine(kube).diff(render(r.path, "big"), SyncOptions(app="big", namespace=namespace))
    assert {e.status for e in report.items} == {DiffStatus.IN_SYNC}


def test_retention_and_large_records(kube: Kube, namespace: str) -> None:
    store = ConfigMapStore(kube, namespace)

    def run(i: int, n_objects: int) -> SyncRun:
        image = "spec.template.spec.containers[name=app].image"
        objs = []
        for j in range(n_objects):
            ref = ObjectRef("apps/v1", "Deployment", namespace, f"app-{j:05d}")
            if j % 10:
                objs.append(in_sync(ref))
                continue
            hand = change(image, f"img:{j}", "img:1", "kubectl-set", time="2026-11-28T00:00:00Z")
            objs.append(drifted(hand, ref=ref, action=Action.CONFIGURED))
        return sync_run(
            f"run{i:04d}abcdef",
            f"2026-11-28T00:{i:02d}:00.000Z",
            *objs,
            app="big",
            finished=f"2026-11-28T00:{i:02d}:30.000Z",
            mode=Mode.CORRECT,
            revision=None,
            counts={"desired": n_objects},
        )

    big = run(0, 8000)
    data, binary = encode(big)
    assert binary and not data  # compressed
    store.write(big)
    assert store.read("big")[0] == big  # fits and round-trips exactly
    for i in range(1, 6):
        store.write(run(i, 3))
    removed = store.trim("big", keep=3)
    assert removed == 3
    assert [r.run_id for r in store.read("big")] == [f"run{i:04d}abcdef" for i in (3, 4, 5)]


def test_reconciler_with_only_its_service_account_token(
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    app_namespace: str,
    repo: GitRepo,
    tmp_path: Path,
    relocated: list[Manifest],
    relocated_app: list[Manifest],
) -> None:
    """In-cluster-style config, the jobs/ and jobs/app/ RBAC, nothing else: the reconciler
    (in ``namespace``) keeps its books in the app's namespace and writes the app only as
    the app's ServiceAccount ``deployer``; sufficient and tight."""
    env, as_sa = jr.as_reconciler(
        cluster, kube, namespace, app_namespace, [*relocated, *relocated_app], tmp_path
    )

    ns = app_namespace
    args = jr.reconcile_args(
        repo.path,
        "shop/overlays/prod",
        "shop",
        ns,
        tmp_path / "c",
        "--as-service-account",
        "deployer",
    )
    code, logs, err = jr.run(args, env)
    assert code == ExitCode.OK, (logs, err)
    denied = [e for e in logs if "forbidden" in json.dumps(e).lower()]
    assert denied == [], denied  # no request was denied
    assert "forbidden" not in err.lower(), err
    [run] = records(kube, ns)
    assert run.outcome is Outcome.SUCCEEDED and run.counts["created"] == 3
    reasons = event_reasons(kube, ns)  # a first deploy: Git made every difference
    assert "Deployed" in reasons and not {"DriftDetected", "DriftCorrected"} & reasons
    kubectl(cluster, "scale", "deployment/prod-shop", "--replicas=4", "-n", ns)
    assert jr.run(args, env)[0] == ExitCode.OK
    messages = [
        e["message"]
        for e in kube.list(f"/api/v1/namespaces/{ns}/events")
        if e["reason"] == "DriftDetected"
    ]
    assert any(f"Deployment/{ns}/prod-shop" in m and "1 object" in m for m in messages)

    # A write outside the app's namespace is denied by the app's own rights, per object.
    kust = "shop/overlays/prod/kustomization.yaml"
    original = (repo.path / kust).read_text()

    def escape_to(target: str) -> None:
        repo.write(
            "shop/overlays/prod/escape.yaml",
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: escape\n  namespace: {target}\n",
        )
        repo.write(
            kust,
            original.replace(
                "resources:\n  - ../../base\n", "resources:\n  - ../../base\n  - escape.yaml\n"
            ),
        )
        repo.commit(f"try to write into {target}")

    escape_to("default")
    code, logs, _ = jr.run(args, env)
    assert code == ExitCode.ERROR, logs
    last = records(kube, ns)[-1]
    assert last.outcome is Outcome.FAILED
    escaped_list = [o for o in last.objects if o.ref.name == "prod-escape"]
    assert len(escaped_list) == 1, (last.error, [o.ref for o in last.objects], logs[-1])
    escaped = escaped_list[0]
    assert escaped.status is DiffStatus.ERROR and "forbidden" in (escaped.error or "").lower()
    assert f"system:serviceaccount:{ns}:deployer" in (escaped.error or "")
    assert kube.get_or_none("/api/v1/namespaces/default/configmaps/prod-escape") is None

    # Into the reconciler's own namespace: refused by self-protection before any write.
    escape_to(namespace)
    code, logs, _ = jr.run(args, env)
    assert code == ExitCode.ERROR, logs
    last = records(kube, ns)[-1]
    assert last.outcome is Outcome.FAILED and "self-protection" in (last.error or "")
    assert f"ConfigMap/{namespace}/prod-escape" in (last.error or "")
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/prod-escape") is None
    as_sa.close()
