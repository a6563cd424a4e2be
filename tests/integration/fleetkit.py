"""Helpers of the fleet tests: a generated app directory, a fleet config, the CLI as a
subprocess, its summary line, a ConfigMap read."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from gitops_nb.kube.client import Kube
from tests.gitrepo import GitRepo


def app_dir(repo: GitRepo, name: str, value: str = "v1") -> None:
    repo.write(
        f"apps/{name}/configmap.yaml",
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{name}\ndata:\n  k: {value}\n",
    )


def fleet_config(tmp: Path, repo: GitRepo, namespace: str, **extra: Any) -> Path:
    doc = {
        "repo": str(repo.path),
        "namespace": namespace,
        "historyDir": str(tmp / "history"),
        "cacheDir": str(tmp / "cache"),
        "generators": [{"directories": "apps/*", "namespace": namespace}],
        **extra,
    }
    path = tmp / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "gitops_nb.cli", *args]


def finished(lines: list[dict[str, Any]]) -> dict[str, Any]:
    [done] = [ln for ln in lines if ln["event"] == "fleet-finished"]
    return done


def configmap(kube: Kube, namespace: str, name: str) -> Any:
    return kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/{name}")
