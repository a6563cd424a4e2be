"""Coalesced ConfigMap records against the real API server: one ConfigMap per state, the
head replaced while runs repeat and sealed ``immutable`` once news arrives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gitops_nb.history.timeline import drift_intervals
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import CONFIGMAPS
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import APP_LABEL, Outcome, SyncRun
from gitops_nb.records.coalesce import coalesce
from gitops_nb.records.configmaps import KIND_LABEL, KIND_VALUE, ConfigMapStore
from gitops_nb.records.configmaps import encode as encode_record
from gitops_nb.records.load import load_runs
from gitops_nb.records.store import DirectoryStore
from tests.factories import CM, at, change, drifted, in_sync, run


def _configmaps(kube: Kube, namespace: str) -> list[dict]:  # type: ignore[type-arg]
    items = kube.list(
        CONFIGMAPS.collection_path(namespace), label_selector=f"{KIND_LABEL}={KIND_VALUE}"
    )
    return sorted(items, key=lambda c: c["metadata"]["name"])


def test_steady_runs_share_one_configmap_and_finished_records_are_sealed(
    kube: Kube, namespace: str
) -> None:
    store = ConfigMapStore(kube, namespace)
    raw = [
        *[run(h, in_sync(), in_sync(CM)) for h in range(0, 12)],
        *[run(h, drifted(change()), in_sync(CM)) for h in range(12, 18)],
        *[run(h, in_sync(), in_sync(CM)) for h in range(18, 24)],
    ]
    for r in raw:
        store.write(r)
    store.write(raw[-1])  # a retried write after a lost reply
    cms = _configmaps(kube, namespace)
    assert len(cms) == 3
    assert [bool(c.get("immutable")) for c in cms] == [True, True, False]  # only the head moves
    got = store.read("web")
    assert got == coalesce(raw)
    assert [r.repeats for r in got] == [12, 6, 6]
    ep = drift_intervals(got).iloc[0]
    assert ep["first_seen"] == pd.Timestamp(at(12))
    assert ep["last_seen"] == pd.Timestamp(at(17))
    assert ep["resolved_at"] == pd.Timestamp(at(18))
    pd.testing.assert_frame_equal(drift_intervals(got), drift_intervals(raw))
    assert store.trim("web", 2) == 1
    assert [r.repeats for r in store.read("web")] == [6, 6]
    # by age: a record goes when its *last* run is older than the cut (hours 12..17 here)
    assert store.trim_before("web", pd.Timestamp(at(16.5)).to_pydatetime()) == 0
    assert store.trim_before("web", pd.Timestamp(at(17.5)).to_pydatetime()) == 1
    assert [r.started for r in store.read("web")] == [at(18)]


def test_schema_2_configmaps_are_read_and_never_extended(kube: Kube, namespace: str) -> None:
    old = SyncRun.from_dict({**run(0, in_sync()).to_dict(), "schema": 2})
    data, _ = encode_record(old)
    kube.create(  # as the previous release wrote it: immutable, schema 2
        CONFIGMAPS.collection_path(namespace),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "gitops-nb-run-web-old",
                "labels": {APP_LABEL: "web", KIND_LABEL: KIND_VALUE},
                "annotations": {"gitops-nb.io/started": old.started},
            },
            "immutable": True,
            "data": data,
        },
    )
    store = ConfigMapStore(kube, namespace)
    store.write(run(1, in_sync()))
    store.write(run(2, in_sync()))
    got = store.read("web")
    assert [(r.schema, r.repeats) for r in got] == [(2, 1), (3, 2)]


def test_cluster_records_read_with_filters_like_every_store(
    kube: Kube, namespace: str, cluster: LocalCluster, tmp_path: Path
) -> None:
    raw = [
        *[run(h, in_sync()) for h in range(0, 10)],
        run(10, in_sync(), outcome=Outcome.FAILED),
        *[run(h, drifted(change()), app="shop") for h in range(0, 3)],
    ]
    store, directory = ConfigMapStore(kube, namespace), DirectoryStore(tmp_path / "history")
    for r in raw:
        store.write(r)
        directory.write(r)
    since = pd.Timestamp(at(5)).to_pydatetime()
    until = pd.Timestamp(at(1)).to_pydatetime()
    web = store.read("web", since=since)
    assert [(r.started, r.repeats) for r in web] == [(at(0), 10), (at(10), 1)]
    assert [r.started for r in store.read(outcome="failed")] == [at(10)]
    for filters in ({"since": since}, {"until": until}, {"outcome": ["failed"]}, {}):
        # the history loader reads the cluster through open_store and the same read
        loaded = load_runs(kubeconfig=cluster.kubeconfig, namespace=namespace, **filters)
        assert loaded == load_runs(history_dir=directory.directory, **filters)
        assert sorted(store.read(**filters), key=lambda r: r.order) == loaded
