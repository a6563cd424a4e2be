from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from gitops_nb.binaries import find_binary
from gitops_nb.errors import RenderError, ToolMissingError
from gitops_nb.model import Manifest
from gitops_nb.source.render import find_kustomize, parse_documents, render, validate

# the kubectl `make test` builds into the cache (its kustomize is what the reconciler uses)
KUBECTL = str(find_binary("kubectl"))


def cm(name: str, ns: str = "default") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n"


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def names(ms: list[Manifest]) -> list[str]:
    return [m.obj["metadata"]["name"] for m in ms]


# --- parse_documents ------------------------------------------------------------------------


def test_multi_document_line_numbers() -> None:
    text = "# header\n---\n" + cm("a") + "---\n\n" + cm("b") + "---\n"
    ms = parse_documents(text, "app/cms.yaml")
    assert [(m.source, m.line) for m in ms] == [("app/cms.yaml", 3), ("app/cms.yaml", 10)]
    assert names(ms) == ["a", "b"]


def test_list_kinds_flattened_with_item_lines() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: one}\n"
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: two}\n"
        "---\napiVersion: v1\nkind: ConfigMapList\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: three}}\n"
    )
    ms = parse_documents(text, "l.yaml")
    assert names(ms) == ["one", "two", "three"]
    assert [m.line for m in ms] == [4, 7, 14]


def test_json_document() -> None:
    text = '\n{\n\t"apiVersion": "v1",\n\t"kind": "Namespace",\n\t"metadata": {"name": "x"}\n}\n'
    (m,) = parse_documents(text, "ns.json")
    assert m.obj == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}
    assert m.line == 2


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n"])
def test_non_mapping_document_rejected(text: str) -> None:
    with pytest.raises(RenderError) as e:
        parse_documents(cm("a") + "---\n" + text, "x.yaml")
    assert e.value.location == "x.yaml:7"


def test_python_tag_rejected() -> None:
    with pytest.raises(RenderError) as e:
        parse_documents(cm("a") + "data:\n  x: !!python/object/apply:os.system [id]\n", "p.yaml")
    assert e.value.location == "p.yaml:7"


def test_broken_yaml_names_line() -> None:
    with pytest.raises(RenderError) as e:
        parse_documents(cm("a") + "data:\n  k: [unclosed\n  z: 1\n", "b.yaml")
    assert e.value.location.startswith("b.yaml:")
    assert int(e.value.location.split(":")[1]) in (7, 8)


def test_billion_laughs_rejected_quickly() -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    started = time.monotonic()
    with pytest.raises(RenderError):
        parse_documents("\n".join(lines) + "\n", "bomb.yaml")
    assert time.monotonic() - started < 1.0


# --- validate -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("apiVersion: v1\nmetadata: {name: a}\n", "kind"),
        ("kind: ConfigMap\nmetadata: {name: a}\n", "apiVersion"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n", "metadata.name"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 3}\n", "metadata.name"),
        ("apiVersion: v1\nkind: ConfigMap\n", "metadata"),
    ],
)
def test_missing_fields_name_file_and_line(tmp_path: Path, text: str, what: str) -> None:
    write(tmp_path, "app/a.yaml", cm("ok") + "---\n# c\n" + text)
    with pytest.raises(RenderError) as e:
        render(tmp_path, "app")
    assert e.value.location == "app/a.yaml:8"
    assert what in e.value.detail


