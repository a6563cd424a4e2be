"""Kustomize ``helmCharts``: rendered with ``--enable-helm`` and the pinned helm from a chart
vendored in the repository, never pulled; followed by history through the chart home and
values files. The oracle is the real ``kubectl kustomize --enable-helm``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_nb.binaries import HELM, find_binary
from gitops_nb.cli import main
from gitops_nb.config import HelmSettings
from gitops_nb.errors import RenderError
from gitops_nb.history.appchanges import commits, resource_changes
from gitops_nb.source import render
from gitops_nb.source.helm import Capabilities, ChartContext
from gitops_nb.source.kustomization import DirectoryTree, closure
from tests.gitrepo import FIXTURES, GitRepo

APP = "apps/web"
KUSTOMIZATION = (
    "helmCharts:\n"
    "- name: web\n"
    "  releaseName: web\n"
    "  namespace: shop\n"
    "  includeCRDs: true\n"
    "  valuesFile: values-prod.yaml\n"
    "  valuesInline:\n"
    "    replicaCount: {replicas}\n"
    "helmGlobals:\n"
    "  chartHome: ../../charts\n"
)
CAPS = Capabilities(
    "v1.36.3", ("v1", "apps/v1", "autoscaling/v2", "autoscaling/v2/HorizontalPodAutoscaler")
)


def write_app(root: Path, replicas: int = 3) -> None:
    shutil.copytree(FIXTURES / "chart-web", root / "charts/web", dirs_exist_ok=True)
    (root / APP).mkdir(parents=True, exist_ok=True)
    (root / APP / "values-prod.yaml").write_text("config:\n  greeting: from-values-file\n")
    (root / APP / "kustomization.yaml").write_text(KUSTOMIZATION.format(replicas=replicas))


def oracle(root: Path) -> list[dict[str, Any]]:
    """The real ``kubectl kustomize --enable-helm`` with the pinned helm."""
    out = subprocess.run(
        [
            str(find_binary("kubectl")),
            "kustomize",
            "--enable-helm",
            "--helm-command",
            str(find_binary(HELM)),
            str(root / APP),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def key(o: dict[str, Any]) -> str:
    return f"{o['kind']}/{o['metadata']['name']}"


def test_helm_charts_render_like_kubectl_kustomize_minus_test_and_delete_hooks(
    tmp_path: Path,
) -> None:
    write_app(tmp_path)
    ours = {key(m.obj): m.obj for m in render(tmp_path, APP)}
    hook = "helm.sh/hook"
    expected = {
        key(o): o
        for o in oracle(tmp_path)
        if (o["metadata"].get("annotations") or {}).get(hook) not in ("test", "pre-delete")
    }
    assert ours == expected  # object for object; the test and pre-delete hooks are dropped
    assert "Pod/web-web-test" not in ours and "ConfigMap/web-web-pre-install" in ours
    assert ours["Deployment/web-web"]["spec"]["replicas"] == 3  # valuesInline
    assert ours["ConfigMap/web-web"]["data"]["GREETING"] == "from-values-file"
    assert "CustomResourceDefinition/widgets.example.com" in ours  # includeCRDs


def test_the_cluster_capabilities_reach_the_chart(tmp_path: Path) -> None:
    write_app(tmp_path)
    caps = ChartContext(HelmSettings(), "ignored", "ignored", lambda: CAPS)
    cm = next(m for m in render(tmp_path, APP, chart=caps) if key(m.obj) == "ConfigMap/web-web")
    assert cm.obj["data"]["KUBE_VERSION"] == "v1.36.3"  # helm's default is newer
    # the HPA is gated on a served `autoscaling/v2/HorizontalPodAutoscaler`
    assert "HorizontalPodAutoscaler" in [m.obj["kind"] for m in render(tmp_path, APP, chart=caps)]
    assert "HorizontalPodAutoscaler" not in [
        m.obj["kind"] for m in render(tmp_path, APP)
    ]  # gated on autoscaling/v2 in the API versions


def test_a_chart_that_is_not_vendored_is_refused_before_any_pull(tmp_path: Path) -> None:
    write_app(tmp_path)
    k = tmp_path / APP / "kustomization.yaml"
    # a repo and a version: Kustomize would `helm pull` into charts/web-1.0.0/web
    k.write_text("helmCharts:\n- name: web\n  repo: https://127.0.0.1:9/charts\n  version: 1.0.0\n")
    with pytest.raises(RenderError) as info:
        render(tmp_path, APP)
    assert info.value.location == f"{APP}/kustomization.yaml:2"  # its `- name: web`
    assert f"not vendored at {APP}/charts/web-1.0.0/web/" in str(info.value)
    assert "https://127.0.0.1:9/charts" in str(info.value)
    assert not (tmp_path / APP / "charts").exists()  # nothing was pulled
    # vendored where Kustomize looks for it: rendered
    shutil.copytree(FIXTURES / "chart-web", tmp_path / APP / "charts/web-1.0.0/web")
    assert any(m.obj["kind"] == "Deployment" for m in render(tmp_path, APP))


def test_the_chart_home_and_values_files_are_in_the_closure(tmp_path: Path) -> None:
    write_app(tmp_path)
    cl = closure(DirectoryTree(tmp_path), APP)
    assert cl.files == {f"{APP}/kustomization.yaml", "charts", f"{APP}/values-prod.yaml"}
    assert [(c.name, c.chart_dir) for c in cl.helm_charts] == [("web", "charts/web")]


def test_history_follows_values_via_the_kustomization_the_values_file_and_the_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = GitRepo(tmp_path / "repo")
    write_app(repo.path)
    first = repo.commit("web via kustomize helmCharts")
    (repo.path / APP / "kustomization.yaml").write_text(KUSTOMIZATION.format(replicas=5))
    inline = repo.commit("web: 5 replicas (valuesInline)")
    (repo.path / APP / "values-prod.yaml").write_text("config:\n  greeting: hi\n")
    values = repo.commit("web: greeting (values file)")
    svc = repo.path / "charts/web/templates/service.yaml"
    svc.write_text(svc.read_text().replace("targetPort: 8080", "targetPort: 9090"))
    template = repo.commit("web chart: target port")
    repo.write("README.md", "docs\n")
    repo.commit("docs only")
    repo.write("charts/web/README.md", "chart docs\n")
    chart_docs = repo.commit("chart docs: not rendered")

    df = commits(repo.path, "main", APP)
    assert list(df["commit"]) == [chart_docs, template, values, inline, first]
    assert list(df["effect"]) == ["none", "changed", "changed", "changed", "changed"]
    changes = resource_changes(repo.path, "main", APP)
    assert "error" not in set(changes["change"])
    got = {
        (c, k, tuple(f))
        for c, k, f, ch in zip(
            changes["commit"], changes["kind"], changes["fields"], changes["change"], strict=True
        )
        if ch == "modified"
    }
    assert (inline, "Deployment", ("spec.replicas",)) in got
    assert (values, "ConfigMap", ("data.GREETING",)) in got
    assert (template, "Service", ("spec.ports[port=80].targetPort",)) in got
    # the same through the CLI
    args = ["history", "commits", "--repo", str(repo.path), "--path", APP, "-o", "json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["commit"], r["effect"]) for r in rows][:2] == [
        (chart_docs, "none"),
        (template, "changed"),
    ]
