"""``gitops-nb apps`` (what a fleet config makes) and the fleet branch of ``reconcile``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from gitops_nb import config
from gitops_nb.cli.common import console, credentials, policy_text
from gitops_nb.cli.helptext import add_command
from gitops_nb.errors import ConfigError, GitOpsError
from gitops_nb.fleet import apps as fleet_apps
from gitops_nb.fleet.shards import shard_index, shard_of
from gitops_nb.kube.client import ReadOnlyKube, load_configuration
from gitops_nb.usecases.fleet import (
    find_orphans,
    known_apps,
    reconcile_fleet,
    removal_verdict,
    resolve_apps,
)
from gitops_nb.usecases.jsonlog import event


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Flags that apply to every app of the fleet, as AppConfig field values."""
    given = {
        "ref": getattr(args, "ref", None),
        "mode": getattr(args, "mode", None),
        "historyDir": getattr(args, "history_dir", None),
        "kubeconfig": getattr(args, "kubeconfig", None),
        "cacheDir": getattr(args, "cache_dir", None),
        "prune": False if getattr(args, "no_prune", False) else None,
        "ignoreDefaults": False if getattr(args, "no_default_ignores", False) else None,
        "policy": policy_text(args) if getattr(args, "policy", None) is not None else None,
        "serviceAccountName": getattr(args, "as_service_account", None),
        "reconcilerNamespace": getattr(args, "reconciler_namespace", None),
        "adopt": True if getattr(args, "adopt", False) else None,
    }
    return config.from_mapping({k: v for k, v in given.items() if v is not None}, "flags")


def reconcile_fleet_cmd(args: argparse.Namespace, log: logging.Logger) -> int:
    """``reconcile --config F`` when F declares ``apps:``/``generators:``."""
    for flag in ("app", "repo", "path", "namespace", "ignore"):
        if getattr(args, flag, None):
            event(
                log,
                "config-invalid",
                logging.ERROR,
                error=f"--{flag} does not apply to a fleet config",
            )
            return ConfigError.exit_code
    try:
        fleet = fleet_apps.load(args.config, os.environ)
        shards = args.shards or fleet.shards
        if args.shards:
            fleet = _with_shards(fleet, shards)
        index = shard_index(shards, os.environ)
        apps = resolve_apps(fleet, credentials(args), _overrides(args))
    except GitOpsError as e:
        event(
            log,
            "config-invalid" if isinstance(e, ConfigError) else "fleet-failed",
            logging.ERROR,
            error=str(e),
        )
        return e.exit_code
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        result = reconcile_fleet(
            fleet,
            apps,
            log,
            shard=index,
            trigger=args.trigger,
            stop=stop,
            credentials=credentials(args),
        )
    except GitOpsError as e:  # no kubeconfig: nothing could start
        event(log, "run-not-started", logging.ERROR, error=str(e))
        return e.exit_code
    return result.exit_code


def _with_shards(fleet: fleet_apps.FleetConfig, shards: int) -> fleet_apps.FleetConfig:
    if not 1 <= shards <= 1000:
        raise ConfigError(f"--shards: {shards} must be between 1 and 1000")
    return replace(fleet, shards=shards)


def cmd_apps(args: argparse.Namespace) -> int:
    fleet = fleet_apps.load(args.config, os.environ)
    if args.shards:
        fleet = _with_shards(fleet, args.shards)
    apps = resolve_apps(fleet, credentials(args), _overrides(args))
    if args.removed:
        kube = ReadOnlyKube(
            load_configuration(args.kubeconfig or fleet.defaults.get("kubeconfig") or None)
        )
        known = known_apps(kube, fleet)
        orphans = find_orphans(kube, fleet, apps, known)
        decided = removal_verdict(fleet, apps, known, orphans)
        rows = [
            {
                **o.to_dict(),
                "shard": shard_of(o.name, fleet.shards),
                "wouldPrune": decided.prune,
                "guard": decided.guard,
                "why": decided.why,
            }
            for o in orphans
        ]
        if args.output == "json":
            print(json.dumps(rows, indent=2))
        else:
            title = "removed apps: what the next reconcile does with them (dry-run)"
            table = Table("NAME", "NAMESPACE", "SHARD", "PRUNED", "WHY", title=title)
            for r in rows:
                cells = (r["name"], r["namespace"], r["shard"], r["wouldPrune"], r["why"])
                table.add_row(*(Text(str(c)) for c in cells))
            console().print(table)
        return 0
    docs = [a.to_dict() for a in apps]
    if args.output == "json":
        print(json.dumps(docs, indent=2))
        return 0
    table = Table("NAME", "NAMESPACE", "PATH", "SHARD", "COMMIT", "SOURCE")
    for d in docs:
        table.add_row(
            *(
                Text(str(d[k] if d[k] is not None else "-")[: 12 if k == "commit" else None])
                for k in ("name", "namespace", "path", "shard", "commit", "source")
            )
        )
    console().print(table)
    return 0


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "apps",
        "list the apps a fleet config makes (explicit apps and generators); touches nothing",
    )
    p.add_argument("--config", required=True, help="fleet config file (apps:/generators:)")
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")
    p.add_argument("--shards", type=int, default=None, help="override shards: (shard column)")
    p.add_argument(
        "--removed",
        action="store_true",
        help="dry-run of removals: the apps the fleet remembers and no longer makes, whether "
        "the next reconcile would prune them (pruneRemovedApps) and whether the fleet-wide "
        "mass-prune guard would refuse (reads the cluster)",
    )
    p.add_argument("--kubeconfig", default=None, help="for --removed")
    p.add_argument("--cache-dir", default=None, help="Git mirror cache")
    g = p.add_argument_group("git credentials")
    for flag in (
        "--git-token-file",
        "--git-username-file",
        "--git-password-file",
        "--git-ssh-key-file",
        "--git-known-hosts-file",
    ):
        g.add_argument(flag, type=Path, default=None)
    p.set_defaults(func=cmd_apps)
