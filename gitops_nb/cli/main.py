"""The ``gitops-nb`` command. Parses flags, calls the use cases, formats records.

Exit codes (see README): 0 ok / in sync, 1 drift found, 2 error or failed objects,
3 transient failure, 4 lease held by another run, 5 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from gitops_nb import __version__
from gitops_nb.cli import cluster_cmds, fleet_cmds, history_cmds, reconcile_cmd, sync_cmds
from gitops_nb.cli.common import err_console
from gitops_nb.cli.helptext import Parser
from gitops_nb.errors import ExitCode, GitOpsError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gitops-nb",
        description="GitOps for Kubernetes: reconcile from Git, attribute drift, audit history.",
        epilog="Run gitops-nb COMMAND --help for a command's flags, examples and exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"gitops-nb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in (sync_cmds, reconcile_cmd, fleet_cmds, history_cmds, cluster_cmds):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # name the innermost sub-command's usage, not the top level's
        _innermost(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return _run(args)
    finally:
        if os.environ.get("GITOPS_NB_REQUEST_LOG"):
            from gitops_nb.kube.client import Kube
            from gitops_nb.kube.tally import TALLY

            tally = {"event": "requests", "count": Kube.total_requests, **TALLY.snapshot()}
            print(json.dumps(tally), file=sys.stderr)


def subcommands(parser: argparse.ArgumentParser) -> tuple[str, dict[str, argparse.ArgumentParser]]:
    """The parser's sub-command ``dest`` and its parsers by name (``("", {})``: none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.dest, dict(action.choices)
    return "", {}


def _innermost(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The parser of the sub-command ``args`` chose, nested ones too (``local-cluster down``)."""
    while True:
        dest, parsers = subcommands(parser)
        chosen = parsers.get(getattr(args, dest, None) or "") if dest else None
        if chosen is None:
            return parser
        parser = chosen


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
    except GitOpsError as e:
        err_console().print(f"error: {e}", markup=False, highlight=False)
        if args.command in ("diff", "apply") and e.exit_code != ExitCode.VERIFY_FAILED:
            return ExitCode.ERROR  # like `kubectl diff`: 0 same, 1 differs, 2 error
        return e.exit_code
    except KeyboardInterrupt:
        err_console().print("interrupted", markup=False)
        return ExitCode.INTERRUPTED
    return code
