"""Sub-command implementations for :mod:`gitops_nb.cli`."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from typing import Any

from gitops_nb.errors import ExitCode
from gitops_nb.model import Action, ObjectRef


def _engine_inputs(args: argparse.Namespace, *, read_only: bool = False) -> tuple[Any, Any, Any]:
    """(rendered manifests, client, base SyncOptions) from the source flags."""
    from gitops_nb.cli import source_spec
    from gitops_nb.kube.client import Kube, ReadOnlyKube
    from gitops_nb.pipeline import default_app_name, fetch_and_render
    from gitops_nb.sync import SyncOptions

    spec = source_spec(args)
    rendered = fetch_and_render(spec, args.cache_dir)  # before any API call: bad input fails here
    # diff and reports can only read: their client refuses writes before sending them
    kube = (ReadOnlyKube if read_only else Kube).from_kubeconfig(args.kubeconfig)
    opts = SyncOptions(
        app=args.app or default_app_name(spec),
        namespace=args.namespace or "default",
        fast=not getattr(args, "precise", False),
    )
    return rendered, kube, opts


def cmd_diff(args: argparse.Namespace) -> int:
    from gitops_nb.cli import _console
    from gitops_nb.output import render_diff
    from gitops_nb.sync import Engine

    rendered, kube, opts = _engine_inputs(args, read_only=True)
    report = Engine(kube).diff(rendered.manifests, opts)
    render_diff(opts.app, rendered.revision, report.diffs, args.output, _console())
    if report.errors:
        return ExitCode.ERROR
    return ExitCode.DRIFT if report.drifted else ExitCode.OK


def cmd_apply(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from gitops_nb.cli import _console, _err_console
    from gitops_nb.output import render_changeset
    from gitops_nb.sync import Engine

    rendered, kube, base = _engine_inputs(args)
    options = replace(
        base,
        prune=args.prune,
        dry_run=args.dry_run,
        force_conflicts=args.force_conflicts,
        allow_mass_prune=args.allow_mass_prune,
        max_prune_ratio=args.max_prune_ratio,
    )
    progress = _progress(len(rendered.manifests))
    try:
        engine = Engine(kube, on_object=progress[1] if progress else None)
        changes = engine.apply(rendered.manifests, options)
    finally:
        if progress:
            progress[0].stop()
    render_changeset(changes, args.output, _console(), dry_run=args.dry_run)
    for e in changes.failed:
        _err_console().print(f"failed: {e.ref}: {e.error}", markup=False, highlight=False)
    return ExitCode.ERROR if changes.failed else ExitCode.OK


def _progress(total: int) -> tuple[Any, Any] | None:
    """A progress bar on an interactive terminal for long runs (None otherwise)."""
    import sys

    if not sys.stderr.isatty() or total < 50:
        return None
    from rich.progress import Progress

    bar = Progress(transient=True, console=None)
    task = bar.add_task("applying", total=total)
    bar.start()

    def advance(_ref: ObjectRef, _action: Action, _err: str | None) -> None:
        bar.advance(task)

    return bar, advance


# -- local-cluster ---------------------------------------------------------------------------


def _default_cluster_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gitops-nb" / "local-cluster"


def cmd_cluster_up(args: argparse.Namespace) -> int:
    from gitops_nb.localcluster import LocalCluster, stop_detached

    workdir = Path(args.workdir or _default_cluster_dir())
    stop_detached(workdir)  # a previous detached cluster in the same place
    cluster = LocalCluster(workdir=workdir, detach=args.detach)
    cluster.start()
    print(f"kubeconfig: {cluster.kubeconfig}")
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    print(f"ready in {cluster.started_in_s:.1f}s; logs in {workdir}", flush=True)
    if args.detach:
        print("detached; stop it with: gitops-nb local-cluster down", flush=True)
        return ExitCode.OK
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return ExitCode.OK


def cmd_cluster_down(args: argparse.Namespace) -> int:
    from gitops_nb.localcluster import stop_detached

    workdir = Path(args.workdir or _default_cluster_dir())
    stopped = stop_detached(workdir)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return ExitCode.OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    from gitops_nb import config
    from gitops_nb.job import reconcile
    from gitops_nb.jsonlog import json_logger

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
        },
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()  # finish the object in flight, record the run as interrupted

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    from gitops_nb.cli import source_spec

    args.repo = args.repo or cfg.repo
    creds = source_spec(args).credentials
    result = reconcile(cfg, json_logger(), trigger=args.trigger, stop=stop, credentials=creds)
    return result.exit_code


def add_more(sub: Any) -> None:
    """Sub-commands beyond diff/apply."""
    from gitops_nb.cli import add_source_flags

    rc = sub.add_parser(
        "reconcile",
        help="one headless reconcile run (the CronJob's command); JSON logs, exit code per outcome",
    )
    add_source_flags(rc, repo_required=False)
    rc.add_argument("--config", default=None, help="YAML config file (AppConfig keys)")
    rc.add_argument("--mode", choices=("correct", "detect"), default=None)
    rc.add_argument("--no-prune", action="store_true", help="never delete (correct mode)")
    rc.add_argument("--history-dir", default=None, help="write run records here, not to ConfigMaps")
    rc.add_argument(
        "--trigger",
        default=os.environ.get("GITOPS_NB_TRIGGER", "manual"),
        help="recorded in the run (schedule, manual, webhook…)",
    )
    rc.set_defaults(func=cmd_reconcile)

    from gitops_nb.cli_history import add_commands

    add_commands(sub)
    lc = sub.add_parser("local-cluster", help="a local etcd + kube-apiserver + controller-manager")
    lcs = lc.add_subparsers(dest="action", required=True)
    up = lcs.add_parser("up", help="start it and print the kubeconfig")
    up.add_argument("--detach", action="store_true", help="return once ready, leave it running")
    up.add_argument("--workdir", default=None, help="state, certificates and logs")
    up.set_defaults(func=cmd_cluster_up)
    down = lcs.add_parser("down", help="stop a detached local cluster")
    down.add_argument("--workdir", default=None)
    down.set_defaults(func=cmd_cluster_down)
