"""A fleet run shares its metadata LISTs per kind and namespace (kube/sharedlists.py), and
each app still sees exactly its own objects: a hand change is found in that app only."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from gitops_nb.fleet import apps as fleet_apps
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Action
from gitops_nb.source.credentials import Credentials
from gitops_nb.usecases.fleet import FleetResult, reconcile_fleet, resolve_apps
from tests.gitrepo import GitRepo

from .fleetkit import configmap, fleet_config

METADATA = "as=PartialObjectMetadataList"


class CountingKube(Kube):
    """The real client, noting each request's method, path and Accept header."""

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        self.seen: list[tuple[str, str, str]] = []
        self._seen_lock = threading.Lock()

    def request(self, method: str, path: str, **kw: Any) -> Any:
        with self._seen_lock:
            self.seen.append((method, path, str(kw.get("accept", ""))))
        return super().request(method, path, **kw)

    def metadata_lists(self) -> list[str]:
        return [p for m, p, accept in self.seen if m == "GET" and METADATA in accept]


def app_dir(repo: GitRepo, name: str) -> None:
    repo.write(
        f"apps/{name}/objects.yaml",
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{name}\ndata:\n  k: v1\n"
        f"---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-{name}\n",
    )


def run_fleet(config: Path, kube: CountingKube) -> FleetResult:
    fleet = fleet_apps.load(config, {})
    apps = resolve_apps(fleet, Credentials.from_env({}))
    kube.seen.clear()
    return reconcile_fleet(fleet, apps, logging.getLogger("test"), shard=None, kube=kube)


def test_fleet_no_op_shares_lists_and_finds_the_one_hand_change(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    names = [f"app-{i}" for i in range(6)]
    for name in names:
        app_dir(repo, name)
    repo.commit("six apps, two kinds each, one namespace")
    config = fleet_config(tmp_path, repo, namespace, concurrency=3)
    counting = CountingKube(kube.configuration)
    try:
        for _ in range(2):  # sync, then record the fingerprints of what the first run made
            assert run_fleet(config, counting).exit_code == 0

        kube.merge_patch(
            f"/api/v1/namespaces/{namespace}/configmaps/cm-app-2", {"data": {"k": "by-hand"}}
        )
        result = run_fleet(config, counting)
    finally:
        counting.close()

    assert result.exit_code == 0
    # One metadata LIST per kind in the namespace, not one per app and kind (6 × 2 = 12).
    lists = counting.metadata_lists()
    assert sorted(lists) == [
        f"/api/v1/namespaces/{namespace}/configmaps",
        f"/api/v1/namespaces/{namespace}/serviceaccounts",
    ]
    # The apps that wrote nothing judged their objects' health from one shared LIST per kind
    # as well: no GET of any single object of theirs.
    singles = [p for m, p, _ in counting.seen if m == "GET" and ("/sa-" in p or "/cm-" in p)]
    assert singles and all(p.endswith("-app-2") for p in singles), singles
    # Each app saw its own two objects and only them; only app-2 saw (and undid) the change.
    by_app = {r.app.config.app: r.result.run for r in result.apps}
    assert set(by_app) == set(names)
    for name, run in by_app.items():
        assert run is not None
        assert sorted(o.ref.name for o in run.objects) == [f"cm-{name}", f"sa-{name}"], name
        drifted = [o.ref.name for o in run.objects if o.status.is_drift]
        assert drifted == (["cm-app-2"] if name == "app-2" else []), name
    [fixed] = [o for o in by_app["app-2"].objects if o.ref.name == "cm-app-2"]
    assert fixed.action is Action.CONFIGURED
    assert configmap(kube, namespace, "cm-app-2")["data"] == {"k": "v1"}
    # The apps share one stop event: no app's stop watcher outlives its run (18 runs here).
    deadline = time.monotonic() + 5
    while any(t.name == "stop-watch" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "stop watchers left behind"
        time.sleep(0.1)
