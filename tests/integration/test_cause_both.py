"""Hand changes and commits between two runs, reconciled for real (issue 12).

- a hand change and a commit to the same field: the record says ``both``, the episode is
  superseded by the commit, and the commit is a deployment;
- a hand revert alongside an unrelated commit: "reverted by hand", not "changed in Git";
- Git adopting a hand value: "changed in Git".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops_nb.config import AppConfig
from gitops_nb.history import deployments, drift_intervals
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Cause, Mode, SyncRun
from gitops_nb.usecases.jsonlog import json_logger
from gitops_nb.usecases.reconcile import reconcile_app
from tests.gitrepo import GitRepo
from tests.integration.helpers import kubectl

pytestmark = pytest.mark.cluster

IMAGE = "spec.template.spec.containers[name=web].image"
APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: nginx:{tag}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  LOG_LEVEL: {level}
"""


class Story:
    """One app in ``namespace``, its Git repository, and reconcile runs of it."""

    def __init__(self, cluster: LocalCluster, kube: Kube, namespace: str, tmp: Path) -> None:
        self.cluster, self.kube, self.namespace, self.tmp = cluster, kube, namespace, tmp
        self.repo = GitRepo(tmp / "repo", name="Alice Example", email="alice@example.com")
        self.values: dict[str, Any] = {"replicas": 2, "tag": "1.27.3", "level": "info"}
        self.runs: list[SyncRun] = []
        self.commit("web: first")
        self.log_path = tmp / "log.jsonl"
        self.log = json_logger(f"test.both.{namespace}", open(self.log_path, "w"))  # noqa: SIM115

    def commit(self, message: str, **values: Any) -> str:
        self.values.update(values)
        self.repo.write("app/app.yaml", APP.format(**self.values))
        return self.repo.commit(message)

    def kubectl(self, *args: str) -> None:
        kubectl(self.cluster, "-n", self.namespace, *args)

    def run(self, mode: Mode = Mode.CORRECT) -> SyncRun:
        cfg = AppConfig(
            app="web",
            repo=str(self.repo.path),
            path="app",
            namespace=self.namespace,
            mode=mode,
            history_dir=str(self.tmp / "history"),
            cache_dir=str(self.tmp / "cache"),
        ).validate()
        result = reconcile_app(cfg, self.log, kube=self.kube)
        assert result.run is not None
        self.runs.append(result.run)
        return result.run

    def events(self, name: str) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.log_path.read_text().splitlines()]
        return [e for e in lines if e.get("event") == name]


def reasons(kube: Kube, namespace: str) -> list[str]:
    """The reasons of our Events in ``namespace``."""
    events = kube.list(f"/api/v1/namespaces/{namespace}/events")
    return [e["reason"] for e in events if e.get("source", {}).get("component") == "gitops-nb"]


@pytest.fixture
def story(cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path) -> Story:
    s = Story(cluster, kube, namespace, tmp_path)
    first = s.run()
    assert first.outcome == "succeeded" and first.counts["created"] == 2
    # a first deploy is Git's: told as Deployed, never as drift
    assert reasons(kube, namespace) == ["Deployed"]
    assert {e["cause"] for e in s.events("drift")} == {"git"}
    return s


def test_a_hand_change_and_a_commit_to_one_field_between_two_runs_are_both(story: Story) -> None:
    story.kubectl("set", "image", "deployment/web", "web=nginx:1.27.3-hotfix")
    bump = story.commit("web: nginx 1.27.4", tag="1.27.4")
    seen = story.run()
    [web] = [o for o in seen.objects if o.ref.kind == "Deployment"]
    [image] = [c for c in web.changes if c.path == IMAGE]
    assert (image.live, image.desired, image.manager) == (
        "nginx:1.27.3-hotfix",
        "nginx:1.27.4",
        "kubectl-set",
    )
    assert image.cause is Cause.BOTH and web.cause is Cause.BOTH
    # told as both: the hand value was drift, set back, and the commit was deployed
    assert {"DriftDetected", "DriftCorrected", "Deployed"} <= set(
        reasons(story.kube, story.namespace)
    )
    *_, logged = [e for e in story.events("drift") if e["object"].startswith("Deployment/")]
    assert logged["cause"] == "both"
    assert {c["path"]: c["cause"] for c in logged["changes"]} == {IMAGE: "both"}
    story.run()  # verifies it in sync
    [ep] = drift_intervals(story.runs).to_dict("records")
    assert (ep["path"], ep["live"], ep["manager"]) == (IMAGE, "nginx:1.27.3-hotfix", "kubectl-set")
    assert ep["cause"] == "both"
    assert ep["resolution"] == "superseded by a git change"
    assert (
        ep["resolved_by"] == f"superseded by commit {bump[:12]} (Alice Example <alice@example.com>)"
    )
    deploys = deployments(story.runs).set_index("commit")
    assert deploys.loc[bump, "effective"]
    assert f"Deployment/{story.namespace}/web {IMAGE}" in deploys.loc[bump, "fields"]


def test_a_hand_change_without_a_commit_to_that_field_stays_the_clusters(story: Story) -> None:
    """The earlier commit is rendered and compared: another field moved in Git, not this."""
    story.kubectl("set", "image", "deployment/web", "web=nginx:1.27.3-hotfix")
    story.commit("web: debug logging", level="debug")
    seen = story.run(Mode.DETECT)
    [web] = [o for o in seen.objects if o.ref.kind == "Deployment"]
    assert [(c.path, c.cause) for c in web.changes] == [(IMAGE, Cause.CLUSTER)]
    [cm] = [o for o in seen.objects if o.ref.kind == "ConfigMap"]
    assert cm.cause is Cause.GIT
    told = sorted(reasons(story.kube, story.namespace))
    assert told == ["DeployPending", "Deployed", "DriftDetected"]  # Deployed: the first run


def test_a_hand_revert_alongside_an_unrelated_commit_is_reverted_by_hand(story: Story) -> None:
    story.kubectl("scale", "deployment/web", "--replicas=5")
    story.run(Mode.DETECT)
    story.kubectl("scale", "deployment/web", "--replicas=2")  # put back by hand
    story.commit("web: debug logging", level="debug")  # at the same time, something else
    ending = story.run(Mode.DETECT)
    [web] = [o for o in ending.objects if o.ref.kind == "Deployment"]
    assert web.adopted == (("spec.replicas", False),)
    [ep] = drift_intervals(story.runs).to_dict("records")
    assert ep["path"] == "spec.replicas" and ep["resolution"] == "reverted by hand"


def test_git_adopting_the_hand_value_is_changed_in_git(story: Story) -> None:
    story.kubectl("scale", "deployment/web", "--replicas=4")
    story.run(Mode.DETECT)
    adopt = story.commit("web: 4 replicas, as scaled", replicas=4)
    ending = story.run(Mode.DETECT)
    [web] = [o for o in ending.objects if o.ref.kind == "Deployment"]
    assert web.adopted == (("spec.replicas", True),)
    [ep] = drift_intervals(story.runs).to_dict("records")
    assert ep["resolution"] == "changed in git" and ep["resolving_commit"] == adopt
