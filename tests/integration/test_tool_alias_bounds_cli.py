"""Issue 13 item 4 through the CLI: an alias bomb in a Kustomize base or a chart's values is
refused with the anchor's file:line and exit 2 before kustomize or helm runs, and nothing is
written to the real API server."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from tests.gitrepo import GitRepo
from tests.kustomizekit import ANCHOR_LINE, CM, bomb, values_bomb

from .helpers import cli_flags


def nothing_written(kube: Kube, namespace: str, app: str) -> bool:
    ns = f"/api/v1/namespaces/{namespace}"
    return (
        kube.get_or_none(f"{ns}/configmaps/harmless") is None
        and kube.get_or_none(f"{ns}/configmaps/gitops-nb.{app}") is None
        and not kube.list(f"/apis/apps/v1/namespaces/{namespace}/deployments")
    )


def test_kustomize_base_alias_bomb_is_exit_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/kustomization.yaml", "resources:\n- ../base\n")
    repo.write("base/kustomization.yaml", "resources:\n- cm.yaml\n- bomb.yaml\n")
    repo.write("base/cm.yaml", CM.format(name="harmless"))
    repo.write("base/bomb.yaml", bomb())
    repo.commit("a 106 KB alias bomb in a base")
    f = cli_flags(cluster, repo.path, namespace, tmp_path / "cache", app="web")
    for verb in ("diff", "apply"):
        code = main([verb, *f])
        _out, err = capsys.readouterr()
        assert code == 2, err
        assert f"base/bomb.yaml:{ANCHOR_LINE}" in err and "KiB of extra data" in err
    assert nothing_written(kube, namespace, "web")


def test_chart_values_alias_bomb_is_exit_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("chart-web", "apps/web")
    values = repo.path / "apps/web/values.yaml"
    text, line = values_bomb(values.read_text())
    repo.write("apps/web/values.yaml", text)
    repo.commit("an alias bomb in the chart's values")
    f = cli_flags(cluster, repo.path, namespace, tmp_path / "cache", path="apps/web", app="web")
    code = main(["apply", *f])
    _out, err = capsys.readouterr()
    assert code == 2, err
    assert f"apps/web/values.yaml:{line}" in err and "KiB of extra data" in err
    assert nothing_written(kube, namespace, "web")
