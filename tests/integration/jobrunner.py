"""Run `gitops-nb reconcile` as a real subprocess, as the CronJob would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gitops_nb.errors import ForbiddenError
from gitops_nb.kube.client import Kube, load_configuration
from gitops_nb.kube.discovery import Discovery
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Manifest

from .helpers import SA, path_of


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


def sa_config(cluster: LocalCluster, token: str) -> Any:
    """A client configuration holding ``token`` instead of the admin's client certificate."""
    cfg = load_configuration(cluster.kubeconfig)
    cfg.cert_file = cfg.key_file = None
    cfg.api_key = {"authorization": f"Bearer {token}"}
    return cfg


def as_reconciler(
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    app_namespace: str,
    install: list[Manifest],
    tmp_path: Path,
) -> tuple[dict[str, str], Kube]:
    """The shipped RBAC applied for real, and an in-cluster-style environment holding only a
    token of the reconciler's ServiceAccount (in ``namespace``, which the reconciler takes
    as its own). ``install``: the rendered ``jobs/`` and ``jobs/app/`` (relocated). Returns
    the environment and a client acting as that ServiceAccount (close it), once the
    authorizer lets it and the app's ``deployer`` work in ``app_namespace``."""
    disco = Discovery(kube)
    for m in install:
        if m.obj["kind"] in ("ServiceAccount", "Role", "RoleBinding") or (
            m.obj["kind"] == "Namespace" and m.obj["metadata"]["name"] == app_namespace
        ):
            kube.apply(path_of(disco, m.obj), m.obj, field_manager="test")
    token = kube.create(
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{SA}/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )["status"]["token"]
    sa_dir = tmp_path / "serviceaccount"
    sa_dir.mkdir()
    (sa_dir / "token").write_text(token)
    (sa_dir / "ca.crt").write_bytes(cluster.ca_pem)
    (sa_dir / "namespace").write_text(namespace)  # the reconciler's own: self-protected
    host, port = cluster.server.removeprefix("https://").split(":")
    env = base_env(
        {
            "KUBERNETES_SERVICE_HOST": host,
            "KUBERNETES_SERVICE_PORT": port,
            "GITOPS_NB_SERVICEACCOUNT_DIR": str(sa_dir),
            "HOME": str(tmp_path),
        }
    )
    as_sa = Kube(sa_config(cluster, token))
    as_app = as_sa.impersonating(f"system:serviceaccount:{app_namespace}:deployer")
    deadline = time.monotonic() + 30  # the authorizer learns new bindings via an informer
    try:
        while True:
            try:
                as_sa.list(f"/api/v1/namespaces/{app_namespace}/configmaps")
                as_app.list(f"/apis/apps/v1/namespaces/{app_namespace}/deployments")
                return env, as_sa
            except ForbiddenError:
                assert time.monotonic() < deadline, "the shipped RBAC never took effect"
                time.sleep(0.2)
    finally:
        as_app.close()
