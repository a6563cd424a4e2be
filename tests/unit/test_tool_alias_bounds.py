"""Issue 13 item 4 for Kustomize and Helm: they expand YAML aliases in their own process.

A 106 KB file (a 100 KB anchor aliased 300 times) took ``kubectl kustomize`` to 251 MB
and was refused only afterwards, located at kustomization.yaml:1. Every YAML file the tool
will parse now gets the byte bound first, naming the anchor's file:line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitops_nb.config import HelmSettings
from gitops_nb.errors import RenderError
from gitops_nb.source.helm import ChartContext
from gitops_nb.source.render import check_kustomize_inputs, render
from tests.gitrepo import FIXTURES
from tests.kustomizekit import ANCHOR_LINE, CM, KUBECTL, bomb, needs_kubectl, values_bomb, write


def kustomize_app(root: Path) -> None:
    write(root, "app/kustomization.yaml", "resources:\n- ../base\n")
    write(root, "base/kustomization.yaml", "resources:\n- cm.yaml\n- bomb.yaml\n")
    write(root, "base/cm.yaml", CM.format(name="harmless"))


@needs_kubectl
def test_alias_bomb_in_a_kustomize_base_is_refused_before_kustomize(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    kustomize_app(root)
    write(root, "base/bomb.yaml", bomb())
    assert (root / "base/bomb.yaml").stat().st_size < 110_000
    with pytest.raises(RenderError) as e:
        render(root, "app", kustomize=KUBECTL)
    assert e.value.location == f"base/bomb.yaml:{ANCHOR_LINE}"  # not kustomization.yaml:1
    assert "KiB of extra data" in e.value.detail


@pytest.mark.parametrize(
    ("kustomization", "line"),
    [
        ("resources:\n- cm.yaml\npatches:\n- path: p.yaml\n", None),
        ("resources:\n- cm.yaml\npatchesStrategicMerge:\n- p.yaml\n", None),
        ("resources:\n- cm.yaml\ncomponents:\n- ../comp\n", None),
        ("resources:\n- cm.yaml\npatches:\n- patch: |-\n{inline}", 5 + ANCHOR_LINE - 1),
    ],
    ids=["patch-file", "strategic-merge", "component", "inline-patch"],
)
def test_every_file_kustomize_parses_is_bounded(
    tmp_path: Path, kustomization: str, line: int | None
) -> None:
    root = tmp_path / "repo"
    write(root, "app/cm.yaml", CM.format(name="harmless"))
    write(root, "app/p.yaml", bomb())
    write(root, "comp/kustomization.yaml", "kind: Component\nresources:\n- ../app/p.yaml\n")
    text = kustomization.format(inline=bomb(indent="    "))
    write(root, "app/kustomization.yaml", text)
    with pytest.raises(RenderError) as e:
        check_kustomize_inputs(root, "app")
    where = f"app/kustomization.yaml:{line}" if line else f"app/p.yaml:{ANCHOR_LINE}"
    assert e.value.location == where
    assert "KiB of extra data" in e.value.detail


def test_generator_data_files_are_not_parsed(tmp_path: Path) -> None:
    """configMapGenerator/secretGenerator copy their files as data: not YAML to kustomize."""
    root = tmp_path / "repo"
    write(root, "app/kustomization.yaml", "configMapGenerator:\n- name: g\n  files:\n  - d.yaml\n")
    write(root, "app/d.yaml", "{{ not: yaml\n")
    check_kustomize_inputs(root, "app")


def chart_root(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "chart-web", tmp_path / "repo" / "apps" / "web")
    return tmp_path / "repo"


def ctx(settings: HelmSettings | None = None) -> ChartContext:
    return ChartContext(settings or HelmSettings(), "web", "shop")


def test_alias_bomb_in_chart_values_is_refused_before_helm(tmp_path: Path) -> None:
    root = chart_root(tmp_path)
    values = root / "apps/web/values.yaml"
    text, line = values_bomb(values.read_text())
    values.write_text(text)
    with pytest.raises(RenderError) as e:
        render(root, "apps/web", chart=ctx())
    assert e.value.location == f"apps/web/values.yaml:{line}"
    assert "KiB of extra data" in e.value.detail


def test_alias_bomb_in_a_values_file_or_subchart_is_refused(tmp_path: Path) -> None:
    root = chart_root(tmp_path)
    text, line = values_bomb("")
    write(root, "env/prod.yaml", text)
    settings = HelmSettings(values_files=("env/prod.yaml",))
    with pytest.raises(RenderError) as e:
        render(root, "apps/web", chart=ctx(settings))
    assert e.value.location == f"env/prod.yaml:{line}"
    write(root, "apps/web/charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n")
    write(root, "apps/web/charts/sub/values.yaml", text)
    with pytest.raises(RenderError) as e:
        render(root, "apps/web", chart=ctx())
    assert e.value.location == f"apps/web/charts/sub/values.yaml:{line}"
