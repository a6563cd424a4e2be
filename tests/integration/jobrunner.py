"""Run `gitops-nb reconcile` as a real subprocess, as the CronJob would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gitops_nb.localcluster import LocalCluster


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITOPS_NB_", "KUBE"))}
    env.update(extra or {})
    return env


def reconcile_args(
    repo: Path, path: str, app: str, namespace: str, cache: Path, *extra: str
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gitops_nb.cli",
        "reconcile",
        "--repo",
        str(repo),
        "--path",
        path,
        "--app",
        app,
        "--namespace",
        namespace,
        "--cache-dir",
        str(cache),
        *extra,
    ]


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run(
    args: list[str], env: dict[str, str], timeout: float = 240
) -> tuple[int, list[dict[str, Any]], str]:
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, parse(p.stdout), p.stderr


def parse(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def admin_env(cluster: LocalCluster, extra: dict[str, str] | None = None) -> dict[str, str]:
    return base_env({"KUBECONFIG": str(cluster.kubeconfig), **(extra or {})})


def wait_for_line(p: subprocess.Popen[str], event: str, timeout: float = 120) -> list[str]:
    """Read stdout lines until one has the given event; return the lines read."""
    assert p.stdout is not None
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        lines.append(line)
        if json.loads(line).get("event") == event:
            return lines
    raise AssertionError(f"no {event!r} in {lines}")
