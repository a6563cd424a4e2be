"""Reconciles with kubectl-made drift in between → the expected drift timeline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gitops_nb.config import AppConfig
from gitops_nb.history import deployments, drift_intervals, load_runs, runs, summary
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Mode
from gitops_nb.usecases.jsonlog import json_logger
from gitops_nb.usecases.reconcile import reconcile_app as reconcile
from tests.gitrepo import GitRepo

from .helpers import kubectl


def test_drift_timeline_from_real_reconciles(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("shop", "shop")
    repo.commit("shop")
    hist = tmp_path / "history"
    log = json_logger("test.e2e", open(tmp_path / "log.jsonl", "w"))  # noqa: SIM115

    def run(mode: Mode = Mode.CORRECT) -> None:
        cfg = AppConfig(
            app="shop",
            repo=str(repo.path),
            path="shop/overlays/prod",
            namespace=namespace,
            mode=mode,
            history_dir=str(hist),
            cache_dir=str(tmp_path / "cache"),
        ).validate()
        assert reconcile(cfg, log, kube=kube).run is not None

    ns = ["-n", namespace]
    run()  # 1: create
    kubectl(cluster, "scale", "deployment/prod-shop", "--replicas=6", *ns)
    run(Mode.DETECT)  # 2: sees replicas drift
    run(Mode.DETECT)  # 3: still there
    run()  # 4: sees it, corrects it
    run(Mode.DETECT)  # 5: clean → episode resolved
    kubectl(cluster, "set", "image", "deployment/prod-shop", "shop=hand:1", *ns)
    run(Mode.DETECT)  # 6: image drift opens
    kubectl(cluster, "set", "image", "deployment/prod-shop", "shop=ghcr.io/example/shop:1.1.0", *ns)
    run(Mode.DETECT)  # 7: reverted by hand
    kubectl(
        cluster,
        "patch",
        "service/prod-shop",
        *ns,
        "--type=merge",
        "-p",
        '{"spec":{"ports":[{"port":80,"targetPort":9999}]}}',
    )
    run(Mode.DETECT)  # 8: open at the end

    records = load_runs(history_dir=hist)
    # runs 2 and 3 saw the same drift and wrote nothing: one coalesced record stands for both
    assert [r.repeats for r in records] == [1, 2, 1, 1, 1, 1, 1]
    started = [t for r in records for t in dict.fromkeys((r.started, r.last_started))]
    assert len(started) == 8
    iv = drift_intervals(records)
    # The first run's Missing objects are a deployment, not drift: no whole-object episodes.
    assert (iv["path"] != "").all()
    assert len(deployments(records)) == 1
    fields = iv.sort_values("first_seen").reset_index(drop=True)
    assert list(fields["path"]) == [
        "spec.replicas",
        "spec.template.spec.containers[name=shop].image",
        "spec.ports[port=80,protocol=TCP].targetPort",
    ]
    replicas, image, port = (fields.iloc[i] for i in range(3))
    assert replicas["runs_seen"] == 3
    assert replicas["first_seen"].isoformat().startswith(started[1][:19])
    assert replicas["last_seen"].isoformat().startswith(started[3][:19])
    assert replicas["resolved_at"].isoformat().startswith(started[4][:19])
    assert replicas["resolution"] == "corrected by reconciler"
    assert replicas["managers"].startswith("kubectl")
    assert image["resolution"] == "reverted by hand" and image["managers"] == "kubectl-set"
    assert image["runs_seen"] == 1
    assert bool(port["open"]) and port["managers"] == "kubectl-patch"
    assert port["resolved_at"] is None or str(port["resolved_at"]) == "NaT"
    s = summary(runs(records), iv)
    assert s["success_rate"] == 1.0
    assert s["open_episodes"] == 1


def test_a_base_commit_reconciled_through_the_overlay_is_a_deployment_with_a_lead_time(
    kube: Kube, namespace: str, tmp_path: Path
) -> None:
    """Deployments and lead times follow what the overlay renders from: a commit touching
    only the shared base reaches production, is reconciled, and is the overlay's deployment."""
    from gitops_nb.history import commits, lead_times

    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("shop", "shop")
    init = repo.commit("shop")
    hist = tmp_path / "history"
    log = json_logger("test.e2e.base", open(tmp_path / "log.jsonl", "w"))  # noqa: SIM115
    app_path = "shop/overlays/prod"

    def run() -> None:
        cfg = AppConfig(
            app="shop",
            repo=str(repo.path),
            path=app_path,
            namespace=namespace,
            history_dir=str(hist),
            cache_dir=str(tmp_path / "cache"),
        ).validate()
        result = reconcile(cfg, log, kube=kube)
        assert result.run is not None and result.run.outcome.value == "succeeded", result.run

    run()
    service = tmp_path / "repo/shop/base/service.yaml"
    service.write_text("# the shop's service\n" + service.read_text())
    comment = repo.commit("base: a comment (no effect)")
    service.write_text(service.read_text().replace("targetPort: 8080", "targetPort: 9090"))
    base = repo.commit("base: target port 9090")  # touches only the shared base
    run()  # at the base commit, through the overlay
    assert (
        kube.get(f"/api/v1/namespaces/{namespace}/services/prod-shop")["spec"]["ports"][0][
            "targetPort"
        ]
        == 9090
    )
    repo.write("README.md", "docs\n")
    docs = repo.commit("docs, outside the overlay's closure")
    run()

    records = load_runs(history_dir=hist)
    deps = deployments(records).set_index("commit")
    assert bool(deps.loc[base, "effective"])
    assert any("prod-shop" in f and "targetPort" in f for f in deps.loc[base, "fields"]), deps.loc[
        base, "fields"
    ]
    assert deps.loc[base, "lead_time"] > pd.Timedelta(0)
    assert not bool(deps.loc[docs, "effective"])  # rendered, but changed nothing for prod

    history = commits(repo.path, "main", app_path)
    assert dict(zip(history["commit"], history["effect"], strict=True)) == {
        base: "changed",
        comment: "none",
        init: "changed",
    }
    lead = lead_times(history, runs(records)).set_index("commit")
    assert list(lead.index) == [base, init]  # the no-effect comment is no deployment
    assert lead.loc[base, "lead_time"] > pd.Timedelta(0)
    assert lead.loc[base, "applied_at"] == deps.loc[base, "first_seen"]
