"""Shared fixtures. Integration tests get one real control plane per session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """One real etcd + kube-apiserver + kube-controller-manager for the whole test session."""
    workdir = tmp_path_factory.mktemp("cluster")
    c = LocalCluster(workdir=workdir)
    c.start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="session")
def kube(cluster: LocalCluster) -> Iterator[Kube]:
    k = Kube.from_kubeconfig(cluster.kubeconfig)
    yield k
    k.close()


@pytest.fixture
def namespace(kube: Kube) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.create(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    yield name
    kube.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture
def kubectl_env(cluster: LocalCluster) -> dict[str, str]:
    """Environment for running the real kubectl against the test cluster."""
    return {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}


def git_init(path: Path) -> Path:
    """A real repository on disk with an identity set (for Git tests)."""
    import subprocess

    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "config", "user.name", "Test User"], check=True)
    subprocess.run(["git", "-C", str(path), "config", "user.email", "test@example.com"], check=True)
    return path
