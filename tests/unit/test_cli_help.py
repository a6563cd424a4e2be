"""Every sub-command explains itself: description, examples, exit codes; typos get a hint."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from gitops_nb import __version__
from gitops_nb.cli import main
from gitops_nb.cli.common import iso_time
from gitops_nb.cli.helptext import EXIT_CODES
from gitops_nb.cli.main import build_parser, subcommands


def _every_command(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[str]:
    """Every sub-command, nested ones too, read from the parser: a new verb is not forgotten."""
    out = []
    for name, child in subcommands(parser)[1].items():
        out.append(" ".join((*path, name)))
        out.extend(_every_command(child, (*path, name)))
    return out


COMMANDS = _every_command(build_parser())


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
        main([*command.split(), "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    description = out.split("\n\n")[1]
    assert description[:1].isupper() and description.rstrip().endswith(".")
    assert "examples:\n  gitops-nb " + command in out
    assert "exit codes: " + " ".join(EXIT_CODES[command].split()) in " ".join(out.split())


def test_the_help_test_covers_every_verb() -> None:
    assert {"apps", "history", "local-cluster up", "local-cluster down"} <= set(COMMANDS)


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


@pytest.mark.parametrize(
    ("argv", "usage", "hint"),
    [
        (
            ["local-cluster", "down", "--workdri", "x"],
            "usage: gitops-nb local-cluster down ",
            "unrecognized arguments: --workdri x; did you mean --workdir?",
        ),
        (  # a prefix is not taken as the flag: it used to start a cluster with 3 nodes
            ["local-cluster", "up", "--node", "3"],
            "usage: gitops-nb local-cluster up ",
            "unrecognized arguments: --node 3; did you mean --nodes?",
        ),
        (
            ["diff", "--repo", "x", "--prec"],
            "usage: gitops-nb diff ",
            "unrecognized arguments: --prec",
        ),
        (["history", "rnus"], "usage: gitops-nb history ", "did you mean runs?"),
    ],
)
def test_nested_commands_views_and_prefixes_get_their_usage_and_a_suggestion(
    argv: list[str], usage: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    assert hint in err


def test_no_parser_accepts_abbreviations() -> None:
    def parsers(p: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        return [p, *(q for c in subcommands(p)[1].values() for q in parsers(c))]

    assert all(not p.allow_abbrev for p in parsers(build_parser()))


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
