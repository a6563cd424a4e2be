"""Fixtures of the integration tests (the control plane itself is in tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Manifest
from gitops_nb.source.render import render
from tests.gitrepo import GitRepo

from .helpers import REPO


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A Git repository holding the shop fixture (base and prod overlay) under ``shop/``."""
    r = GitRepo(tmp_path / "repo")
    r.add_fixture("shop", "shop")
    r.commit("shop: initial")
    return r


@pytest.fixture
def kubectl_env(cluster: LocalCluster) -> dict[str, str]:
    """Environment for running the real kubectl against the test cluster."""
    return {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}


@pytest.fixture
def relocated(tmp_path: Path, namespace: str) -> list[Manifest]:
    """The default install moved into the test namespace by an overlay, as users would."""
    shutil.copytree(REPO / "jobs", tmp_path / "jobs")
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "kustomization.yaml").write_text(
        yaml.safe_dump({"namespace": namespace, "resources": ["../jobs"]})
    )
    return render(tmp_path, "test")
