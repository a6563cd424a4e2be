"""``--config`` on diff and apply: the app's own settings, so that a one-off ``diff`` judges
drift with exactly the ignore rules, policy, identity, verification and Helm values that
``reconcile`` uses. Flags given on the command line still win (rules add to the config's)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gitops_nb import config
from gitops_nb.cli.common import credentials
from gitops_nb.config import AppConfig
from gitops_nb.errors import ConfigError
from gitops_nb.fleet import apps as fleet_apps
from gitops_nb.usecases.fleet import resolve_apps


def add_config_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="take the app's settings (repo, path, ignore rules, policy, verify, helm…) from "
        "the reconciler's config; a fleet config needs --app; flags override or add",
    )


def app_config(args: argparse.Namespace) -> AppConfig:
    """The app ``--config`` describes: the file itself, or the fleet's app named ``--app``."""
    path = str(args.config)
    if not fleet_apps.is_fleet(path):
        overrides = {"app": args.app} if args.app else None
        return config.load(path, os.environ, overrides)
    fleet = fleet_apps.load(path, os.environ)
    apps = {a.config.app: a.config for a in resolve_apps(fleet, credentials(args))}
    if args.app in apps:
        return apps[args.app]
    names = ", ".join(sorted(apps)) or "none"
    what = f"has no app {args.app!r}" if args.app else "is a fleet config: name the app with --app"
    raise ConfigError(f"{path}: {what} (apps: {names})")


def with_app_config(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` completed from ``--config``: a flag left unset takes the config's value."""
    if not getattr(args, "config", None):
        if not args.repo:
            raise ConfigError("--repo is required (or --config FILE)")
        return args
    cfg = app_config(args)
    filled: dict[str, Any] = dict(vars(args))
    defaults: dict[str, Any] = {
        "repo": cfg.repo,
        "ref": cfg.ref,
        "path": cfg.path,
        "app": cfg.app,
        "namespace": cfg.namespace,
        "kubeconfig": cfg.kubeconfig or None,
        "cache_dir": Path(cfg.cache_dir) if cfg.cache_dir else None,
        "as_service_account": cfg.service_account_name or None,
        "reconciler_namespace": cfg.reconciler_namespace or None,
    }
    for flag, value in defaults.items():
        if filled.get(flag) is None:
            filled[flag] = value
    filled["ignore"] = [*cfg.ignore, *args.ignore]
    filled["no_default_ignores"] = args.no_default_ignores or not cfg.ignore_defaults
    filled["adopt"] = getattr(args, "adopt", False) or cfg.adopt
    if "wait" in filled:
        filled["wait"] = args.wait or cfg.wait
    filled["app_config"] = cfg
    return argparse.Namespace(**filled)
