"""A `--repo` path that does not exist: one line on stderr, exit 2, for every command."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_nb.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_missing_repository_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-repo"
    for argv in (
        ["diff", "--repo", str(missing), "--kubeconfig", "/dev/null"],
        ["apply", "--repo", str(missing), "--kubeconfig", "/dev/null"],
        ["history", "commits", "--repo", str(missing)],
        ["report", "--repo", str(missing), "-o", "-"],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2, argv
        assert out == ""
        assert err == f"error: repository {missing}: no such directory\n", argv
