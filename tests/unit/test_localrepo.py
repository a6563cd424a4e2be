"""``--repo`` takes any local clone: work tree, bare clone, file:// URL, linked worktree,
shallow clone — for fetching (diff, apply, reconcile, report) and for history."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.errors import RefNotFoundError
from gitops_nb.history import commits
from gitops_nb.source import SourceSpec, fetch
from tests.gitrepo import GitRepo

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: '{}'\n"
KINDS = ("worktree", "bare", "file-url", "linked-worktree", "shallow")


def make(kind: str, tmp_path: Path) -> tuple[str, str, list[str]]:
    """A ``--repo`` value of the given kind, its tip, and the commits that touched ``app/``
    in the history it holds, newest first."""
    origin = GitRepo(tmp_path / "origin")
    shas = []
    for i in range(3):
        origin.write("app/cm.yaml", CM.format(i))
        shas.append(origin.commit(f"app v{i}"))
    origin.write("README.md", "not the app\n")
    tip = origin.commit("docs")
    shas.reverse()
    if kind == "worktree":
        return str(origin.path), tip, shas
    if kind in ("bare", "file-url"):
        bare = tmp_path / "bare.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(origin.path), str(bare)], check=True)
        return (str(bare) if kind == "bare" else bare.as_uri()), tip, shas
    if kind == "linked-worktree":
        linked = tmp_path / "linked"
        origin.git("worktree", "add", "-q", "-b", "feature", str(linked))
        return str(linked), tip, shas
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", origin.path.as_uri(), str(shallow)], check=True
    )
    # Its history ends where the clone does: the one commit holds (adds) every file.
    return str(shallow), tip, [tip]


@pytest.mark.parametrize("kind", KINDS)
def test_fetch_from_any_local_clone(kind: str, tmp_path: Path) -> None:
    repo, tip, _ = make(kind, tmp_path)
    for ref in ("HEAD", "main"):
        checkout = fetch(SourceSpec(repo, ref, "app"), tmp_path / "cache")
        assert checkout.revision.commit == tip
        assert "k: '2'" in (checkout.root / "app" / "cm.yaml").read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_history_commits_from_any_local_clone(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_NB_CACHE_DIR", str(tmp_path / "cache"))
    repo, _, shas = make(kind, tmp_path)
    code = main(["history", "commits", "--repo", repo, "--path", "app", "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert [c["commit"] for c in json.loads(out)] == shas
    code = main(["history", "changes", "--repo", repo, "--path", "app", "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert {r["commit"] for r in json.loads(out)} == set(shas)


def test_a_subdirectory_of_a_work_tree_is_not_a_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _, _ = make("worktree", tmp_path)
    code = main(["history", "commits", "--repo", f"{repo}/app", "--path", ".", "-o", "json"])
    assert code == 2
    assert "not a Git repository" in capsys.readouterr().err


def test_unknown_ref_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _, _ = make("bare", tmp_path)
    with pytest.raises(RefNotFoundError, match="ref 'nope' not found"):
        commits(repo, "nope", "app")
    code = main(["history", "commits", "--repo", repo, "--ref", "nope", "--path", "app"])
    assert code == 2 and "ref 'nope' not found" in capsys.readouterr().err
