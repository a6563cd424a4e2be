"""Shared fixtures. Integration tests get one real control plane per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.localcluster.demo import DemoResult, build_demo
from tests.postgres import PostgresServer

CLUSTER_FIXTURES = frozenset(
    {"cluster", "kube", "namespace", "node_cluster", "node_kube", "node_namespace"}
)
"""Fixtures that start (or need) the session's control plane."""
POSTGRES_FIXTURES = frozenset({"pg_server", "pg_dsn"})
"""Fixtures that start (or need) the session's PostgreSQL server."""


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark every test that uses the control plane, directly or through another fixture,
    with ``cluster``: ``pytest -m "not cluster"`` then never starts one. Tests that start
    a control plane of their own carry the marker explicitly."""
    if CLUSTER_FIXTURES & fixtures_of(item):
        item.add_marker(pytest.mark.cluster)
    if POSTGRES_FIXTURES & fixtures_of(item):
        item.add_marker(pytest.mark.postgres)


def fixtures_of(item: pytest.Item) -> set[str]:
    """The fixtures a test uses, transitively; a parametrized argument that happens to be
    called ``namespace`` is not the fixture."""
    callspec = getattr(item, "callspec", None)
    direct = set(callspec.params) if callspec is not None else set()
    return set(getattr(item, "fixturenames", ())) - direct


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server (initdb in a temporary directory) for the session."""
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_dsn(pg_server: PostgresServer) -> str:
    """A fresh, empty database of the session's server; its DSN (with the password)."""
    return pg_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


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
def node_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A second control plane with kube-scheduler and 2 kwok nodes, so Pods run: started
    only by the tests that need workloads to become healthy (and the demo)."""
    c = LocalCluster(workdir=tmp_path_factory.mktemp("node-cluster"), nodes=2)
    c.start()
    try:
        yield c
    finally:
        c.stop()


def fresh_namespace(kube: Kube, prefix: str) -> Iterator[str]:
    """A namespace with a random name for one test, deleted afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    kube.create(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    yield name
    kube.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture(scope="session")
def node_kube(node_cluster: LocalCluster) -> Iterator[Kube]:
    k = Kube.from_kubeconfig(node_cluster.kubeconfig)
    yield k
    k.close()


@pytest.fixture
def node_namespace(node_kube: Kube) -> Iterator[str]:
    """A fresh namespace on the cluster with nodes, deleted afterwards."""
    yield from fresh_namespace(node_kube, "h")


@pytest.fixture(scope="session")
def kube(cluster: LocalCluster) -> Iterator[Kube]:
    k = Kube.from_kubeconfig(cluster.kubeconfig)
    yield k
    k.close()


@pytest.fixture(scope="session")
def demo(node_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """The audit demo (repo, reconcile story with drift, a revert and a bad rollout, history)
    on the session cluster with nodes (as ``make demo``), shared by the notebook and story
    tests. It owns namespace ``prod`` and app ``shop``; no other test uses them, and those
    tests only read it."""
    work = tmp_path_factory.mktemp("demo")
    return build_demo(work, node_cluster, cache_dir=work / "cache")


@pytest.fixture
def namespace(kube: Kube) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards."""
    yield from fresh_namespace(kube, "t")
