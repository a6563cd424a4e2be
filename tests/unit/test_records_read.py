"""Reading records through the one ``RecordStore`` interface: the same filters give the
same records in every store, and the history loader goes through ``open_store``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gitops_nb.errors import ConfigError
from gitops_nb.kube.client import Kube
from gitops_nb.model import Outcome
from gitops_nb.records.load import load_runs
from gitops_nb.records.selection import select_runs
from gitops_nb.records.store import DirectoryStore, open_store
from tests.factories import at, change, drifted, in_sync, run


def _hour(h: float) -> pd.Timestamp:
    return pd.Timestamp(at(h))


def _history(tmp_path: Path) -> DirectoryStore:
    store = DirectoryStore(tmp_path / "history")
    for h in range(0, 10):  # one coalesced record for hours 0..9
        store.write(run(h, in_sync()))
    store.write(run(10, in_sync(), outcome=Outcome.FAILED))
    for h in range(0, 3):
        store.write(run(h, drifted(change()), app="shop"))
    return store


def test_directory_store_reads_with_the_loaders_filters(tmp_path: Path) -> None:
    store = _history(tmp_path)
    since = _hour(5).to_pydatetime()
    web = store.read("web", since=since)
    assert [(r.started, r.repeats) for r in web] == [(at(0), 10), (at(10), 1)]
    assert [r.app for r in store.read(since=since)] == ["web", "web"]
    assert [r.started for r in store.read(outcome="failed")] == [at(10)]
    assert [r.started for r in store.read(outcome=["failed", "refused"])] == [at(10)]
    until = _hour(1).to_pydatetime()
    assert sorted(r.app for r in store.read(until=until)) == ["shop", "web"]
    assert store.read("web", since=_hour(11).to_pydatetime()) == []
    for filters in ({"since": since}, {"until": until}, {"outcome": "failed"}, {}):
        assert load_runs(history_dir=store.directory, **filters) == select_runs(
            sorted(store.read(), key=lambda r: r.order), **filters
        )


def test_the_loader_reads_a_directory_through_open_store(tmp_path: Path) -> None:
    store = _history(tmp_path)
    opened = open_store(history_dir=store.directory)
    since = _hour(5).to_pydatetime()
    assert opened.read("web", since=since, outcome="failed") == load_runs(
        history_dir=store.directory, app="web", since=since, outcome="failed"
    )


def test_cluster_records_need_a_namespace_before_any_connection(tmp_path: Path) -> None:
    def never() -> Kube:
        raise AssertionError("connected without a namespace")

    with pytest.raises(ConfigError, match="needs --namespace"):
        open_store(connect=never)
    with pytest.raises(ConfigError, match="needs --namespace"):
        load_runs(kubeconfig=tmp_path / "missing")
    with pytest.raises(ValueError, match="needs a Kubernetes client"):
        open_store(namespace="web")
