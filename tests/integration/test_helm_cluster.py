"""A local Helm chart through diff, apply, prune and history against the real API server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from tests.gitrepo import GitRepo

from . import jobrunner as jr
from .helpers import cli_flags

APP = "apps/web"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def flags(cluster: LocalCluster, repo: GitRepo, namespace: str, tmp_path: Path) -> list[str]:
    f = cli_flags(cluster, repo.path, namespace, tmp_path / "cache", path=APP, app="web")
    return [*f, "--adopt"]  # the chart's CRD is cluster-scoped: another test's app may hold it


def edit(repo: GitRepo, rel: str, old: str, new: str) -> None:
    text = (repo.path / rel).read_text()
    assert old in text
    repo.write(rel, text.replace(old, new))


def test_chart_apply_diff_changes_prune_and_errors(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("chart-web", APP)
    repo.commit("web chart 1.0.0")
    f = flags(cluster, repo, namespace, tmp_path)
    ns = f"/api/v1/namespaces/{namespace}"
    apps = f"/apis/apps/v1/namespaces/{namespace}"

    code, _out, err = run(capsys, "apply", *f, "--prune", "-o", "json")
    assert code == 0, err
    # The release is named after the app: web-web. CRD from crds/ first, then its Widget.
    dep = kube.get(f"{apps}/deployments/web-web")
    assert dep["spec"]["replicas"] == 2
    assert kube.get(f"{ns}/services/web-web")["spec"]["ports"][0]["port"] == 80
    cm = kube.get(f"{ns}/configmaps/web-web")
    assert cm["data"]["KUBE_VERSION"] == "v1.36.3"  # the cluster's, not helm's built-in
    hpa = f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/web-web"
    assert kube.get(hpa)["spec"]["maxReplicas"] == 5  # gated on .Capabilities.APIVersions
    ingress = f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/web-web"
    assert kube.get(ingress)["spec"]["rules"][0]["host"] == "web.example.com"
    assert kube.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
    widget = f"/apis/example.com/v1/namespaces/{namespace}/widgets/web-web"
    assert kube.get(widget)["spec"]["size"] == 2
    assert kube.get_or_none(f"{ns}/configmaps/web-web-pre-install") is not None
    assert kube.get_or_none(f"{ns}/configmaps/web-web-cleanup") is None  # pre-delete hook
    assert kube.get_or_none(f"{ns}/pods/web-web-test") is None  # test hook
    secrets = kube.list(f"{ns}/secrets")
    assert not [s for s in secrets if s.get("type", "").startswith("helm.sh/release")]

    # No false drift right after apply.
    code, out, err = run(capsys, "diff", *f, "--precise", "-o", "json")
    assert code == 0, (out, err)

    # A values change and a chart version bump are each the right field change.
    edit(repo, f"{APP}/values.yaml", "replicaCount: 2", "replicaCount: 3")
    repo.commit("web: 3 replicas")
    code, out, _ = run(capsys, "diff", *f, "-o", "json")
    assert code == 1
    changed = {
        (r["kind"], c["path"])
        for r in json.loads(out)["resources"]
        if r["status"] != "InSync"
        for c in r["changes"]
    }
    assert ("Deployment", "spec.replicas") in changed
    assert ("HorizontalPodAutoscaler", "spec.minReplicas") in changed
    assert ("Widget", "spec.size") in changed
    assert all(path != 'metadata.labels["helm.sh/chart"]' for _, path in changed)
    assert run(capsys, "apply", *f, "--prune")[0] == 0
    assert kube.get(f"{apps}/deployments/web-web")["spec"]["replicas"] == 3

    edit(repo, f"{APP}/Chart.yaml", "version: 1.0.0", "version: 1.0.1")
    repo.commit("web chart 1.0.1")
    code, out, _ = run(capsys, "diff", *f, "-o", "json")
    assert code == 1
    label_changes = {
        (r["kind"], c["path"], c["desired"])
        for r in json.loads(out)["resources"]
        for c in r["changes"]
    }
    assert label_changes == {
        ("Deployment", 'metadata.labels["helm.sh/chart"]', "web-1.0.1"),
        ("Service", 'metadata.labels["helm.sh/chart"]', "web-1.0.1"),
    }, label_changes
    assert run(capsys, "apply", *f, "--prune")[0] == 0

    # Values from the CLI: --values (a file in the repo) and --set, --set last.
    repo.write("env/prod.yaml", "config:\n  greeting: prod\n")
    repo.commit("prod values")
    code, _, err = run(
        capsys, "apply", *f, "--values", "env/prod.yaml", "--set", "service.port=8081"
    )
    assert code == 0, err
    assert kube.get(f"{ns}/configmaps/web-web")["data"]["GREETING"] == "prod"
    assert kube.get(f"{ns}/services/web-web")["spec"]["ports"][0]["port"] == 8081

    # Dropping a template prunes its object.
    repo.remove(f"{APP}/templates/ingress.yaml")
    repo.commit("web: no ingress")
    assert run(capsys, "apply", *f, "--prune")[0] == 0
    assert kube.get_or_none(ingress) is None
    assert kube.get_or_none(f"{apps}/deployments/web-web") is not None

    # A broken template names its file and line; nothing changes.
    repo.write(f"{APP}/templates/broken.yaml", "data:\n  k: {{ .Values.nope.deeper }}\n")
    repo.commit("web: broken template")
    code, _, err = run(capsys, "apply", *f, "--prune")
    assert code == 2
    assert "apps/web/templates/broken.yaml:2" in err and "nil pointer" in err
    assert kube.get(f"{apps}/deployments/web-web")["spec"]["replicas"] == 3


def test_reconcile_chart_values_from_config_rerender_at_the_same_commit(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("chart-web", APP)
    repo.commit("web chart 1.0.0")
    config = tmp_path / "config.yaml"
    # adopt: the chart's CRD is cluster-scoped, another test's app may hold it.
    config.write_text("adopt: true\nhelm:\n  releaseName: shop\n  values: {replicaCount: 1}\n")
    args = jr.reconcile_args(
        repo.path, APP, "web", namespace, tmp_path / "c", "--config", str(config)
    )
    env = jr.admin_env(cluster)
    code, logs, err = jr.run(args, env)
    assert code == 0, [e.get("error") for e in logs if e.get("error")] or err
    deployment = f"/apis/apps/v1/namespaces/{namespace}/deployments/shop-web"
    assert kube.get(deployment)["spec"]["replicas"] == 1
    # Same commit, same values: the next run records fingerprints, the one after is in
    # sync without rendering.
    code, logs, err = jr.run(args, env)
    assert code == 0, [e for e in logs if e.get("error") or e["event"] in ("drift", "object")]
    code, logs, err = jr.run(args, env)
    assert code == 0, [e for e in logs if e.get("error") or e["event"] in ("drift", "object")]
    events = [e["event"] for e in logs]
    assert "rendered" not in events, logs
    # Same commit, new values in the config: rendered again and applied.
    config.write_text("adopt: true\nhelm:\n  releaseName: shop\n  values: {replicaCount: 4}\n")
    code, logs, err = jr.run(args, env)
    assert code == 0, [e for e in logs if e.get("error") or e["event"] in ("drift", "object")]
    assert any(e["event"] == "rendered" for e in logs)
    assert kube.get(deployment)["spec"]["replicas"] == 4


KAPP = "apps/web-k"


def kustomization(namespace: str, replicas: int, chart: str = "") -> str:
    return (
        "labels:\n- pairs: {team: web}\n"
        f"helmCharts:\n- name: web\n  releaseName: kweb\n  namespace: {namespace}\n"
        f"  includeCRDs: true\n{chart}  valuesInline:\n    replicaCount: {replicas}\n"
    )


def test_kustomize_helm_charts_apply_diff_and_refuse_a_pull(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("chart-web", f"{KAPP}/charts/web")  # vendored: no chart repo is reached
    repo.write(f"{KAPP}/kustomization.yaml", kustomization(namespace, 2))
    repo.commit("web through kustomize helmCharts")
    f = cli_flags(cluster, repo.path, namespace, tmp_path / "cache", path=KAPP, app="kweb")
    f = [*f, "--adopt"]  # the chart's CRD is cluster-scoped: another test's app may hold it
    ns = f"/api/v1/namespaces/{namespace}"
    deployment = f"/apis/apps/v1/namespaces/{namespace}/deployments/kweb-web"

    code, _out, err = run(capsys, "apply", *f, "--prune", "-o", "json")
    assert code == 0, err
    dep = kube.get(deployment)
    assert dep["spec"]["replicas"] == 2  # valuesInline
    assert dep["metadata"]["labels"]["team"] == "web"  # Kustomize's own transformers too
    cm = kube.get(f"{ns}/configmaps/kweb-web")
    assert cm["data"]["KUBE_VERSION"] == "v1.36.3"  # the cluster's, via --helm-kube-version
    hpa = f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/kweb-web"
    assert kube.get(hpa)["spec"]["maxReplicas"] == 5  # gated on the cluster's API versions
    assert kube.get_or_none(f"{ns}/configmaps/kweb-web-pre-install") is not None
    assert kube.get_or_none(f"{ns}/configmaps/kweb-web-cleanup") is None  # pre-delete hook
    assert kube.get_or_none(f"{ns}/pods/kweb-web-test") is None  # test hook

    code, out, err = run(capsys, "diff", *f, "--precise", "-o", "json")
    assert code == 0, (out, err)  # no false drift right after apply

    # The chart's values changed through the kustomization: the right field changes.
    repo.write(f"{KAPP}/kustomization.yaml", kustomization(namespace, 3))
    repo.commit("web: 3 replicas via valuesInline")
    code, out, _ = run(capsys, "diff", *f, "-o", "json")
    assert code == 1
    changed = {
        (r["kind"], c["path"])
        for r in json.loads(out)["resources"]
        if r["status"] != "InSync"
        for c in r["changes"]
    }
    assert changed == {
        ("Deployment", "spec.replicas"),
        ("HorizontalPodAutoscaler", "spec.minReplicas"),
        ("Widget", "spec.size"),
    }, changed
    assert run(capsys, "apply", *f, "--prune")[0] == 0
    assert kube.get(deployment)["spec"]["replicas"] == 3

    # A chart Kustomize would pull from a repository is refused; nothing changes.
    chart = "  repo: https://127.0.0.1:9/charts\n  version: 9.9.9\n"
    repo.write(f"{KAPP}/kustomization.yaml", kustomization(namespace, 5, chart))
    repo.commit("web: from a chart repository")
    code, _, err = run(capsys, "apply", *f, "--prune")
    assert code == 2
    assert f"{KAPP}/kustomization.yaml:4" in err and "not vendored" in err, err
    assert kube.get(deployment)["spec"]["replicas"] == 3
