"""``gitops-nb diff`` and ``gitops-nb apply``: one app, from the source flags."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from gitops_nb.cli.appconfig import add_config_flag, with_app_config
from gitops_nb.cli.common import (
    add_guard_flags,
    add_source_flags,
    console,
    err_console,
    ignore_rules,
    policy,
    source_spec,
)
from gitops_nb.cli.helptext import add_command
from gitops_nb.cli.output import diff_summary, render_changeset, render_diff
from gitops_nb.cli.progress import Progress
from gitops_nb.config import parse_duration
from gitops_nb.engine import SyncOptions
from gitops_nb.engine.wait import DEFAULT_TIMEOUT_S
from gitops_nb.model import DiffStatus
from gitops_nb.policyspec import Policy
from gitops_nb.source import default_app_name
from gitops_nb.usecases.sync import apply_app, diff_app


def sync_options(args: argparse.Namespace) -> SyncOptions:
    """Options from the flags common to diff, apply and report."""
    return SyncOptions(
        app=args.app or default_app_name(source_spec(args)),
        namespace=args.namespace or "default",
        fast=not getattr(args, "precise", False),
        ignore=ignore_rules(args),
        policy=policy(args) if hasattr(args, "policy") else Policy(),
        service_account=getattr(args, "as_service_account", None) or "",
        adopt=getattr(args, "adopt", False),
    )


def cmd_diff(args: argparse.Namespace) -> int:
    args = with_app_config(args)
    opts = sync_options(args)
    with Progress(err_console(), "diffing") as progress:
        result = diff_app(
            source_spec(args),
            opts,
            kubeconfig=args.kubeconfig,
            cache_dir=args.cache_dir,
            on_rendered=progress.rendered,
            progress=progress,
        )
    diffs = result.report.diffs
    shown = [d for d in diffs if d.status is not DiffStatus.IN_SYNC] if args.only_drifted else diffs
    out = console()
    render_diff(opts.app, result.revision, shown, args.output, out, result.health)
    if args.output == "table":
        out.print(diff_summary(diffs), markup=False, highlight=False)
    _warn(result.report.warnings)
    return result.exit_code


def _warn(warnings: Sequence[str]) -> None:
    for w in warnings:
        err_console().print(f"warning: {w}", markup=False, highlight=False)


def cmd_apply(args: argparse.Namespace) -> int:
    args = with_app_config(args)
    opts = replace(
        sync_options(args),
        prune=args.prune,
        dry_run=args.dry_run,
        force_conflicts=args.force_conflicts,
        allow_mass_prune=args.allow_mass_prune,
        max_prune_ratio=args.max_prune_ratio,
        ignore=ignore_rules(args),
    )
    verb = "dry-run applying" if args.dry_run else "applying"
    with Progress(err_console(), verb) as progress:
        result = apply_app(
            source_spec(args),
            opts,
            kubeconfig=args.kubeconfig,
            cache_dir=args.cache_dir,
            on_rendered=progress.rendered,
            wait_s=args.timeout if args.wait else None,
            progress=progress,
        )
    render_changeset(
        result.changes,
        args.output,
        console(),
        dry_run=args.dry_run,
        verbose=args.verbose,
        health=result.health,
    )
    _warn(result.warnings)
    for e in result.changes.failed:
        # Errors usually name the object already; do not print it twice.
        error = e.error or ""
        text = error if error.startswith(f"{e.ref}:") else f"{e.ref}: {error}"
        err_console().print(f"failed: {text}", markup=False, highlight=False)
    if result.health is not None and result.health.not_healthy:
        why = "timed out" if result.health.timed_out else "an object Failed"
        err_console().print(
            f"not healthy after {result.health.waited_s:.0f}s ({why}):",
            markup=False,
            highlight=False,
        )
        for ref, h in result.health.unhealthy:
            line = f"  {ref}: {h.status} {h.reason}: {h.message}"
            err_console().print(line, markup=False, highlight=False)
    return result.exit_code


def register(sub: Any) -> None:
    p = add_command(sub, "diff", "diff Git against the live cluster (read-only)")
    add_source_flags(p, repo_required=False)
    add_config_flag(p)
    add_guard_flags(p)
    p.add_argument(
        "--precise",
        action="store_true",
        help="dry-run every object, ignoring fingerprints of untouched ones",
    )
    p.add_argument("-o", "--output", choices=("table", "json", "yaml", "markdown"), default="table")
    p.add_argument(
        "--only-drifted",
        action="store_true",
        help="leave objects in sync out of the output (the summary line still counts them)",
    )
    p.set_defaults(func=cmd_diff)

    p = add_command(sub, "apply", "server-side apply Git to the cluster (and prune)")
    add_source_flags(p, repo_required=False)
    add_config_flag(p)
    add_guard_flags(p)
    p.add_argument(
        "--precise",
        action="store_true",
        help="dry-run every object, ignoring fingerprints of untouched ones",
    )
    p.add_argument("--prune", action="store_true", help="delete ApplySet members Git dropped")
    p.add_argument("--dry-run", action="store_true", help="validate with the server, write nothing")
    p.add_argument(
        "--force-conflicts",
        action="store_true",
        help="take over conflicting fields and remove fields other managers added",
    )
    p.add_argument(
        "--allow-mass-prune",
        action="store_true",
        help="allow pruning more than --max-prune-ratio of the inventory",
    )
    p.add_argument("--max-prune-ratio", type=float, default=0.5)
    p.add_argument(
        "--wait",
        action="store_true",
        help="wait until every applied object is Current (kstatus); exit 7 if not in time",
    )
    p.add_argument(
        "--timeout",
        type=duration,
        default=DEFAULT_TIMEOUT_S,
        metavar="DURATION",
        help="how long --wait waits: 90s, 5m, 1h or seconds (default 5m)",
    )
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list unchanged objects too (default: a summary and the objects that changed)",
    )
    p.set_defaults(func=cmd_apply)


def duration(text: str) -> float:
    """argparse type (named for its error message: "invalid duration value")."""
    return parse_duration(text)
