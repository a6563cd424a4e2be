"""Fleets against the real control plane: generators, orphans, broken apps, drift, shards."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from gitops_nb.engine.applyset import PART_OF, ApplySet
from gitops_nb.fleet import apps as fleet_apps
from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Action, Cause, Outcome, SyncRun
from gitops_nb.records.files import read_dir
from gitops_nb.source.render import render
from tests.gitrepo import GitRepo

from . import jobrunner as jr
from .fleetkit import app_dir, cli, configmap, finished, fleet_config
from .helpers import REPO, kubectl, path_of


def runs(tmp: Path, app: str) -> list[SyncRun]:
    return read_dir(tmp / "history", app)


def removed_apps(config: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    """``gitops-nb apps --removed -o json``: the dry-run of removals."""
    out = subprocess.run(
        cli("apps", "--config", str(config), "--removed", "-o", "json"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


def test_generators_broken_app_added_and_orphaned_apps(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    for name in ("alpha", "beta", "gamma"):
        app_dir(repo, name)
    repo.write("apps/broken/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n")
    repo.write("namespaces/prod.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n")
    repo.commit("four apps, one broken")
    config = fleet_config(tmp_path, repo, namespace)
    env = jr.admin_env(cluster)

    listed = subprocess.run(
        cli("apps", "--config", str(config), "-o", "json"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    apps = {a["name"]: a for a in json.loads(listed.stdout)}
    assert set(apps) == {"alpha", "beta", "broken", "gamma"}
    assert apps["alpha"]["path"] == "apps/alpha" and apps["alpha"]["namespace"] == namespace
    assert configmap(kube, namespace, "cm-alpha") is None  # `apps` touches nothing

    code, lines, err = jr.run(cli("reconcile", "--config", str(config)), env)
    assert code == 2, err  # one broken app: the fleet says error …
    assert finished(lines)["apps"] == {"alpha": 0, "beta": 0, "broken": 2, "gamma": 0}
    for name in ("alpha", "beta", "gamma"):  # … and the others synced all the same
        assert configmap(kube, namespace, f"cm-{name}")["data"] == {"k": "v1"}
        assert [r.outcome for r in runs(tmp_path, name)] == [Outcome.SUCCEEDED]
    [failed] = runs(tmp_path, "broken")
    assert failed.outcome is Outcome.FAILED and "apps/broken/configmap.yaml" in (failed.error or "")

    repo.remove("apps/gamma")
    repo.remove("apps/broken")
    app_dir(repo, "delta")
    repo.commit("gamma and broken removed, delta added")
    code, lines, err = jr.run(cli("reconcile", "--config", str(config)), env)
    assert code == 0, err
    assert finished(lines)["apps"] == {"alpha": 0, "beta": 0, "delta": 0}
    assert finished(lines)["orphaned"] == ["gamma"]  # broken never got a parent: nothing left
    assert configmap(kube, namespace, "cm-delta") is not None
    assert configmap(kube, namespace, "cm-gamma") is not None  # orphaned, not pruned

    assert removed_apps(config, env) == [
        {
            "name": "gamma",
            "namespace": namespace,
            "shard": 0,
            "wouldPrune": False,  # pruneRemovedApps is off …
            "guard": None,  # … and 1 of 4 would pass the guard
            "why": "pruneRemovedApps: false: orphaned, objects left in place",
        }
    ]


def test_fifty_apps_with_drift_in_three(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    names = [f"app-{i:02d}" for i in range(50)]
    for name in names:
        app_dir(repo, name)
    repo.commit("fifty apps")
    config = fleet_config(tmp_path, repo, namespace, concurrency=8)
    env = jr.admin_env(cluster)
    code, lines, err = jr.run(cli("reconcile", "--config", str(config)), env, timeout=600)
    assert code == 0, err
    assert set(finished(lines)["apps"]) == set(names)

    def corrections() -> dict[str, tuple[str, int]]:
        events = kube.list(f"/api/v1/namespaces/{namespace}/events")
        return {
            e["metadata"]["uid"]: (e["involvedObject"]["name"], e.get("count") or 1)
            for e in events
            if e["reason"] == "DriftCorrected"
        }

    before = corrections()
    drifted = ["app-03", "app-17", "app-41"]
    for name in drifted:
        kubectl(
            cluster,
            "-n",
            namespace,
            "patch",
            "configmap",
            f"cm-{name}",
            "--type=merge",
            "-p",
            '{"data":{"k":"by-hand"}}',
        )
    code, lines, err = jr.run(cli("reconcile", "--config", str(config)), env, timeout=600)
    assert code == 0, err
    reported = sorted({ln["app"] for ln in lines if ln["event"] == "drift"})
    assert reported == drifted
    for name in names:
        last = runs(tmp_path, name)[-1]
        assert (last.counts.get("drifted", 0) > 0) == (name in drifted), name
        assert configmap(kube, namespace, f"cm-{name}")["data"] == {"k": "v1"}
    corrected = sorted(
        name for uid, (name, n) in corrections().items() if before.get(uid, ("", 0))[1] < n
    )
    assert corrected == [f"gitops-nb.{n}" for n in drifted]

    # Steady state: once the corrected apps have recorded their fingerprints again, every
    # app in sync at the same commit takes the fast path (no render).
    assert jr.run(cli("reconcile", "--config", str(config)), env, timeout=600)[0] == 0
    env_count = {**env, "GITOPS_NB_REQUEST_LOG": "1"}
    code, lines, err = jr.run(cli("reconcile", "--config", str(config)), env_count, timeout=600)
    assert code == 0, err
    assert not [ln for ln in lines if ln["event"] == "rendered"]
    [requests] = [json.loads(x)["count"] for x in err.splitlines() if '"requests"' in x]
    print(f"fleet no-op: {requests} requests for {len(names)} apps")
    # Per app only its Lease's take and hand-back; the members, parents, Leases and health
    # come from one LIST per kind for the whole run (was 364 for 50 apps before sharing).
    assert requests <= 2 * len(names) + 30


def test_shards_reconcile_every_app_exactly_once(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    names = [f"svc-{i:02d}" for i in range(12)]
    for name in names:
        app_dir(repo, name)
    repo.commit("twelve apps")
    config = fleet_config(tmp_path, repo, namespace, shards=3)
    procs = [
        jr.start(
            cli("reconcile", "--config", str(config)),
            jr.admin_env(cluster, {"JOB_COMPLETION_INDEX": str(i)}),
        )
        for i in range(3)
    ]
    shards = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        shards.append(set(finished(jr.parse(out))["apps"]))
    assert sum(len(s) for s in shards) == len(names)  # disjoint …
    assert set().union(*shards) == set(names)  # … and complete
    assert all(shards)  # 12 names over 3 shards: none empty with sha256
    for name in names:
        assert len(runs(tmp_path, name)) == 1, name  # reconciled exactly once

    # A single process over the same fleet finds everything the shards did: all in sync.
    single = fleet_config(tmp_path, repo, namespace, shards=1)
    code, lines, err = jr.run(
        cli("reconcile", "--config", str(single), "--mode", "detect"), jr.admin_env(cluster)
    )
    assert code == 0, err
    assert set(finished(lines)["apps"]) == set(names)
    assert not [ln for ln in lines if ln["event"] == "drift"]


def test_fleet_overlay_renders_an_indexed_hardened_cronjob_that_passes_dry_run(
    kube: Kube, namespace: str, tmp_path: Path
) -> None:
    shutil.copytree(REPO / "jobs", tmp_path / "jobs")
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "kustomization.yaml").write_text(
        yaml.safe_dump({"namespace": namespace, "resources": ["../jobs/overlays/fleet"]})
    )
    fleet = {m.obj["kind"]: m.obj for m in render(tmp_path, "test")}
    single = {m.obj["kind"]: m.obj for m in render(tmp_path, "jobs")}
    assert set(fleet) == {"ConfigMap", "CronJob"}
    job = fleet["CronJob"]["spec"]["jobTemplate"]["spec"]
    config = yaml.safe_load(fleet["ConfigMap"]["data"]["config.yaml"])
    assert job["completionMode"] == "Indexed"
    assert job["completions"] == job["parallelism"] == config["shards"]
    # one shard's permanent error fails its index, never the other shards
    assert {r["action"] for r in job["podFailurePolicy"]["rules"]} == {"FailIndex", "Ignore"}
    # the same hardened pod as the single-app CronJob
    assert job["template"] == single["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]
    for key in ("concurrencyPolicy", "startingDeadlineSeconds"):
        assert fleet["CronJob"]["spec"][key] == single["CronJob"]["spec"][key]
    # the config is a valid fleet config
    cfg_file = tmp_path / "fleet.yaml"
    cfg_file.write_text(fleet["ConfigMap"]["data"]["config.yaml"])
    assert fleet_apps.is_fleet(cfg_file)
    assert fleet_apps.load(cfg_file, {}).shards == config["shards"]
    disco = Discovery(kube)
    for obj in fleet.values():
        out = kube.apply(path_of(disco, obj), obj, field_manager="test", dry_run=True)
        assert out["metadata"]["name"] == obj["metadata"]["name"]
    assert kube.get_or_none(path_of(disco, fleet["CronJob"])) is None  # dry-run wrote nothing


def test_prune_removed_apps_is_guarded_across_the_fleet(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    names = ["a", "b", "c", "d", "e"]
    for name in names:
        app_dir(repo, name)
    repo.commit("five apps")
    config = fleet_config(tmp_path, repo, namespace, pruneRemovedApps=True)
    env = jr.admin_env(cluster)
    assert jr.run(cli("reconcile", "--config", str(config)), env)[0] == 0

    repo.remove("apps/a")  # one of five: 20 % of the fleet, under maxPruneRatio
    removed = repo.commit("a removed")
    [dry] = removed_apps(config, env)
    assert (dry["name"], dry["wouldPrune"], dry["guard"]) == ("a", True, None)
    assert configmap(kube, namespace, "cm-a") is not None  # a dry-run
    code, lines, err = jr.run(cli("reconcile", "--config", str(config)), env)
    assert code == 0, err
    assert (finished(lines)["pruned"], finished(lines)["orphaned"]) == (["a"], [])
    assert configmap(kube, namespace, "cm-a") is None
    assert configmap(kube, namespace, "gitops-nb.a") is None
    assert configmap(kube, namespace, "cm-b") is not None  # same namespace, other app
    # the removal is on the record: the app's last run lists what it deleted
    last = runs(tmp_path, "a")[-1]
    assert (last.trigger, last.outcome, last.counts["pruned"]) == (
        "app-removed",
        Outcome.SUCCEEDED,
        1,
    )
    assert {(o.ref.kind, o.ref.name, o.action, o.cause) for o in last.objects} == {
        ("ConfigMap", "cm-a", Action.PRUNED, Cause.GIT)
    }
    assert last.revision is not None and last.revision.commit == removed  # gone from there

    for name in ("b", "c", "d"):  # three of four: a mass removal, refused fleet-wide
        repo.remove(f"apps/{name}")
    repo.commit("b, c, d removed")
    dry = removed_apps(config, env)  # the dry-run says so before any reconcile
    assert [(r["name"], r["wouldPrune"]) for r in dry] == [("b", False), ("c", False), ("d", False)]
    assert {r["guard"] for r in dry} == {
        "3 of 4 remembered apps were removed (75% > 50%); refusing to prune them "
        "(allowMassPrune: true if intended)"
    }
    assert all(r["why"].startswith("refused by the fleet-wide mass-prune guard") for r in dry)
    code, lines, err = jr.run(cli("reconcile", "--config", str(config)), env)
    assert code == 2, err
    assert [ln["error"] for ln in lines if ln["event"] == "prune-removed-apps-refused"] == [
        "3 of 4 remembered apps were removed (75% > 50%); refusing to prune them "
        "(allowMassPrune: true if intended)"
    ]
    assert finished(lines)["orphaned"] == ["b", "c", "d"] and finished(lines)["pruned"] == []
    for name in ("b", "c", "d", "e"):
        assert configmap(kube, namespace, f"cm-{name}") is not None


def test_apps_sharing_a_namespace_never_take_or_prune_each_others_objects(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    names = [f"team-{i:02d}" for i in range(10)]
    for name in names:
        app_dir(repo, name)
    shared = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  k: {}\n"
    repo.write("apps/team-00/shared.yaml", shared.format("team-00"))
    repo.commit("ten apps in one namespace; team-00 owns ConfigMap shared")
    config = fleet_config(tmp_path, repo, namespace)
    env = jr.admin_env(cluster)
    assert jr.run(cli("reconcile", "--config", str(config)), env)[0] == 0
    owner = configmap(kube, namespace, "shared")["metadata"]["labels"][PART_OF]
    assert owner == ApplySet("team-00", namespace).id

    for name in names[1:4]:  # three other apps claim the same object
        repo.write(f"apps/{name}/shared.yaml", shared.format(name))
    repo.commit("team-01..03 claim ConfigMap shared")
    code, lines, err = jr.run(cli("reconcile", "--config", str(config)), env)
    assert code == 2, err  # the claims fail; nothing else does
    apps = finished(lines)["apps"]
    assert {n for n, c in apps.items() if c} == {"team-01", "team-02", "team-03"}
    after = configmap(kube, namespace, "shared")
    assert after["data"] == {"k": "team-00"}
    assert after["metadata"]["labels"][PART_OF] == owner
    for name in names:  # every app's own object is there, whatever its neighbours did
        assert configmap(kube, namespace, f"cm-{name}") is not None

    for name in names[1:4]:  # the claimants give up: they must not prune team-00's object
        repo.remove(f"apps/{name}/shared.yaml")
    repo.commit("claims withdrawn")
    code, lines, err = jr.run(cli("reconcile", "--config", str(config)), env)
    assert code == 0, err
    assert configmap(kube, namespace, "shared")["data"] == {"k": "team-00"}
    assert not [ln for ln in lines if ln.get("action") == "pruned"]
