"""Helm charts rendered with the pinned helm; ``helm template`` itself is the oracle."""

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
from gitops_nb.model import Manifest
from gitops_nb.source import render
from gitops_nb.source.helm import Capabilities, ChartContext, applied
from tests.gitrepo import FIXTURES, GitRepo

CAPS = Capabilities(
    "v1.36.3",
    (
        "v1",
        "apps/v1",
        "apps/v1/Deployment",
        "autoscaling/v2",
        "autoscaling/v2/HorizontalPodAutoscaler",
    ),
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "chart-web", tmp_path / "repo" / "apps" / "web")
    return tmp_path / "repo"


def ctx(settings: HelmSettings | None = None, caps: Capabilities | None = CAPS) -> ChartContext:
    return ChartContext(settings or HelmSettings(), "web", "shop", (lambda: caps) if caps else None)


def oracle(chart: Path, *args: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(find_binary(HELM)), "template", "web", str(chart), "--namespace", "shop", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def names(objs: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objs)


def test_render_matches_helm_template_minus_tests_and_delete_hooks(root: Path) -> None:
    ours = render(root, "apps/web", chart=ctx())
    expected = oracle(
        root / "apps/web",
        "--include-crds",
        "--kube-version",
        CAPS.kube_version,
        "--api-versions",
        ",".join(CAPS.api_versions),
    )
    hook = "helm.sh/hook"
    kept = [  # the documented rule: no test hooks, no delete-only hooks
        o
        for o in expected
        if (o["metadata"].get("annotations") or {}).get(hook) not in ("test", "pre-delete")
    ]
    assert len(kept) == len(expected) - 2
    assert names([m.obj for m in ours]) == names(kept)
    for m in ours:  # object for object what helm rendered
        assert m.obj == next(o for o in kept if names([o]) == names([m.obj]))
    assert names([m.obj for m in ours]) == [
        "ConfigMap/web-web",
        "ConfigMap/web-web-pre-install",  # install hooks are applied with the rest
        "CustomResourceDefinition/widgets.example.com",
        "Deployment/web-web",
        "HorizontalPodAutoscaler/web-web",
        "Ingress/web-web",
        "Service/web-web",
        "Widget/web-web",
    ]  # no test Pod, no pre-delete hook
    by_name = {m.obj["kind"] + "/" + m.obj["metadata"]["name"]: m for m in ours}
    assert by_name["Deployment/web-web"].source == "apps/web/templates/deployment.yaml"
    assert by_name["CustomResourceDefinition/widgets.example.com"].source == (
        "apps/web/crds/widgets.yaml"
    )
    assert by_name["ConfigMap/web-web"].obj["data"]["KUBE_VERSION"] == "v1.36.3"
    assert by_name["ConfigMap/web-web"].obj["metadata"]["namespace"] == "shop"


def test_capabilities_decide_what_renders(root: Path) -> None:
    no_hpa = Capabilities("v1.36.3", ("v1", "apps/v1"))
    kinds = {m.obj["kind"] for m in render(root, "apps/web", chart=ctx(caps=no_hpa))}
    assert "HorizontalPodAutoscaler" not in kinds and "Ingress" in kinds
    with pytest.raises(RenderError) as info:  # Chart.yaml: kubeVersion ">=1.30.0-0"
        render(root, "apps/web", chart=ctx(caps=Capabilities("v1.18.0")))
    assert info.value.location == "apps/web/Chart.yaml:1"
    assert "kubeVersion" in str(info.value) or "incompatible" in str(info.value)


def test_values_files_inline_values_and_set(root: Path) -> None:
    (root / "env").mkdir()
    (root / "env" / "prod.yaml").write_text("replicaCount: 4\nconfig:\n  greeting: prod\n")
    settings = HelmSettings(
        values_files=("env/prod.yaml",),
        values="image:\n  tag: '1.26'\n",
        set=("config.greeting=from-set",),
        include_crds=False,
    )
    objs = {m.obj["kind"]: m.obj for m in render(root, "apps/web", chart=ctx(settings))}
    objs["ConfigMap"] = next(
        m.obj
        for m in render(root, "apps/web", chart=ctx(settings))
        if m.obj["metadata"]["name"] == "web-web"
    )
    assert objs["Deployment"]["spec"]["replicas"] == 4
    assert objs["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert objs["ConfigMap"]["data"]["GREETING"] == "from-set"  # --set comes last
    assert "CustomResourceDefinition" not in objs


@pytest.mark.parametrize(
    ("name", "message"),
    [("../outside.yaml", "leaves the checkout"), ("env/missing.yaml", "does not exist")],
)
def test_values_files_must_be_in_the_checkout(root: Path, name: str, message: str) -> None:
    (root.parent / "outside.yaml").write_text("replicaCount: 9\n")
    with pytest.raises(RenderError) as info:
        render(root, "apps/web", chart=ctx(HelmSettings(values_files=(name,))))
    assert info.value.location == name and message in str(info.value)


BAD_YAML = "replicaCount: 3\nimage:\n  - a\n  tag: '2'\n"  # line 4 breaks the list


@pytest.mark.parametrize(
    ("where", "location", "said"),
    [
        # broken YAML: the bounded pre-parse (alias bounds) stops it before helm runs
        ("values-file", "env/bad.yaml:4", "did not find expected '-' indicator"),
        ("values-file-list", "env/bad.yaml:1", "helm template failed"),
        ("chart-values", "apps/web/values.yaml:4", "did not find expected '-' indicator"),
        ("schema", "apps/web/values.schema.json", "helm template failed"),
    ],
)
def test_bad_values_name_the_values_file_and_line(
    root: Path, where: str, location: str, said: str
) -> None:
    """Bad values are located in the file that holds them, not at Chart.yaml:1."""
    (root / "env").mkdir()
    settings = HelmSettings(values_files=("env/bad.yaml",))
    if where == "values-file":
        (root / "env" / "bad.yaml").write_text(BAD_YAML)
    elif where == "values-file-list":
        (root / "env" / "bad.yaml").write_text("- replicaCount: 3\n")
    elif where == "chart-values":
        (root / "apps/web/values.yaml").write_text(BAD_YAML)
        settings = HelmSettings()
    else:  # the config's values break the chart's schema
        schema = {"type": "object", "properties": {"replicaCount": {"type": "integer"}}}
        (root / "apps/web/values.schema.json").write_text(json.dumps(schema))
        settings = HelmSettings(values="replicaCount: many\n")
    with pytest.raises(RenderError) as info:
        render(root, "apps/web", chart=ctx(settings))
    assert info.value.location == location
    assert said in str(info.value)
    assert "Chart.yaml" not in info.value.location


def test_bad_yaml_in_the_configs_helm_values_names_the_config_file_and_line(
    tmp_path: Path,
) -> None:
    """The config's ``helm.values`` is YAML inside the config file: that file and line."""
    from gitops_nb.config import load
    from gitops_nb.errors import ConfigError

    config = tmp_path / "config.yaml"
    config.write_text("app: web\nhelm:\n  values:\n    image: {tag: '2'\n    replicas: 3\n")
    with pytest.raises(ConfigError) as info:
        load(config, {})
    assert str(info.value).startswith(f"{config}:5: ")
    assert "'2'" not in str(info.value)  # the offending line is not quoted (secrets)


def test_broken_template_names_the_template_file_and_line(root: Path) -> None:
    (root / "apps/web/templates/broken.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
        "  k: {{ .Values.nope.deeper }}\n"
    )
    with pytest.raises(RenderError) as info:
        render(root, "apps/web", chart=ctx())
    assert info.value.location == "apps/web/templates/broken.yaml:6"
    assert "nil pointer" in str(info.value)


def test_template_rendering_invalid_yaml_names_the_template(root: Path) -> None:
    (root / "apps/web/templates/bad.yaml").write_text("apiVersion: v1\nkind: [unclosed\n")
    with pytest.raises(RenderError) as info:
        render(root, "apps/web", chart=ctx())
    assert info.value.location == "apps/web/templates/bad.yaml:2"


def test_remote_dependency_must_be_vendored(root: Path) -> None:
    chart = root / "apps/web/Chart.yaml"
    chart.write_text(
        chart.read_text()
        + "dependencies:\n  - name: redis\n    version: 18.0.0\n"
        + "    repository: https://charts.example.com/stable\n"
    )
    with pytest.raises(RenderError) as info:
        render(root, "apps/web", chart=ctx())
    assert info.value.location == "apps/web/Chart.yaml:9"
    assert "'redis' (https://charts.example.com/stable) is not vendored in charts/" in str(
        info.value
    )
    # Vendored in charts/, the same dependency renders, named by its own files.
    sub = root / "apps/web/charts/redis"
    (sub / "templates").mkdir(parents=True)
    (sub / "Chart.yaml").write_text("apiVersion: v2\nname: redis\nversion: 18.0.0\n")
    (sub / "templates/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: redis-conf\ndata:\n  a: b\n"
    )
    sources = {m.obj["metadata"]["name"]: m.source for m in render(root, "apps/web", chart=ctx())}
    assert sources["redis-conf"] == "apps/web/charts/redis/templates/cm.yaml"


def test_symlink_out_of_the_checkout_is_refused(root: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("k: v\n")
    (root / "apps/web/templates/leak.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(RenderError, match="symlink escapes the repository"):
        render(root, "apps/web", chart=ctx())


def test_hook_rules() -> None:
    def m(hook: str) -> Manifest:
        meta = {"name": hook or "plain", "annotations": {"helm.sh/hook": hook} if hook else {}}
        return Manifest({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}, "f", 1)

    kept = applied([m(""), m("pre-install"), m("post-upgrade"), m("test"), m("pre-delete")])
    assert [x.obj["metadata"]["name"] for x in kept] == ["plain", "pre-install", "post-upgrade"]
    assert [x.obj["metadata"]["name"] for x in applied([m("pre-delete,post-install")])] == [
        "pre-delete,post-install"
    ]


def test_hooks_per_kind_as_documented(root: Path) -> None:
    """README "Helm charts" → Hooks, with the real helm: crd-install never renders, install
    hooks are applied unchanged (weight and delete policy kept, not acted on), delete hooks
    and tests are not applied."""
    (root / "apps/web/templates/legacy.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy-crd\n  annotations:\n"
        "    helm.sh/hook: crd-install\ndata: {}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: weighted\n  annotations:\n"
        "    helm.sh/hook: post-install\n    helm.sh/hook-weight: '-5'\n"
        "    helm.sh/hook-delete-policy: hook-succeeded\ndata: {}\n"
    )
    objs = {m.obj["metadata"]["name"]: m.obj for m in render(root, "apps/web", chart=ctx())}
    assert "legacy-crd" not in objs  # helm v3: "skipping unknown hook"
    assert objs["weighted"]["metadata"]["annotations"] == {
        "helm.sh/hook": "post-install",
        "helm.sh/hook-weight": "-5",
        "helm.sh/hook-delete-policy": "hook-succeeded",
    }
    assert "web-web-pre-install" in objs and "web-web-cleanup" not in objs  # pre-delete
    assert not any("test" in name for name in objs)


APP = "apps/web"


def edit(repo: GitRepo, rel: str, old: str, new: str) -> None:
    text = (repo.path / rel).read_text()
    assert old in text
    repo.write(rel, text.replace(old, new))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_chart_history_follows_values_and_templates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("chart-web", APP)
    first = repo.commit("web chart 1.0.0")
    edit(repo, f"{APP}/values.yaml", "replicaCount: 2", "replicaCount: 4")
    values = repo.commit("web: 4 replicas")
    repo.write("README.md", "not the chart\n")
    repo.commit("docs only")
    edit(repo, f"{APP}/templates/service.yaml", "targetPort: 8080", "targetPort: 9090")
    template = repo.commit("web: target port")
    code, out, err = run(
        capsys, "history", "commits", "--repo", str(repo.path), "--path", APP, "-o", "json"
    )
    assert code == 0, err
    commits = {c["commit"]: c for c in json.loads(out)}
    assert set(commits) == {first, values, template}
    assert {commits[c]["effect"] for c in (values, template)} == {"changed"}
    code, out, err = run(
        capsys, "history", "changes", "--repo", str(repo.path), "--path", APP, "-o", "json"
    )
    assert code == 0, err
    rows = {(r["commit"], r["kind"], r["file"], tuple(r["fields"])) for r in json.loads(out)}
    assert (values, "Deployment", f"{APP}/templates/deployment.yaml", ("spec.replicas",)) in rows
    port = ("spec.ports[port=80].targetPort",)
    assert (template, "Service", f"{APP}/templates/service.yaml", port) in rows
    assert {c for c, *_ in rows} == {first, values, template}
    # named as the reconciler names them: the app is the release, in the app's namespace
    code, out, err = run(
        capsys, "history", "changes", "--repo", str(repo.path), "--path", APP,
        "--app", "shop-web", "--namespace", "shop", "-o", "json",
    )  # fmt: skip
    assert code == 0, err
    objects = {(r["kind"], r["namespace"], r["name"]) for r in json.loads(out)}
    assert ("Service", "", "shop-web-web") in objects
    assert ("ConfigMap", "shop", "shop-web-web") in objects  # {{ .Release.Namespace }}
    assert not any(name.startswith("web-") for _k, _ns, name in objects)


def test_chart_at_the_repository_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "chart-web", root)
    sources = {m.source for m in render(root, ".", chart=ctx())}
    assert "templates/deployment.yaml" in sources
    (root / "templates/broken.yaml").write_text("k: {{ .Values.nope.deeper }}\n")
    with pytest.raises(RenderError) as info:
        render(root, ".", chart=ctx())
    assert info.value.location == "templates/broken.yaml:1"


def test_chart_history_uses_the_app_config_values_and_follows_values_files_outside(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """History renders a chart with the inputs apply uses: the config's values files (here
    outside the chart directory, so part of the app's closure) and inline values."""
    from gitops_nb.history.appchanges import commits

    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("chart-web", APP)
    repo.write("env/prod.yaml", "config:\n  greeting: prod\n")
    first = repo.commit("web chart with prod values")
    repo.write("env/prod.yaml", "config:\n  greeting: prod-2\n")
    values = repo.commit("prod values: greeting (outside the chart)")
    edit(repo, f"{APP}/values.yaml", "port: 80", "port: 90")
    overridden = repo.commit("chart default port (the config's values win)")
    repo.write("env/staging.yaml", "config:\n  greeting: staging\n")
    repo.commit("staging values: not this app's")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"app: web\nrepo: {repo.path}\nref: main\npath: {APP}\nnamespace: shop\n"
        "helm:\n  releaseName: shop\n  valuesFiles: [env/prod.yaml]\n"
        "  values: {service: {port: 8081}}\n"
    )
    settings = HelmSettings(values_files=("env/prod.yaml",), values="service: {port: 8081}\n")
    df = commits(repo.path, "main", APP, chart=ChartContext(settings, "shop", "shop"))
    assert list(df["commit"]) == [overridden, values, first]
    assert list(df["effect"]) == ["none", "changed", "changed"]

    code, out, err = run(capsys, "history", "changes", "--config", str(config), "-o", "json")
    assert code == 0, err
    rows = {
        (r["commit"], r["kind"], r["namespace"], r["name"], tuple(r["fields"] or ()))
        for r in json.loads(out)
    }
    assert (values, "ConfigMap", "shop", "shop-web", ("data.GREETING",)) in rows
    assert {r[0] for r in rows} == {first, values}  # the overridden port changed nothing
    # without the config the chart's own values decide: the port commit is a change
    code, out, err = run(
        capsys, "history", "commits", "--repo", str(repo.path), "--path", APP, "-o", "json"
    )
    assert code == 0, err
    effects = {c["commit"]: c["effect"] for c in json.loads(out)}
    assert effects[overridden] == "changed" and values not in effects
    # --values and --set on the history command give the same inputs as on apply
    code, out, err = run(
        capsys, "history", "commits", "--repo", str(repo.path), "--path", APP,
        "--values", "env/prod.yaml", "--set", "service.port=8081", "-o", "json",
    )  # fmt: skip
    assert code == 0, err
    assert [(c["commit"], c["effect"]) for c in json.loads(out)] == [
        (overridden, "none"), (values, "changed"), (first, "changed"),
    ]  # fmt: skip
