"""Issue 13 item 9: a kustomization must not read files outside the checkout.

Rendered with the real kubectl (``kubectl kustomize``), which happily loads
``resources: - ../../../../tmp/x``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gitops_nb.errors import RenderError
from gitops_nb.source.kustomization import is_local_git, is_remote
from gitops_nb.source.render import _kustomize_build, refuse_escaping_references, render
from tests.kustomizekit import CM, KUBECTL, needs_kubectl, write


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A kustomization outside the repository: the reconciler's own disk."""
    d = tmp_path / "tmp" / "x"
    write(d, "kustomization.yaml", "resources:\n- stolen.yaml\n")
    write(d, "stolen.yaml", CM.format(name="stolen"))
    return d


def escape_to(outside: Path, root: Path, kdir: str) -> str:
    return os.path.relpath(outside, root / kdir)


@needs_kubectl
def test_resource_outside_checkout_refused(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "repo"
    rel = escape_to(outside, root, "app")
    write(root, "app/kustomization.yaml", f"resources:\n- cm.yaml\n- {rel}\n")
    write(root, "app/cm.yaml", CM.format(name="mine"))
    with pytest.raises(RenderError) as e:
        render(root, "app", kustomize=KUBECTL)
    assert e.value.location == "app/kustomization.yaml:3"
    assert "outside the repository" in e.value.detail


@needs_kubectl
def test_escape_in_a_base_is_refused_recursively(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "repo"
    write(root, "overlay/kustomization.yaml", "resources:\n- ../base\ncomponents:\n- ../comp\n")
    write(root, "base/kustomization.yaml", "resources:\n- cm.yaml\n")
    write(root, "base/cm.yaml", CM.format(name="mine"))
    rel = escape_to(outside, root, "comp")
    write(
        root,
        "comp/kustomization.yaml",
        f"apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- {rel}\n",
    )
    with pytest.raises(RenderError) as e:
        render(root, "overlay", kustomize=KUBECTL)
    assert e.value.location == "comp/kustomization.yaml:4"


@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("bases:\n- {p}\n", 2),
        ("patches:\n- path: {p}\n  target: {{kind: ConfigMap}}\n", 2),
        ("patchesStrategicMerge:\n- {p}\n", 2),
        ("patchesJson6902:\n- target: {{kind: ConfigMap, name: a, version: v1}}\n  path: {p}\n", 3),
        ("configMapGenerator:\n- name: g\n  files:\n  - key={p}\n", 4),
        ("secretGenerator:\n- name: g\n  envs:\n  - {p}\n", 4),
        ("generators:\n- {p}\n", 2),
        ("transformers:\n- {p}\n", 2),
        ("replacements:\n- path: {p}\n", 2),
        ("openapi:\n  path: {p}\n", 2),
        ("crds:\n- {p}\n", 2),
        ("resources:\n- /etc/passwd\n", 2),
    ],
)
def test_every_path_field_checked(tmp_path: Path, field: str, line: int) -> None:
    root = tmp_path / "repo"
    write(root, "app/kustomization.yaml", "namePrefix: x-\n" + field.format(p="../../secret"))
    with pytest.raises(RenderError) as e:
        refuse_escaping_references(root, "app")
    assert e.value.location == f"app/kustomization.yaml:{line + 1}"


def test_inside_paths_remote_bases_and_inline_patches_allowed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(
        root,
        "overlays/prod/kustomization.yaml",
        "resources:\n- ../../base\n- https://github.com/org/repo//deploy?ref=v1\n"
        "- github.com/org/repo/deploy\n"
        "patchesStrategicMerge:\n- |-\n  apiVersion: v1\n  kind: ConfigMap\n"
        "  metadata: {name: a}\n"
        "configMapGenerator:\n- name: g\n  files:\n  - k=../../base/cm.yaml\n",
    )
    write(root, "base/kustomization.yaml", "resources:\n- cm.yaml\n")
    write(root, "base/cm.yaml", CM.format(name="a"))
    refuse_escaping_references(root, "overlays/prod")


