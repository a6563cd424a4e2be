"""Workloads for the health tests: a Deployment kwok can run (or make fail), committed as an app."""

from __future__ import annotations

from typing import Any

import yaml

from gitops_nb.localcluster.nodes import SIMULATE_LABEL
from tests.gitrepo import GitRepo


def deployment(
    name: str,
    *,
    image: str = "nginx:1.27.3",
    replicas: int = 2,
    simulate: str | None = None,
    deadline: int = 600,
    min_ready: int = 0,
) -> dict[str, Any]:
    labels = {"app": name, **({SIMULATE_LABEL: simulate} if simulate else {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": deadline,
            "minReadySeconds": min_ready,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def write_app(repo: GitRepo, *objects: dict[str, Any], message: str = "app") -> str:
    repo.write("app/objects.yaml", yaml.safe_dump_all(objects, sort_keys=False))
    return repo.commit(message)
