"""A first apply (a cluster rebuilt from Git) against a real API server: objects in
Namespaces the set creates need no dry-run of their own, the whole set is still checked
before the first write, and the second apply writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gitops_nb.engine import Engine, SyncOptions
from gitops_nb.errors import UnknownKindError
from gitops_nb.kube.client import Kube
from gitops_nb.model import Action, DiffStatus, Manifest
from tests.factories import BASELINE

N = 120  # objects per new namespace


@pytest.fixture
def new_namespaces(kube: Kube, namespace: str) -> Iterator[list[str]]:
    """Two namespace names that do not exist yet; deleted afterwards if created."""
    names = [f"{namespace}-a", f"{namespace}-b"]
    yield names
    for name in names:
        if kube.get_or_none(f"/api/v1/namespaces/{name}") is not None:
            kube.delete(f"/api/v1/namespaces/{name}")


def _ns(name: str) -> Manifest:
    return Manifest(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": BASELINE}},
        "ns.yaml",
        1,
    )


def _cm(ns: str, i: int, data: Any = None) -> Manifest:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cm-{i:03d}", "namespace": ns},
        "data": {"i": str(i)} if data is None else data,
    }
    return Manifest(obj, f"{ns}/cm.yaml", 1 + 5 * i)


def _set(namespaces: list[str]) -> list[Manifest]:
    return [_ns(n) for n in namespaces] + [_cm(n, i) for n in namespaces for i in range(N)]


def test_first_apply_dry_runs_no_object_of_a_namespace_it_creates(
    kube: Kube, namespace: str, new_namespaces: list[str]
) -> None:
    manifests = _set(new_namespaces)
    opts = SyncOptions(app="first", namespace=namespace)
    before = kube.requests
    _desired, report = Engine(kube).plan(manifests, opts)
    planned = kube.requests - before
    assert {e.status for e in report.items} == {DiffStatus.MISSING}
    assert len(report.items) == len(manifests)
    # The parent read, the member LISTs and one dry-run per Namespace; none per object.
    assert planned < 2 * len(new_namespaces) + 20 < N

    changes = Engine(kube).apply(manifests, opts)
    assert not changes.failed
    assert {e.action for e in changes.entries} == {Action.CREATED}
    assert len(changes.entries) == len(manifests)
    live = kube.get(f"/api/v1/namespaces/{new_namespaces[1]}/configmaps/cm-{N - 1:03d}")
    assert live["data"] == {"i": str(N - 1)}

    again = Engine(kube).apply(manifests, opts)  # idempotent: every object unchanged
    assert {e.action for e in again.entries} == {Action.UNCHANGED}


def test_broken_object_in_a_large_first_apply_stops_before_any_write(
    kube: Kube, namespace: str, new_namespaces: list[str]
) -> None:
    bad = Manifest(
        {"apiVersion": "nope.example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}},
        "gadget.yaml",
        7,
    )
    manifests = [*_set(new_namespaces), bad]
    with pytest.raises(UnknownKindError) as err:
        Engine(kube).apply(manifests, SyncOptions(app="broken", namespace=namespace))
    assert "gadget.yaml:7" in str(err.value) and f"Gadget/{namespace}/g" in str(err.value)
    for name in new_namespaces:
        assert kube.get_or_none(f"/api/v1/namespaces/{name}") is None  # nothing written


def test_server_rejected_object_is_named_by_file_and_line(
    kube: Kube, namespace: str, new_namespaces: list[str]
) -> None:
    """Objects the server rejects: in an existing namespace the dry-run names them before
    any write; in a namespace the set creates, the write does. Either way the others land."""
    broken = {"Bad Key!": "x"}  # not a valid ConfigMap key: the server says 422
    manifests = [*_set(new_namespaces[:1]), _cm(namespace, 1, broken)]
    manifests.append(_cm(new_namespaces[0], N, broken))
    opts = SyncOptions(app="rejected", namespace=namespace)
    _desired, report = Engine(kube).plan(manifests, opts)
    errors = {str(e.ref): e.diff.error or "" for e in report.errors}
    assert list(errors) == [f"ConfigMap/{namespace}/cm-001"]
    assert errors[f"ConfigMap/{namespace}/cm-001"].startswith(f"{namespace}/cm.yaml:6: ")

    changes = Engine(kube).apply(manifests, opts)
    failed = {str(e.ref): e.error or "" for e in changes.failed}
    late = f"ConfigMap/{new_namespaces[0]}/cm-{N:03d}"
    assert set(failed) == {f"ConfigMap/{namespace}/cm-001", late}
    assert failed[late].startswith(f"{new_namespaces[0]}/cm.yaml:{1 + 5 * N}: ")
    created = [e for e in changes.entries if e.action is Action.CREATED]
    assert len(created) == 1 + N
