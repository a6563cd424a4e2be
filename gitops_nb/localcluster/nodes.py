"""Simulated nodes: kube-scheduler and kwok, so Pods are scheduled, run and become Ready.

kwok (Kubernetes WithOut Kubelet) plays the kubelet's part through Stage definitions: the
stock node and "fast" pod Stages its module ships (copied by ``tools/kwok/build.sh``), plus
three of ours that make a chosen Pod fail the way a real one does. Label a Pod (or a
Deployment's Pod template) ``gitops-nb.io/simulate`` with one of :data:`FAILURES`:

- ``not-ready``: Running, its containers never pass readiness;
- ``crash-loop``: Running, containers waiting in ``CrashLoopBackOff`` after restarts;
- ``image-pull-error``: Pending, containers waiting in ``ImagePullBackOff``.

Every address is loopback (see :mod:`gitops_nb.localcluster.loopback`): node ``i`` has
InternalIP ``127.202.0.<i+1>`` and hands out Pod IPs from ``127.201.<i>.0/24``; kwok serves
nothing (no ``--server-address``, no node port), so no kubelet endpoint exists to dial.
This module builds data and command lines; :class:`LocalCluster` runs them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from gitops_nb.localcluster.loopback import NODE_CIDR, POD_CIDR, free_port
from gitops_nb.localcluster.processes import Process

SIMULATE_LABEL = "gitops-nb.io/simulate"
"""Pod label choosing a simulated failure (values: :data:`FAILURES`)."""
FAILURES = ("not-ready", "crash-loop", "image-pull-error")
NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
"""kwok manages exactly the nodes carrying this annotation (the ones we create)."""
NODE_PREFIX = "kwok-node-"
MAX_NODES = 200  # one /24 of POD_CIDR per node, one address of NODE_CIDR per node

# Pod stages of the stock set that must leave a Pod with a simulated failure alone.
_STOCK_POD_STAGES = ("pod-ready", "pod-complete")
_API_VERSION = "kwok.x-k8s.io/v1alpha1"


def node_ip(index: int) -> str:
    return str(ipaddress.IPv4Network(NODE_CIDR)[index + 1])


def pod_cidr(index: int) -> str:
    return str(list(ipaddress.IPv4Network(POD_CIDR).subnets(new_prefix=24))[index])


def node_manifest(index: int) -> dict[str, Any]:
    """Node ``index`` as kwok expects it: annotated, with loopback podCIDR and InternalIP."""
    name = f"{NODE_PREFIX}{index}"
    capacity = {"cpu": "32", "memory": "256Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {NODE_ANNOTATION[0]: NODE_ANNOTATION[1]},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "spec": {"podCIDR": pod_cidr(index), "podCIDRs": [pod_cidr(index)]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": node_ip(index)},
                {"type": "Hostname", "address": name},
            ],
            "allocatable": capacity,
            "capacity": capacity,
        },
    }


def kwok_configuration() -> dict[str, Any]:
    """Options kwok needs against our API server: non-zero parallelism, our nodes only."""
    return {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokConfiguration",
        "options": {
            "manageNodesWithAnnotationSelector": "=".join(NODE_ANNOTATION),
            "nodeLeaseDurationSeconds": 40,
            "nodeLeaseParallelism": 2,
            "nodePlayStageParallelism": 2,
            "podPlayStageParallelism": 4,
            "podsOnNodeSyncParallelism": 2,
            "enableDebuggingHandlers": False,
            "enableProfilingHandler": False,
        },
    }


def _pod_selector(failure: str, phase: str = "Pending") -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": f'.metadata.labels["{SIMULATE_LABEL}"]', "operator": "In", "values": [failure]},
            {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
            {"key": ".status.phase", "operator": "In", "values": [phase]},
            # Applied once: the stage's own result no longer matches.
            {"key": ".status.containerStatuses", "operator": "DoesNotExist"},
        ]
    }


_ADDRESSES = """\
{{ with NodeIPWith .spec.nodeName }}
hostIP: {{ . | Quote }}
{{ end }}
{{ with PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) \
( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ . | Quote }}
podIPs:
- ip: {{ . | Quote }}
{{ end }}
"""

_NOT_READY = """\
conditions:
- {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Ready, status: "False", reason: ContainersNotReady, \
message: "readiness probe failed", lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "False", reason: ContainersNotReady, \
lastTransitionTime: {{ $now | Quote }}}
"""

_STATUS = {
    "not-ready": _NOT_READY
    + """\
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: true
  restartCount: 0
  state: {running: {startedAt: {{ $now | Quote }}}}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
"""
    + _ADDRESSES,
    "crash-loop": _NOT_READY
    + """\
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: false
  restartCount: 5
  lastState:
    terminated: {exitCode: 1, reason: Error, startedAt: {{ $now | Quote }}, \
finishedAt: {{ $now | Quote }}}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: {{ printf "back-off 5m0s restarting failed container=%s" .name | Quote }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
"""
    + _ADDRESSES,
    "image-pull-error": _NOT_READY
    + """\
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: false
  restartCount: 0
  state:
    waiting:
      reason: ImagePullBackOff
      message: {{ printf "Back-off pulling image %q" .image | Quote }}
{{ end }}
phase: Pending
startTime: {{ $now | Quote }}
"""
    + _ADDRESSES,
}


def failure_stages() -> list[dict[str, Any]]:
    """Our Stages: one per entry of :data:`FAILURES`, chosen by :data:`SIMULATE_LABEL`."""
    return [
        {
            "apiVersion": _API_VERSION,
            "kind": "Stage",
            "metadata": {"name": f"gitops-nb-pod-{failure}"},
            "spec": {
                "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
                "selector": _pod_selector(failure),
                "next": {"statusTemplate": "{{ $now := Now }}\n" + _STATUS[failure]},
            },
        }
        for failure in FAILURES
    ]


def stock_stages(files: Sequence[Path]) -> list[dict[str, Any]]:
    """kwok's stock Stages, with ``pod-ready``/``pod-complete`` skipping simulated failures."""
    out = []
    for f in files:
        for doc in yaml.safe_load_all(f.read_text()):
            if not doc:
                continue
            if doc.get("kind") == "Stage" and doc["metadata"]["name"] in _STOCK_POD_STAGES:
                exprs = doc["spec"].setdefault("selector", {}).setdefault("matchExpressions", [])
                key = f'.metadata.labels["{SIMULATE_LABEL}"]'
                exprs.append({"key": key, "operator": "DoesNotExist"})
            out.append(doc)
    return out


def write_kwok_config(path: Path, stage_files: Sequence[Path]) -> Path:
    """One multi-document file: the KwokConfiguration and every Stage."""
    docs = [kwok_configuration(), *stock_stages(stage_files), *failure_stages()]
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def kwok_process(binary: Path, workdir: Path, kubeconfig: Path, config: Path) -> Process:
    args = [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--config={config}",
        # Also in the config's defaults; as flags they pass the loopback check at start.
        f"--cidr={POD_CIDR}",
        f"--node-ip={node_ip(0)}",
        "--node-lease-duration-seconds=40",
    ]
    return Process("kwok", args, workdir / "kwok.log")


def scheduler_process(binary: Path, workdir: Path, kubeconfig: Path) -> Process:
    args = [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={free_port()}",
        "--leader-elect=false",
        "--v=1",
    ]
    return Process("kube-scheduler", args, workdir / "kube-scheduler.log")
