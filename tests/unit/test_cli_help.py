"""Every sub-command explains itself: description, examples, exit codes; typos get a hint."""

from __future__ import annotations

import datetime as dt

import pytest

from gitops_nb import __version__
from gitops_nb.cli import main
from gitops_nb.cli.common import iso_time
from gitops_nb.cli.helptext import EXIT_CODES

COMMANDS = ["diff", "apply", "reconcile", "history", "report", "local-cluster"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"gitops-nb {__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_description_examples_and_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "examples:\n  gitops-nb " + command in out
    assert "exit codes: " + EXIT_CODES[command] in " ".join(out.split())


# The exit codes each verb can return (README "Exit codes"); 6 wherever a commit is verified.
CODES = {
    "diff": {0, 1, 2, 5, 6},
    "apply": {0, 2, 5, 6, 7},
    "reconcile": {0, 1, 2, 3, 4, 5, 6, 7},
    "report": {0, 2, 3, 5, 6},
    "history": {0, 2, 3, 5},
    "apps": {0, 2, 3, 5},
}


@pytest.mark.parametrize("command", sorted(CODES))
def test_help_lists_exactly_the_exit_codes_of_the_verb(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    line = " ".join(capsys.readouterr().out.split()).split("exit codes: ", 1)[1]
    listed = {int(part.split()[0]) for part in line.split(" · ")}
    assert listed == CODES[command]
    assert ("6 refused by commit verification" in line) == (6 in CODES[command])


def test_reconcile_help_lists_every_code_and_the_fleet_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["reconcile", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for code in range(8):
        assert f" {code} " in out.split("exit codes:")[1], code
    assert "6 refused by commit verification" in out
    assert "7 wait: true and an object not Current in time" in out
    assert "most severe of its apps' codes, in this order: 5 > 6 > 2 > 7 > 3 > 4 > 1 > 0" in out


def test_mistyped_flag_gets_the_subcommands_usage_and_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["diff", "--repo", "x", "--precice"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: gitops-nb diff ")
    assert "unrecognized arguments: --precice; did you mean --precise?" in err


def test_mistyped_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["histroy", "runs"])
    assert done.value.code == 2
    assert "did you mean history?" in capsys.readouterr().err


def test_relative_and_iso_times() -> None:
    now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    assert iso_time("24h", now=now) == dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    assert iso_time("7d", now=now) == dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
    assert iso_time("90m", now=now) == dt.datetime(2026, 11, 28, 10, 30, tzinfo=dt.UTC)
    assert iso_time("2026-11-01T00:00:00") == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with pytest.raises(Exception, match="duration such as 24h"):
        iso_time("yesterday")