def test_duplicate_across_files_names_both(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", cm("same"))
    write(tmp_path, "b/c.yaml", "# x\n" + cm("other") + "---\n" + cm("same"))
    with pytest.raises(RenderError) as e:
        render(tmp_path)
    assert "a.yaml:1" in str(e.value)
    assert "b/c.yaml:8" in str(e.value)
    assert "ConfigMap/default/same" in str(e.value)


def test_same_name_different_namespace_or_group_is_fine() -> None:
    ms = [
        Manifest({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a"}}, "f", 1),
        Manifest(
            {"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "namespace": "n"}}, "f", 2
        ),
        Manifest({"apiVersion": "g/v1", "kind": "X", "metadata": {"name": "a"}}, "f", 3),
    ]
    validate(ms)
    # apiVersion differing only in version is the same object
    dup = Manifest({"apiVersion": "g/v2", "kind": "X", "metadata": {"name": "a"}}, "f", 4)
    with pytest.raises(RenderError, match="f:3"):
        validate([*ms, dup])


# --- directory walk -------------------------------------------------------------------------


def test_nested_dirs_sorted_and_other_files_ignored(tmp_path: Path) -> None:
    write(tmp_path, "app/b.yaml", cm("b"))
    write(tmp_path, "app/a/z.yml", cm("az"))
    write(
        tmp_path,
        "app/a/b/c.json",
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"abc"}}',
    )
    write(tmp_path, "app/0.yaml", cm("zero"))
    write(tmp_path, "app/README.md", "# not yaml: [")
    write(tmp_path, "app/notes.txt", "nope: [")
    write(tmp_path, "app/.github/workflow.yml", "on: push\n")
    write(tmp_path, "other/x.yaml", cm("outside-app-path"))
    ms = render(tmp_path, "app")
    assert names(ms) == ["zero", "abc", "az", "b"]
    assert [m.source for m in ms] == ["app/0.yaml", "app/a/b/c.json", "app/a/z.yml", "app/b.yaml"]
    assert render(tmp_path, "app") == ms  # deterministic


def test_empty_files_and_dirs_render_nothing(tmp_path: Path) -> None:
    write(tmp_path, "app/empty.yaml", "")
    write(tmp_path, "app/comments.yaml", "# only\n---\n")
    assert render(tmp_path, "app") == []


def test_error_in_any_file_returns_nothing(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", cm("good"))
    write(tmp_path, "z.yaml", "apiVersion: v1\nkind: [\n")
    with pytest.raises(RenderError, match=re.escape("z.yaml:")):
        render(tmp_path)


def test_symlink_file_escaping_root_refused(tmp_path: Path) -> None:
    outside = write(tmp_path, "outside/secret.yaml", cm("leak"))
    root = tmp_path / "repo"
    write(root, "app/ok.yaml", cm("ok"))
    (root / "app/evil.yaml").symlink_to(outside)
    with pytest.raises(RenderError) as e:
        render(root, "app")
    assert e.value.location == "app/evil.yaml:1"
    assert "symlink escapes the repository" in str(e.value)


def test_symlink_dir_escaping_root_refused(tmp_path: Path) -> None:
    write(tmp_path, "outside/x.yaml", cm("leak"))
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app/dir").symlink_to(tmp_path / "outside")
    with pytest.raises(RenderError, match="app/dir:1"):
        render(root, "app")
    (root / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(RenderError, match="symlink escapes"):
        render(root, "link")


def test_symlinks_inside_root_are_followed(tmp_path: Path) -> None:
    write(tmp_path, "shared/x.yaml", cm("shared"))
    (tmp_path / "app").mkdir()
    (tmp_path / "app/x.yaml").symlink_to(tmp_path / "shared/x.yaml")
    (tmp_path / "app/loop").symlink_to(tmp_path / "app")
    ms = render(tmp_path, "app")
    assert [(m.source, names([m])[0]) for m in ms] == [("app/x.yaml", "shared")]


@pytest.mark.parametrize("path", ["../etc", "/etc", "a/../../etc"])
def test_path_escaping_root_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(RenderError, match="inside the repository"):
        render(tmp_path, path)


def test_missing_app_dir(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="does not exist"):
        render(tmp_path, "nope")


def test_nested_kustomization_in_plain_dir_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "app/sub/kustomization.yaml", "resources: [cm.yaml]\n")
    with pytest.raises(RenderError, match=re.escape("app/sub/kustomization.yaml:1")):
        render(tmp_path, "app")


# --- kustomize (real kubectl) ---------------------------------------------------------------


def overlay_repo(root: Path) -> None:
    write(root, "base/kustomization.yaml", "resources:\n- cm.yaml\n- deploy.yaml\n")
    write(root, "base/cm.yaml", cm("settings", "web"))
    write(
        root,
        "base/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: web\n"
        "spec:\n  selector:\n    matchLabels: {app: web}\n  template:\n"
        "    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
    )
    write(
        root,
        "overlays/prod/kustomization.yaml",
        "resources:\n- ../../base\nnamePrefix: prod-\ncommonLabels:\n  env: prod\n",
    )


def test_kustomize_overlay_rendered(tmp_path: Path) -> None:
    overlay_repo(tmp_path)
    ms = render(tmp_path, "overlays/prod", kustomize=KUBECTL)
    by_kind = {m.obj["kind"]: m for m in ms}
    assert set(by_kind) == {"ConfigMap", "Deployment"}
    assert sorted(names(ms)) == ["prod-settings", "prod-web"]
    dep = by_kind["Deployment"].obj
    assert dep["metadata"]["labels"] == {"env": "prod"}
    assert dep["spec"]["selector"]["matchLabels"] == {"app": "web", "env": "prod"}
    assert all(m.source == "overlays/prod/kustomization.yaml" for m in ms)
    assert ms[0].line == 1 and all(m.line > 1 for m in ms[1:])


def test_kustomize_found_automatically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_NB_KUBECTL", KUBECTL)
    overlay_repo(tmp_path)
    assert find_kustomize()[-1] == "kustomize" or find_kustomize()[0].endswith("kustomize")
    assert sorted(names(render(tmp_path, "base"))) == ["settings", "web"]


def test_broken_kustomization(tmp_path: Path) -> None:
    write(tmp_path, "app/kustomization.yaml", "resources:\n- missing.yaml\n")
    with pytest.raises(RenderError) as e:
        render(tmp_path, "app", kustomize=KUBECTL)
    assert e.value.location == "app/kustomization.yaml:1"
    assert "missing.yaml" in e.value.detail


def test_kustomize_output_is_validated(tmp_path: Path) -> None:
    write(tmp_path, "app/kustomization.yaml", "resources:\n- a.yaml\n- b.yaml\n")
    write(tmp_path, "app/a.yaml", cm("x"))
    write(tmp_path, "app/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n")
    with pytest.raises(RenderError, match=re.escape("app/kustomization.yaml")):
        render(tmp_path, "app", kustomize=KUBECTL)


def test_kustomize_refuses_escaping_symlink(tmp_path: Path) -> None:
    write(tmp_path, "outside.yaml", cm("leak"))
    root = tmp_path / "repo"
    write(root, "app/kustomization.yaml", "resources:\n- x.yaml\n")
    (root / "app/x.yaml").symlink_to(tmp_path / "outside.yaml")
    with pytest.raises(RenderError, match="symlink escapes"):
        render(root, "app", kustomize=KUBECTL)


def test_find_kustomize_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("GITOPS_NB_KUBECTL", str(tmp_path / "no-kubectl"))
    with pytest.raises(ToolMissingError, match="GITOPS_NB_KUBECTL"):
        find_kustomize()


def test_missing_app_directory_names_the_path_without_a_line(tmp_path: Path) -> None:
    with pytest.raises(RenderError) as err:
        render(tmp_path, "apps/nope")
    assert str(err.value) == "apps/nope: app directory does not exist in the checkout"
