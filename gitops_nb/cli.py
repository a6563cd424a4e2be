"""The ``gitops-nb`` command. Parses flags, calls the package, formats records.

Exit codes (see README): 0 ok / in sync, 1 drift found, 2 error or failed objects,
3 transient failure, 4 lease held by another run, 5 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from gitops_nb.errors import ExitCode, GitOpsError
from gitops_nb.source import Credentials, SourceSpec


def _width() -> int | None:
    # Rich assumes 80 columns off a terminal; logs and CI output are wider than that.
    return None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160


def _console() -> Console:
    return Console(soft_wrap=True, width=_width())


def _err_console() -> Console:
    return Console(stderr=True, soft_wrap=True, width=_width())


def add_source_flags(p: argparse.ArgumentParser, *, repo_required: bool = True) -> None:
    g = p.add_argument_group("source")
    g.add_argument("--repo", required=repo_required, help="Git URL or local path")
    g.add_argument("--ref", default=None, help="branch, tag or commit (default: remote HEAD)")
    g.add_argument("--path", default=None, help="app directory inside the repo (default: .)")
    g.add_argument("--app", default=None, help="app name (default: the path's directory name)")
    g.add_argument("--namespace", "-n", default=None, help="default namespace (default: default)")
    g.add_argument(
        "--kubeconfig", default=None, help="kubeconfig file (default: in-cluster or ~/.kube/config)"
    )
    g.add_argument("--cache-dir", type=Path, default=None, help="Git mirror cache directory")
    g.add_argument(
        "--git-token-file", type=Path, default=None, help="HTTPS token, read from a file"
    )
    g.add_argument("--git-username-file", type=Path, default=None)
    g.add_argument("--git-password-file", type=Path, default=None)
    g.add_argument("--git-ssh-key-file", type=Path, default=None)
    g.add_argument("--git-known-hosts-file", type=Path, default=None)


def source_spec(args: argparse.Namespace) -> SourceSpec:
    creds = Credentials.from_env(os.environ)
    overrides = {
        "token_file": args.git_token_file,
        "username_file": args.git_username_file,
        "password_file": args.git_password_file,
        "ssh_key_file": args.git_ssh_key_file,
        "known_hosts_file": args.git_known_hosts_file,
    }
    from dataclasses import replace

    creds = replace(creds, **{k: v for k, v in overrides.items() if v is not None})
    return SourceSpec(
        url=args.repo, ref=args.ref or "HEAD", path=args.path or ".", credentials=creds
    )


def build_parser() -> argparse.ArgumentParser:
    from gitops_nb import cli_cmds

    parser = argparse.ArgumentParser(
        prog="gitops-nb",
        description="GitOps for Kubernetes: reconcile from Git, attribute drift, audit history.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("diff", help="diff Git against the live cluster (read-only)")
    add_source_flags(p)
    p.add_argument(
        "--precise",
        action="store_true",
        help="dry-run every object, ignoring fingerprints of untouched ones",
    )
    p.add_argument("-o", "--output", choices=("table", "json", "yaml", "markdown"), default="table")
    p.set_defaults(func=cli_cmds.cmd_diff)

    p = sub.add_parser("apply", help="server-side apply Git to the cluster (and prune)")
    add_source_flags(p)
    p.add_argument(
        "--precise",
        action="store_true",
        help="dry-run every object, ignoring fingerprints of untouched ones",
    )
    p.add_argument("--prune", action="store_true", help="delete ApplySet members Git dropped")
    p.add_argument("--dry-run", action="store_true", help="validate with the server, write nothing")
    p.add_argument("--force-conflicts", action="store_true", help="take over conflicting fields")
    p.add_argument(
        "--allow-mass-prune",
        action="store_true",
        help="allow pruning more than --max-prune-ratio of the inventory",
    )
    p.add_argument("--max-prune-ratio", type=float, default=0.5)
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")
    p.set_defaults(func=cli_cmds.cmd_apply)

    cli_cmds.add_more(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    finally:
        if os.environ.get("GITOPS_NB_REQUEST_LOG"):
            from gitops_nb.kube.client import Kube

            print(json.dumps({"event": "requests", "count": Kube.total_requests}), file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
    except GitOpsError as e:
        _err_console().print(f"error: {e}", markup=False, highlight=False)
        if args.command in ("diff", "apply"):
            return ExitCode.ERROR  # like `kubectl diff`: 0 same, 1 differs, 2 error
        return e.exit_code
    except KeyboardInterrupt:
        _err_console().print("interrupted", markup=False)
        return ExitCode.INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
