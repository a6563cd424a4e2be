"""Issue 13 item 13: every malformed Git URL is a one-line error and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.errors import ExitCode, UnsafeSourceError
from gitops_nb.source.git import validate_url

MALFORMED = [
    "https://[x",
    "https://]x/repo",
    "file://[x",
    "https://host:99999/repo",
    "https://host:abc/repo",
    "ssh://git@[::1/repo",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_url_is_unsafe_source(url: str) -> None:
    with pytest.raises(UnsafeSourceError, match="git URL"):
        validate_url(url)


@pytest.mark.parametrize("command", ["diff", "apply", "report"])
@pytest.mark.parametrize("url", MALFORMED)
def test_cli_malformed_url_one_line_exit_2(
    command: str, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, "--repo", url, "--cache-dir", str(tmp_path / "cache")]
    if command == "report":
        argv += ["-o", str(tmp_path / "r.html")]
    code = main(argv)
    _out, err = capsys.readouterr()
    assert code == ExitCode.ERROR
    assert "Traceback" not in err
    assert err.strip().count("\n") == 0, err
    assert err.startswith("error: git URL")
