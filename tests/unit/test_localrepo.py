"""``--repo`` takes any local clone: work tree, bare clone, file:// URL, linked worktree,
shallow clone — for fetching (diff, apply, reconcile, report) and for history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.errors import RefNotFoundError
from gitops_nb.history import commits
from gitops_nb.source import SourceSpec, fetch
from tests.gitrepo import CLONE_KINDS, local_clone


@pytest.mark.parametrize("kind", CLONE_KINDS)
def test_fetch_from_any_local_clone(kind: str, tmp_path: Path) -> None:
    repo, tip, _ = local_clone(kind, tmp_path)
    for ref in ("HEAD", "main"):
        checkout = fetch(SourceSpec(repo, ref, "app"), tmp_path / "cache")
        assert checkout.revision.commit == tip
        assert "k: '2'" in (checkout.root / "app" / "cm.yaml").read_text()


@pytest.mark.parametrize("kind", CLONE_KINDS)
def test_history_commits_from_any_local_clone(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_NB_CACHE_DIR", str(tmp_path / "cache"))
    repo, _, shas = local_clone(kind, tmp_path)
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
    repo, _, _ = local_clone("worktree", tmp_path)
    code = main(["history", "commits", "--repo", f"{repo}/app", "--path", ".", "-o", "json"])
    assert code == 2
    assert "not a Git repository" in capsys.readouterr().err


def test_unknown_ref_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _, _ = local_clone("bare", tmp_path)
    with pytest.raises(RefNotFoundError, match="ref 'nope' not found"):
        commits(repo, "nope", "app")
    code = main(["history", "commits", "--repo", repo, "--ref", "nope", "--path", "app"])
    assert code == 2 and "ref 'nope' not found" in capsys.readouterr().err
