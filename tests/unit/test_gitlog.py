"""Git history of an app path, against real repositories built in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gitops_nb.errors import RefNotFoundError, SourceError, UnsafeSourceError
from gitops_nb.history.appchanges import commits, resource_changes
from gitops_nb.history.gitlog import iter_commits
from gitops_nb.model import Manifest
from gitops_nb.source.render import parse_documents
from tests.gitrepo import GitRepo


def cm(name: str, value: str = "1", ns: str = "web") -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
        f"data:\n  k: '{value}'\n"
    )


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """Commit times are deterministic: one minute apart from 2026-09-21T14:13:20Z (UTC+2)."""
    return GitRepo(
        tmp_path / "repo",
        name="Dev One",
        email="dev@example.com",
        clock=1_790_000_000,
        utc_offset="+0200",
    )


def changes_of(df: pd.DataFrame, sha: str) -> set[tuple[str, str]]:
    sub = df[df["commit"] == sha]
    return {(str(o), str(c)) for o, c in zip(sub["object"], sub["change"], strict=True)}


def test_iter_commits_lists_what_git_log_lists_with_details(repo: GitRepo) -> None:
    repo.write("apps/web/a.yaml", cm("a"))
    c1 = repo.commit("add a\n\nwith a body")
    repo.write("README.md", "outside the path")
    repo.commit("docs")
    repo.git("mv", "apps/web/a.yaml", "apps/web/b c.yaml")
    repo.write("apps/web/ü.yaml", cm("u"))
    c3 = repo.commit("rename and unicode")

    got = list(iter_commits(repo.path, "HEAD", "apps/web"))
    assert [c.commit for c in got] == [c3, c1]
    assert got == list(iter_commits(str(repo.path), "main", "apps/web"))
    expected = repo.git("log", "--format=%H", "HEAD", "--", "apps/web").split()
    assert [c.commit for c in got] == expected
    newest, oldest = got
    assert newest.files == ("apps/web/b c.yaml", "apps/web/ü.yaml")
    rename = newest.changes[0]
    assert (rename.status, rename.old_path, rename.old_blob) == (
        "R",
        "apps/web/a.yaml",
        rename.new_blob,
    )
    assert oldest.message == "add a\n\nwith a body"
    assert oldest.subject == "add a"
    assert (oldest.author, oldest.email) == ("Dev One", "dev@example.com")
    assert oldest.time == "2026-09-21T14:14:20Z"  # committer time, in UTC
    assert oldest.parents == ()
    assert newest.parents == (repo.git("rev-parse", "HEAD~1").strip(),)
    assert [c.commit for c in iter_commits(repo.path)] == repo.git("log", "--format=%H").split()


def test_merge_commits_are_listed_without_files(repo: GitRepo) -> None:
    repo.write("app/a.yaml", cm("a"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("app/b.yaml", cm("b"))
    side = repo.commit("side")
    repo.git("checkout", "-q", "main")
    repo.write("app/c.yaml", cm("c"))
    repo.commit("main")
    repo.tick += 1
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    got = list(iter_commits(repo.path, path="app"))
    assert got[0].subject == "merge side"
    assert len(got[0].parents) == 2
    assert got[0].files == ()
    assert side in [c.commit for c in got]


def test_stopping_early_and_bad_input(repo: GitRepo, tmp_path: Path) -> None:
    for i in range(5):
        repo.write("app/a.yaml", cm("a", str(i)))
        repo.commit(f"c{i}")
    it = iter_commits(repo.path, path="app")
    assert next(it).subject == "c4"
    it.close()  # must not hang or raise
    with pytest.raises(RefNotFoundError, match="nope"):
        list(iter_commits(repo.path, "nope"))
    with pytest.raises(UnsafeSourceError):
        list(iter_commits(repo.path, "--output=/tmp/x"))
    for bad in ("--output=/tmp/x", "main..HEAD", "HEAD@{1}"):  # what fetch refuses, too
        with pytest.raises(UnsafeSourceError):
            commits(repo.path, bad, "app")
        with pytest.raises(UnsafeSourceError):
            resource_changes(repo.path, bad, "app")
    with pytest.raises(SourceError, match="not a Git repository"):
        list(iter_commits(tmp_path / "empty"))


def test_commits_frame_detects_reverts(repo: GitRepo) -> None:
    repo.write("app/a.yaml", cm("a"))
    repo.commit("add a")
    repo.write("app/a.yaml", cm("a", "2"))
    bad = repo.commit("bump a")
    repo.tick += 1
    repo.git("revert", "--no-edit", bad)
    df = commits(repo.path, path="app")
    assert list(df["subject"]) == ['Revert "bump a"', "bump a", "add a"]
    assert list(df["is_revert"]) == [True, False, False]
    assert df["reverts"].iloc[0] == bad
    assert df["reverts"].iloc[1] is None
    assert list(df["n_files"]) == [1, 1, 1]
    assert df["files"].iloc[0] == ["app/a.yaml"]
    assert df["short"].iloc[0] == df["commit"].iloc[0][:7]
    assert str(df["time"].dtype) == "datetime64[us, UTC]"
    assert commits(repo.path, path="nothing-here").empty


def test_resource_changes_added_modified_removed(repo: GitRepo) -> None:
    repo.write("app/a.yaml", cm("a") + "---\n" + cm("b"))
    repo.write("app/kustomization.yaml", "resources: [a.yaml]\n")  # not an object
    repo.write("app/notes.txt", "not a manifest")
    c1 = repo.commit("add a, b")
    repo.write("app/a.yaml", cm("a", "2") + "---\n" + cm("b"))
    c2 = repo.commit("modify a")
    repo.write("app/a.yaml", cm("a", "2"))
    repo.write("app/c.yaml", cm("c"))
    # a Kustomize app renders what its kustomization lists: c.yaml counts once listed
    repo.write("app/kustomization.yaml", "resources: [a.yaml, c.yaml]\n")
    c3 = repo.commit("remove b, add c")
    repo.write("other/x.yaml", cm("x"))
    repo.commit("outside the path")

    df = resource_changes(repo.path, path="app")
    assert changes_of(df, c1) == {("ConfigMap/web/a", "added"), ("ConfigMap/web/b", "added")}
    assert changes_of(df, c2) == {("ConfigMap/web/a", "modified")}
    assert changes_of(df, c3) == {("ConfigMap/web/b", "removed"), ("ConfigMap/web/c", "added")}
    assert set(df["commit"]) == {c1, c2, c3}
    removed = df[df["change"] == "removed"].iloc[0]
    assert (removed["file"], removed["kind"], removed["namespace"]) == (
        "app/a.yaml",
        "ConfigMap",
        "web",
    )
    assert df["author"].iloc[0] == "Dev One"


def test_pure_rename_and_moved_object_are_no_change(repo: GitRepo) -> None:
    repo.write("app/a.yaml", cm("a") + "---\n" + cm("b"))
    repo.commit("add")
    repo.git("mv", "app/a.yaml", "app/renamed.yaml")
    renamed = repo.commit("rename")
    repo.write("app/renamed.yaml", cm("a"))
    repo.write("app/b.yaml", cm("b"))
    moved = repo.commit("split file")
    df = resource_changes(repo.path, path="app")
    assert changes_of(df, renamed) == set()
    assert changes_of(df, moved) == set()


def test_unparsable_file_is_an_error_row_and_its_fix_no_addition(repo: GitRepo) -> None:
    repo.write("app/a.yaml", cm("a"))
    repo.write("app/b.yaml", cm("b"))
    repo.commit("good")
    repo.write("app/a.yaml", "apiVersion: v1\nkind: [\n")
    repo.write("app/b.yaml", cm("b", "2"))
    broke = repo.commit("break a, change b")
    repo.write("app/a.yaml", cm("a"))
    fixed = repo.commit("fix a")
    df = resource_changes(repo.path, path="app")
    errors = df[df["change"] == "error"]
    assert list(errors["commit"]) == [broke]
    assert errors["file"].iloc[0] == "app/a.yaml"
    assert "app/a.yaml:" in str(errors["error"].iloc[0])
    assert changes_of(df, broke) == {("", "error"), ("ConfigMap/web/b", "modified")}
    assert changes_of(df, fixed) == set()


def test_renderer_used_where_kustomization_exists_and_cached_by_tree(repo: GitRepo) -> None:
    calls: list[tuple[str, str]] = []

    def render(commit: str, tree_id: str) -> list[Manifest]:
        # a stand-in for kustomize: the listed file, with a name prefix
        calls.append((commit, tree_id))
        text = repo.git("cat-file", "-p", f"{tree_id}:all.yaml")
        out = []
        for m in parse_documents(text, "kustomize:app"):
            obj = {**m.obj, "metadata": {**m.obj["metadata"], "name": "p-" + m.ref.name}}
            out.append(Manifest(obj, m.source, m.line))
        return out

    repo.write("app/all.yaml", cm("a"))
    plain = repo.commit("plain app")
    repo.write("app/kustomization.yaml", "namePrefix: p-\nresources: [all.yaml]\n")
    switched = repo.commit("kustomize it")
    repo.write("elsewhere.txt", "x")
    repo.commit("unrelated")
    repo.write("app/all.yaml", cm("a", "2"))
    bumped = repo.commit("bump")

    df = resource_changes(repo.path, path="app", renderer=render)
    assert changes_of(df, plain) == {("ConfigMap/web/a", "added")}
    assert changes_of(df, switched) == {
        ("ConfigMap/web/a", "removed"),
        ("ConfigMap/web/p-a", "added"),
    }
    assert changes_of(df, bumped) == {("ConfigMap/web/p-a", "modified")}
    trees = [t for _, t in calls]
    assert len(trees) == len(set(trees)) == 2  # one render per distinct tree


def test_renderer_error_is_reported(repo: GitRepo) -> None:
    from gitops_nb.errors import RenderError

    def render(commit: str, tree_id: str) -> list[Manifest]:
        raise RenderError("app/kustomization.yaml:1", "kustomize build failed")

    repo.write("app/kustomization.yaml", "resources: []\n")
    c1 = repo.commit("k")
    df = resource_changes(repo.path, path="app", renderer=render)
    assert list(df["change"]) == ["error"]
    assert df["commit"].iloc[0] == c1
    assert "kustomize build failed" in str(df["error"].iloc[0])


def test_empty_result_has_columns(repo: GitRepo) -> None:
    repo.write("x.txt", "x")
    repo.commit("x")
    df = resource_changes(repo.path, path="app")
    assert df.empty
    assert {"commit", "time", "object", "change", "file", "error"} <= set(df.columns)
