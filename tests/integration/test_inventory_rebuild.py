"""Issue 13 item 14: a deleted ApplySet parent must not silently orphan its members.

``diff`` warns that the inventory is missing (and still shows what Git dropped), and the
next reconcile rebuilds the parent from the labelled members our run records list, so a
member removed from Git is pruned; a labelled object our records never listed is not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.engine.applyset import PART_OF, ApplySet, recorded_group_kinds
from gitops_nb.errors import ExitCode
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from tests.gitrepo import GitRepo

from . import jobrunner as jr
from .helpers import cli_flags

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\ndata:\n  k: v\n"
SVC = (
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: {}\n"
    "spec:\n  ports:\n  - port: 80\n  selector:\n    app: x\n"
)


def test_deleted_parent_warned_and_rebuilt_from_records(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    for name in ("a", "b", "c"):
        repo.write(f"app/cm-{name}.yaml", CM.format(f"cm-{name}"))
    repo.write("app/svc.yaml", SVC.format("web"))
    repo.commit("three configmaps and a service")
    args = jr.reconcile_args(repo.path, "app", "inv", namespace, tmp_path / "c")
    env = jr.admin_env(cluster)
    assert jr.run(args, env)[0] == ExitCode.OK

    aset = ApplySet("inv", namespace)
    # Someone labels a Service of their own with our ApplySet id: not ours to prune.
    stranger = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "stranger", "labels": {PART_OF: aset.id}},
        "spec": {"ports": [{"port": 80}]},
    }
    kube.create(f"/api/v1/namespaces/{namespace}/services", stranger)

    kube.delete(aset.path)  # the inventory is gone
    repo.remove("app/svc.yaml")
    repo.commit("drop the service")

    flags = cli_flags(cluster, repo.path, namespace, tmp_path / "c2", app="inv")
    code = main(["diff", *flags, "-o", "json"])
    out, err = capsys.readouterr()
    assert code == ExitCode.DRIFT
    assert "warning: ApplySet parent" in err and "is missing" in err
    statuses = {r["name"]: r["status"] for r in json.loads(out)["resources"]}
    assert statuses.get("web") == "Extraneous"  # what Git dropped is still shown
    assert "stranger" not in statuses

    code, logs, stderr = jr.run(args, env)
    assert code == ExitCode.OK, (logs, stderr)
    assert any(e["event"] == "inventory-missing" for e in logs)
    parent = kube.get(aset.path)
    assert "ConfigMap" in recorded_group_kinds(parent)
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/services/web") is None  # pruned
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/services/stranger") is not None

    code = main(["diff", *flags])
    _out, err = capsys.readouterr()
    assert code == ExitCode.OK and "warning" not in err
