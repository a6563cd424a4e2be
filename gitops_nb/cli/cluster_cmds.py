"""``gitops-nb local-cluster up|down``: a local control plane for experiments."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from typing import Any

from gitops_nb.cli.helptext import add_command
from gitops_nb.errors import ExitCode


def _default_cluster_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gitops-nb" / "local-cluster"


def cmd_cluster_up(args: argparse.Namespace) -> int:
    # Imported here: the control plane's modules (PKI, cryptography) would slow every other
    # command's start.
    from gitops_nb.localcluster import LocalCluster, stop_detached

    workdir = Path(args.workdir or _default_cluster_dir())
    stop_detached(workdir)  # a previous detached cluster in the same place
    cluster = LocalCluster(workdir=workdir, detach=args.detach, nodes=args.nodes)
    cluster.start()
    print(f"kubeconfig: {cluster.kubeconfig}")
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    nodes = f" with {args.nodes} kwok nodes" if args.nodes else ""
    print(f"ready{nodes} in {cluster.started_in_s:.1f}s; logs in {workdir}", flush=True)
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


def register(sub: Any) -> None:
    lc = add_command(
        sub, "local-cluster", "a local etcd + kube-apiserver + controller-manager (+ kwok nodes)"
    )
    lcs = lc.add_subparsers(dest="action", required=True)
    up = add_command(
        lcs,
        "up",
        "start etcd, kube-apiserver, controller-manager (and kwok nodes); print the kubeconfig",
        key="local-cluster up",
    )
    up.add_argument("--detach", action="store_true", help="return once ready, leave it running")
    up.add_argument("--workdir", default=None, help="state, certificates and logs")
    up.add_argument(
        "--nodes",
        type=int,
        default=2,
        help="simulated kwok nodes, so Pods run (default 2; 0: control plane only)",
    )
    up.set_defaults(func=cmd_cluster_up)
    down = add_command(
        lcs,
        "down",
        "stop a detached local cluster; returns once every component has exited",
        key="local-cluster down",
    )
    down.add_argument(
        "--workdir", default=None, help="the cluster's directory (default: as for up)"
    )
    down.set_defaults(func=cmd_cluster_down)
