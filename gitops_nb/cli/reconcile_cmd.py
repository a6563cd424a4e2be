"""``gitops-nb reconcile``: one headless run, as the CronJob runs it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from dataclasses import replace
from typing import Any

from gitops_nb import config
from gitops_nb.cli.common import (
    add_guard_flags,
    add_source_flags,
    credentials,
    helm_settings,
    policy_text,
    verify_settings,
)
from gitops_nb.cli.fleet_cmds import reconcile_fleet_cmd
from gitops_nb.cli.helptext import add_command
from gitops_nb.errors import GitOpsError
from gitops_nb.fleet.apps import is_fleet
from gitops_nb.usecases.jsonlog import capture_stray_output, event, json_logger
from gitops_nb.usecases.reconcile import reconcile_app


def cmd_reconcile(args: argparse.Namespace) -> int:
    log = json_logger()
    capture_stray_output(log)
    if is_fleet(args.config):  # apps:/generators: — one process, many apps
        return reconcile_fleet_cmd(args, log)
    try:  # every line the job writes is JSON, a bad config included
        cfg = config.load(
            args.config,
            os.environ,
            {
                "app": args.app,
                "repo": args.repo,
                "ref": args.ref,
                "path": args.path,
                "namespace": args.namespace,
                "mode": args.mode,
                "history_dir": args.history_dir,
                "kubeconfig": args.kubeconfig,
                "cache_dir": args.cache_dir,
                "prune": False if args.no_prune else None,
                "ignore_defaults": False if args.no_default_ignores else None,
                "policy": policy_text(args),
                "service_account_name": args.as_service_account,
                "reconciler_namespace": args.reconciler_namespace,
                "adopt": True if args.adopt else None,
            },
        )
        if args.ignore:  # flags add to the config's rules
            cfg = replace(cfg, ignore=(*cfg.ignore, *args.ignore)).validate()
        cfg = replace(
            cfg, verify=verify_settings(args, cfg.verify), helm=helm_settings(args, cfg.helm)
        )
    except GitOpsError as e:
        event(log, "config-invalid", logging.ERROR, error=str(e))
        return e.exit_code
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()  # finish the object in flight, record the run as interrupted

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        result = reconcile_app(
            cfg, log, trigger=args.trigger, stop=stop, credentials=credentials(args)
        )
    except GitOpsError as e:  # before the run could start: no kubeconfig, bad credentials
        event(log, "run-not-started", logging.ERROR, app=cfg.app, error=str(e))
        return e.exit_code
    return result.exit_code


def register(sub: Any) -> None:
    rc = add_command(
        sub,
        "reconcile",
        "one headless reconcile run (the CronJob's command); JSON logs, exit code per outcome",
    )
    add_source_flags(rc, repo_required=False)
    add_guard_flags(rc)
    rc.add_argument("--config", default=None, help="YAML config file (AppConfig keys)")
    rc.add_argument("--mode", choices=("correct", "detect"), default=None)
    rc.add_argument("--no-prune", action="store_true", help="never delete (correct mode)")
    rc.add_argument("--history-dir", default=None, help="write run records here, not to ConfigMaps")
    rc.add_argument(
        "--trigger",
        default=os.environ.get("GITOPS_NB_TRIGGER", "manual"),
        help="recorded in the run (schedule, manual, webhook…)",
    )
    rc.add_argument(
        "--shards",
        type=int,
        default=None,
        help="fleet: split apps into N shards; this pod's "
        "shard is $JOB_COMPLETION_INDEX (overrides shards: in the config)",
    )
    rc.set_defaults(func=cmd_reconcile)