# --- bypasses: `//` in a local path, file:// Git URLs (audit of issue 13, item 9) -----------


@needs_kubectl
@pytest.mark.parametrize("shape", [".//{rel}", "..//{up}", "x/..//{rel}", "./{rel}/"])
def test_double_slash_is_a_local_path_and_confined(
    tmp_path: Path, outside: Path, shape: str
) -> None:
    root = tmp_path / "repo"
    rel = escape_to(outside, root, "app")
    up = rel.removeprefix("../")  # `..//` + the rest climbs just as far
    ref = shape.format(rel=rel, up=up)
    write(root, "app/kustomization.yaml", f"resources:\n- cm.yaml\n- {ref}\n")
    write(root, "app/cm.yaml", CM.format(name="mine"))
    with pytest.raises(RenderError) as e:
        render(root, "app", kustomize=KUBECTL)
    assert e.value.location == "app/kustomization.yaml:3"
    assert "outside the repository" in e.value.detail


def git_repo(path: Path) -> Path:
    """A committed Git repository on the reconciler's disk holding a kustomization."""
    write(path, "kustomization.yaml", "resources:\n- stolen.yaml\n")
    write(path, "stolen.yaml", CM.format(name="stolen"))
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for argv in (
        ["init", "-q", "-b", "main"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "x"],
    ):
        subprocess.run(["git", "-C", str(path), *argv], check=True, env=env)
    return path


@needs_kubectl
@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("resources:\n- cm.yaml\n- {url}\n", 3),
        ("resources:\n- cm.yaml\n- git::{url}\n", 3),
        ("resources:\n- cm.yaml\n- {url}?ref=main\n", 3),
        ("resources:\n- cm.yaml\ncomponents:\n- {url}\n", 4),
        ("resources:\n- cm.yaml\ngenerators:\n- {url}\n", 4),
    ],
)
def test_file_url_to_a_local_git_repo_is_refused(tmp_path: Path, field: str, line: int) -> None:
    other = git_repo(tmp_path / "cache" / "other-app")
    root = tmp_path / "repo"
    write(root, "app/kustomization.yaml", field.format(url=f"file://{other}"))
    write(root, "app/cm.yaml", CM.format(name="mine"))
    with pytest.raises(RenderError) as e:
        render(root, "app", kustomize=KUBECTL)
    assert e.value.location == f"app/kustomization.yaml:{line}"
    assert "file://" in e.value.detail and "refused" in e.value.detail


@needs_kubectl
def test_kustomize_may_not_clone_over_the_file_protocol(tmp_path: Path) -> None:
    """Behind the check, git itself refuses: kustomize runs with GIT_ALLOW_PROTOCOL=https:ssh."""
    other = git_repo(tmp_path / "other")
    root = tmp_path / "repo"
    write(root, "app/kustomization.yaml", f"resources:\n- file://{other}\n")
    with pytest.raises(RenderError) as e:
        _kustomize_build([KUBECTL, "kustomize"], root, root / "app", "app/kustomization.yaml")
    assert e.value.location == "app/kustomization.yaml:1"
    assert "kustomize build failed" in e.value.detail


@pytest.mark.parametrize(
    ("ref", "remote"),
    [
        ("https://github.com/org/repo//deploy?ref=v1", True),
        ("git::https://example.com/org/repo.git//deploy", True),
        ("ssh://git@example.com/org/repo.git", True),
        ("git@example.com:org/repo.git//deploy", True),
        ("github.com/org/repo/deploy?ref=v1", True),
        ("git@github.com/org/repo", True),
        (".//../../outside", False),
        ("..//../outside", False),
        ("x/..//../../outside", False),
        ("../outside?ref=main", False),
        ("base//sub", False),
        ("file:///srv/repo", False),
        ("git::file:///srv/repo", False),
    ],
)
def test_only_url_forms_are_remote(ref: str, remote: bool) -> None:
    assert is_remote(ref) is remote
    assert is_local_git(ref) is ref.removeprefix("git::").startswith("file://")
