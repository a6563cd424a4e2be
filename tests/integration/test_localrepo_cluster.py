"""diff, apply and reconcile from every kind of local clone, against the real API server."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.errors import ExitCode
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.records.configmaps import ConfigMapStore
from tests.gitrepo import CLONE_KINDS, local_clone

from . import jobrunner as jr
from .helpers import cli_flags


@pytest.mark.parametrize("kind", CLONE_KINDS)
def test_diff_apply_reconcile_from_any_local_clone(
    kind: str,
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    repo, tip, _ = local_clone(kind, tmp_path)
    f = cli_flags(cluster, repo, namespace, tmp_path / "c", app="clone")
    assert main(["diff", *f]) == ExitCode.DRIFT
    assert main(["apply", *f]) == ExitCode.OK
    assert main(["diff", *f]) == ExitCode.OK
    capsys.readouterr()
    assert kube.get(f"/api/v1/namespaces/{namespace}/configmaps/c")["data"]["k"] == "2"
    args = jr.reconcile_args(Path(repo), "app", "clone", namespace, tmp_path / "r")
    if kind == "file-url":
        args[args.index("--repo") + 1] = repo  # keep the URL, not a Path of it
    code, logs, err = jr.run(args, jr.admin_env(cluster))
    assert code == ExitCode.OK, (logs, err)
    [run] = ConfigMapStore(kube, namespace).read("clone")
    assert run.revision is not None and run.revision.commit == tip
