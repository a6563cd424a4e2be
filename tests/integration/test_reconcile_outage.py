"""Issue 13 item 10: an API server outage while the run record is written.

After the record write gives up there must still be a ``run-finished`` line, the Lease is
handed back (bounded), every line is JSON, and a SIGTERM ends the run within the pod's
30 s grace period. The outage is real for the client: after the sync, its requests go to
a closed port (connection refused) until the "server" is back.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_nb.config import AppConfig
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.usecases import reconcile as rec
from gitops_nb.usecases.jsonlog import json_logger
from tests.gitrepo import GitRepo

DEAD = "https://127.0.0.1:9"  # nothing listens: connection refused


class Outage:
    """Points one client at a dead address after the sync, and back on demand."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.live_host = kube._host
        self.started = threading.Event()

    def begin(self) -> None:
        self.kube._host = DEAD
        self.started.set()

    def end(self) -> None:
        self.kube._host = self.live_host


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Kube]:
    k = Kube.from_kubeconfig(cluster.kubeconfig)
    yield k
    k.close()


@pytest.fixture
def outage(client: Kube, monkeypatch: pytest.MonkeyPatch) -> Outage:
    o = Outage(client)
    sync = rec.Reconciler._sync

    def sync_then_outage(self: rec.Reconciler, reached: Any) -> Any:
        result = sync(self, reached)
        o.begin()
        return result

    monkeypatch.setattr(rec.Reconciler, "_sync", sync_then_outage)
    return o


def config(tmp_path: Path, namespace: str) -> AppConfig:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n")
    repo.commit("one configmap")
    return AppConfig(
        app="outage",
        repo=str(repo.path),
        path="app",
        namespace=namespace,
        cache_dir=str(tmp_path / "cache"),
    ).validate()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    return [json.loads(line) for line in text.splitlines()]  # every line is JSON


def holder(kube: Kube, namespace: str) -> str | None:
    path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/gitops-nb.outage"
    return kube.get(path)["spec"].get("holderIdentity")  # type: ignore[no-any-return]


def test_record_write_gives_up_then_finishes_and_releases(
    client: Kube,
    kube: Kube,
    outage: Outage,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(rec, "RECORD_TIMEOUT_S", 4.0)
    stream = io.StringIO()
    cfg = config(tmp_path, namespace)
    # The server comes back after the record write gave up, while the Lease is released.
    threading.Thread(
        target=lambda: (outage.started.wait(), time.sleep(8), outage.end()), daemon=True
    ).start()
    started = time.monotonic()
    result = rec.reconcile_app(cfg, json_logger("t.outage", stream), kube=client)
    assert time.monotonic() - started < 4 + rec.RELEASE_TIMEOUT_S + 15
    events = [e["event"] for e in lines(stream)]
    assert "record-failed" in events
    assert events[-1] == "run-finished", events
    assert result.run is not None
    assert holder(kube, namespace) is None  # handed back once the server answered
    assert "Traceback" not in capfd.readouterr().err


def test_sigterm_during_outage_ends_within_grace_period(
    client: Kube, outage: Outage, namespace: str, tmp_path: Path
) -> None:
    stream = io.StringIO()
    cfg = config(tmp_path, namespace)
    stop = threading.Event()
    signalled: list[float] = []

    def sigterm() -> None:
        outage.started.wait()
        time.sleep(3)  # well into the record write's wait for the server
        signalled.append(time.monotonic())
        stop.set()

    threading.Thread(target=sigterm, daemon=True).start()
    done: list[rec.RunResult] = []
    worker = threading.Thread(
        target=lambda: done.append(
            rec.reconcile_app(cfg, json_logger("t.sigterm", stream), kube=client, stop=stop)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=120)
    try:
        assert done, "the run did not end"
        assert signalled and time.monotonic() - signalled[0] < 30
        events = [e["event"] for e in lines(stream)]
        assert {"record-failed", "lease-release-failed"} <= set(events)
        assert events[-1] == "run-finished", events
    finally:
        outage.end()
