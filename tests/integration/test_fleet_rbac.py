"""A fleet under least privilege: the shipped jobs/ and jobs/app/ RBAC, nothing else.

The reconciler holds only a token of its ServiceAccount; every app object is written as
``deployer``. Its bookkeeping (Leases listed once for all apps, records, the fleet's app
list, Events) must be allowed, and an app whose object ``deployer`` may not write fails on
its own while the others sync.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from gitops_nb.errors import ExitCode
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Manifest, Outcome
from gitops_nb.records.configmaps import ConfigMapStore
from tests.gitrepo import GitRepo

from . import jobrunner as jr
from .fleetkit import app_dir, cli, configmap, finished

ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: exec
rules: [{apiGroups: [""], resources: [pods/exec], verbs: [create]}]
"""
NAMES = ("alpha", "beta", "gamma", "delta")


def tally(err: str) -> dict[str, Any]:
    [line] = [json.loads(x) for x in err.splitlines() if '"event": "requests"' in x]
    return dict(line)


def test_fleet_as_the_reconcilers_service_account(
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    app_namespace: str,
    tmp_path: Path,
    relocated: list[Manifest],
    relocated_app: list[Manifest],
) -> None:
    env, as_sa = jr.as_reconciler(
        cluster, kube, namespace, app_namespace, [*relocated, *relocated_app], tmp_path
    )
    as_sa.close()
    ns = app_namespace
    repo = GitRepo(tmp_path / "repo")
    for name in NAMES:
        app_dir(repo, name)
    # edit (deployer's rights) holds no RBAC: the API server refuses this app's Role.
    app_dir(repo, "locked")
    repo.write("apps/locked/role.yaml", ROLE)
    repo.commit("four apps and one the app's ServiceAccount may not write")
    config = tmp_path / "fleet.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "repo": str(repo.path),
                "namespace": ns,  # records in ConfigMaps (the shipped default store)
                "serviceAccountName": "deployer",
                "policy": {"namespaces": [ns], "clusterKinds": []},
                "cacheDir": str(tmp_path / "cache"),
                "fleet": "rbac",
                "pruneRemovedApps": True,
                "generators": [{"directories": "apps/*", "namespace": ns}],
            }
        )
    )
    env = {**env, "GITOPS_NB_REQUEST_LOG": "1"}
    args = cli("reconcile", "--config", str(config))

    code, lines, err = jr.run(args, env)
    assert code == ExitCode.ERROR, err  # one app failed: the fleet says so …
    assert finished(lines)["apps"] == {**dict.fromkeys(NAMES, 0), "locked": 2}
    for name in NAMES:  # … and every other app synced as deployer
        assert configmap(kube, ns, f"cm-{name}")["data"] == {"k": "v1"}
        [run] = ConfigMapStore(kube, ns).read(name)
        assert run.outcome is Outcome.SUCCEEDED
    [failed] = ConfigMapStore(kube, ns).read("locked")
    assert failed.outcome is Outcome.FAILED
    [refused] = [o for o in failed.objects if o.ref.kind == "Role"]
    assert "forbidden" in (refused.error or "").lower()
    assert f"system:serviceaccount:{ns}:deployer" in (refused.error or "")
    assert (
        kube.get_or_none(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles/exec") is None
    )
    # The only refusal was the Role's: no bookkeeping request was denied.
    denied = [ln for ln in lines if "forbidden" in json.dumps(ln).lower()]
    assert {ln.get("app") for ln in denied} <= {"locked"}, denied
    # The fleet remembered its apps (a ConfigMap in the apps' namespace, as the reconciler).
    remembered = json.loads(configmap(kube, ns, "gitops-nb.fleet.rbac")["data"]["apps"])
    assert {a["name"] for a in remembered} == {*NAMES, "locked"}
    # The Leases of all apps came from one LIST (Role: list on leases), never a GET each.
    first = tally(err)["by"]
    assert first["list leases"] == 1 and "get leases" not in first, first

    code, lines, err = jr.run(args, env)  # steady state: the same, with no write
    assert code == ExitCode.ERROR, err
    assert finished(lines)["apps"] == {**dict.fromkeys(NAMES, 0), "locked": 2}
    noop = tally(err)["by"]
    assert noop["list leases"] == 1 and "get leases" not in noop, noop

    # A removed app is pruned as deployer (1 of 5 apps: under the fleet's guard).
    repo.remove("apps/gamma")
    repo.commit("gamma removed")
    code, lines, err = jr.run(args, env)
    assert code == ExitCode.ERROR, err  # still: locked
    assert finished(lines)["pruned"] == ["gamma"]
    assert configmap(kube, ns, "cm-gamma") is None
    assert configmap(kube, ns, "cm-alpha") is not None
    assert ConfigMapStore(kube, ns).read("gamma")[-1].trigger == "app-removed"
