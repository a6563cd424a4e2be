"""Command lines of the control plane's own components: etcd, kube-apiserver and
kube-controller-manager, all on 127.0.0.1 (see :mod:`gitops_nb.localcluster.loopback`).

This module builds command lines; :class:`LocalCluster` runs them. The simulated nodes'
are in :mod:`gitops_nb.localcluster.nodes`, the egress proxy's in
:mod:`gitops_nb.localcluster.egress`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gitops_nb.localcluster.loopback import SERVICE_CIDR, free_port
from gitops_nb.localcluster.processes import Process

SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
# Controllers the tests and demo rely on; the rest (nodes, cloud, IPAM) need kubelets.
CONTROLLERS = (
    "namespace-controller",
    "garbage-collector-controller",
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
    "job-controller",
    "daemonset-controller",
    "disruption-controller",
    "cronjob-controller",
    "ttl-after-finished-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    # Fills admin, edit and view from their aggregated ClusterRoles: without it they hold
    # no rules, and RoleBindings to them (an app's ServiceAccount) grant nothing.
    "clusterrole-aggregation-controller",
)


def etcd(binary: Path, workdir: Path, port: int, peer: int) -> Process:
    client_url, peer_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer}"
    args = [
        str(binary),
        "--name=default",
        f"--data-dir={workdir / 'etcd'}",
        f"--listen-client-urls={client_url}",
        f"--advertise-client-urls={client_url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=default={peer_url}",
        "--listen-metrics-urls=",
        # A throwaway cluster: durability is not worth the fsync latency.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]
    return Process("etcd", args, workdir / "etcd.log")


def apiserver(
    binary: Path,
    w: Path,
    port: int,
    etcd_port: int,
    egress_config: Path,
    extra: Sequence[str] = (),
) -> Process:
    """kube-apiserver; ``egress_config`` sends its cluster egress through the egress proxy,
    ``extra`` are the caller's additional flags (checked like the rest before it starts)."""
    args = [
        str(binary),
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={w / 'apiserver-certs'}",
        f"--tls-cert-file={w / 'apiserver.crt'}",
        f"--tls-private-key-file={w / 'apiserver.key'}",
        f"--client-ca-file={w / 'ca.crt'}",
        "--authorization-mode=RBAC",
        f"--service-account-issuer={SA_ISSUER}",
        f"--service-account-key-file={w / 'sa.pub'}",
        f"--service-account-signing-key-file={w / 'sa.key'}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount",
        "--allow-privileged=true",
        "--profiling=false",
        "--endpoint-reconciler-type=none",
        f"--egress-selector-config-file={egress_config}",
        # kubelets (kwok nodes) at their loopback InternalIP, never by resolving a name
        "--kubelet-preferred-address-types=InternalIP",
        "--v=1",
        *extra,
    ]
    return Process("kube-apiserver", args, w / "kube-apiserver.log")


def controller_manager(binary: Path, w: Path) -> Process:
    kubeconfig = w / "kube-controller-manager.kubeconfig"
    args = [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={free_port()}",
        f"--controllers={','.join(CONTROLLERS)}",
        f"--service-account-private-key-file={w / 'sa.key'}",
        f"--root-ca-file={w / 'ca.crt'}",
        "--use-service-account-credentials=true",
        "--leader-elect=false",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--v=1",
    ]
    return Process("kube-controller-manager", args, w / "kube-controller-manager.log")
