"""Every connection the local API server opens towards "the cluster" goes through the egress
proxy, which connects only to loopback addresses (real control plane, real proxy)."""

from __future__ import annotations

import base64
import ipaddress
import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gitops_nb.errors import GitOpsError
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LOOPBACK, LocalCluster, egress, find_binary, pki

from .helpers import admission_error, api_service, validating_webhook, wait_for

WEBHOOKS = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
APISERVICES = "/apis/apiregistration.k8s.io/v1/apiservices"
# TEST-NET-3 (RFC 5737): never routed; nothing on the machine may try to reach it.
FOREIGN = "203.0.113.7"


def _log_size(cluster: LocalCluster) -> int:
    assert cluster.workdir is not None
    log = cluster.workdir / egress.LOG_NAME
    return log.stat().st_size if log.exists() else 0


def _tried(cluster: LocalCluster, offset: int) -> list[dict[str, Any]]:
    """The proxy's log entries since ``offset``; asserts that, over the whole log, nothing
    outside loopback was ever connected."""
    assert cluster.workdir is not None
    for e in egress.read_log(cluster.workdir):
        if e["connected"]:
            assert e["allowed"] and egress.decide(e["target"]).host is not None, e
    return egress.read_log(cluster.workdir, offset)


def _refused(entries: list[dict[str, Any]], target: str) -> list[dict[str, Any]]:
    mine = [e for e in entries if e["target"] == target]
    assert mine, f"the API server never asked the proxy for {target}: {entries}"
    assert all(not e["allowed"] and not e["connected"] for e in mine), mine
    return mine


def _external_name(kube: Kube, ns: str, name: str, external: str) -> None:
    kube.create(
        f"/api/v1/namespaces/{ns}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {
                "type": "ExternalName",
                "externalName": external,
                "ports": [{"name": "https", "port": 443}],
            },
        },
    )


def _kubectl_error(cluster: LocalCluster, *args: str) -> str:
    out = subprocess.run(
        [str(find_binary("kubectl")), "--kubeconfig", str(cluster.kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0, out.stdout
    return out.stderr


@pytest.mark.parametrize(
    ("form", "target"),
    [
        ("url", f"{FOREIGN}:443"),
        ("externalname-host", "example.com:443"),
        ("externalname-ip", "10.0.0.7:443"),
    ],
)
def test_webhook_outside_loopback_is_refused_by_the_egress_proxy(
    cluster: LocalCluster, kube: Kube, namespace: str, form: str, target: str
) -> None:
    host = target.rsplit(":", 1)[0]
    if form == "url":
        client: dict[str, Any] = {"url": f"https://{host}/"}
    else:
        _external_name(kube, namespace, "backend", host)
        client = {"service": {"namespace": namespace, "name": "backend", "port": 443}}
    offset = _log_size(cluster)
    name = f"{form}-{namespace}.gitops-nb.test"
    kube.create(WEBHOOKS, validating_webhook(name, namespace, client))
    try:
        error = wait_for(lambda: admission_error(kube, namespace))
        assert egress.REFUSAL.format(target=target) in error, error
        assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/x") is None
        _refused(_tried(cluster, offset), target)
    finally:
        kube.delete(f"{WEBHOOKS}/{name}")


def test_aggregated_api_at_an_external_name_is_refused(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    _external_name(kube, namespace, "aggregated", "example.com")
    group = f"{namespace}.gitops-nb.test"
    path = f"{APISERVICES}/v1alpha1.{group}"
    offset = _log_size(cluster)
    kube.create(
        APISERVICES,
        api_service(group, namespace, "aggregated"),
    )
    try:

        def unavailable() -> str:
            conds = (kube.get(path).get("status") or {}).get("conditions") or []
            msgs = [c.get("message", "") for c in conds if c.get("type") == "Available"]
            return next((m for m in msgs if "refused to dial" in m), "")

        message = wait_for(unavailable, timeout=60)
        assert egress.REFUSAL.format(target="example.com:443") in message
        with pytest.raises(GitOpsError):  # a request proxied to it fails too
            kube.get(f"/apis/{group}/v1alpha1")
        _refused(_tried(cluster, offset), "example.com:443")
    finally:
        kube.delete(path)


def test_proxy_subresources_to_a_foreign_address_are_refused(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    """``services/proxy`` dials an endpoint that is a Pod's IP, ``pods/proxy`` the Pod's IP:
    a Pod whose status claims a foreign address (no node here would give it one)."""
    ns = namespace
    pod = kube.create(
        f"/api/v1/namespaces/{ns}/pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "backend"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    )
    pod["status"] = {"phase": "Running", "podIP": FOREIGN, "podIPs": [{"ip": FOREIGN}]}
    kube.replace(f"/api/v1/namespaces/{ns}/pods/backend/status", pod)
    kube.create(
        f"/api/v1/namespaces/{ns}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "backend"},
            "spec": {"ports": [{"name": "http", "port": 80}]},
        },
    )
    ref = {"kind": "Pod", "namespace": ns, "name": "backend", "uid": pod["metadata"]["uid"]}
    kube.create(
        f"/api/v1/namespaces/{ns}/endpoints",
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "backend"},
            "subsets": [
                {
                    "addresses": [{"ip": FOREIGN, "targetRef": ref}],
                    "ports": [{"name": "http", "port": 80}],
                }
            ],
        },
    )
    offset = _log_size(cluster)
    for resource in ("services/backend:80", "pods/backend:80"):
        error = _kubectl_error(
            cluster, "get", "--raw", f"/api/v1/namespaces/{ns}/{resource}/proxy/"
        )
        assert egress.REFUSAL.format(target=f"{FOREIGN}:80") in error, (resource, error)
    assert len(_refused(_tried(cluster, offset), f"{FOREIGN}:80")) >= 2


class _AllowAll(BaseHTTPRequestHandler):
    """An admission webhook that allows everything and records which path was called."""

    def do_POST(self) -> None:
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        body = json.dumps(
            {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": {"uid": review["request"]["uid"], "allowed": True},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook_servers(
    kube: Kube, namespace: str, tmp_path: Path
) -> Iterator[tuple[str, list[ThreadingHTTPServer]]]:
    """Two TLS webhook backends on this machine: one on 127.0.0.1, one on the loopback
    ClusterIP of Service ``local`` (nothing else answers there: there is no kube-proxy).
    Yields the CA bundle and the servers."""
    svc = kube.create(
        f"/api/v1/namespaces/{namespace}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "local"},
            "spec": {"ports": [{"name": "https", "port": 8443}]},
        },
    )
    cluster_ip = svc["spec"]["clusterIP"]
    assert ipaddress.IPv4Address(cluster_ip) in LOOPBACK
    ca = pki.make_ca("webhook-test-ca")
    crt, key = pki.issue(
        ca,
        "webhook",
        dns_names=(f"local.{namespace}.svc",),
        ip_addresses=("127.0.0.1",),
        server=True,
    ).write(tmp_path, "webhook")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    servers = []
    for address in (("127.0.0.1", 0), (cluster_ip, 8443)):
        server = ThreadingHTTPServer(address, _AllowAll)
        server.seen = []  # type: ignore[attr-defined]
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield base64.b64encode(ca.cert_pem).decode(), servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_webhooks_at_loopback_backends_work_through_the_egress_proxy(
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    webhook_servers: tuple[str, list[ThreadingHTTPServer]],
) -> None:
    ca_bundle, (on_localhost, on_cluster_ip) = webhook_servers
    port = on_localhost.server_address[1]
    cluster_ip = on_cluster_ip.server_address[0]
    clients = {
        "url": {"url": f"https://127.0.0.1:{port}/url", "caBundle": ca_bundle},
        "service": {
            "service": {"namespace": namespace, "name": "local", "port": 8443, "path": "/svc"},
            "caBundle": ca_bundle,
        },
    }
    names = [f"{form}-{namespace}.gitops-nb.test" for form in clients]
    offset = _log_size(cluster)
    for name, client in zip(names, clients.values(), strict=True):
        kube.create(WEBHOOKS, validating_webhook(name, namespace, client))
    try:

        def both_called() -> bool:
            assert admission_error(kube, namespace) == ""  # both allow it
            return bool(on_localhost.seen and on_cluster_ip.seen)  # type: ignore[attr-defined]

        wait_for(both_called)
        assert on_localhost.seen[0] == "/url?timeout=5s"  # type: ignore[attr-defined]
        assert on_cluster_ip.seen[0] == "/svc?timeout=5s"  # type: ignore[attr-defined]
        connected = {e["target"] for e in _tried(cluster, offset) if e["connected"]}
        assert {f"127.0.0.1:{port}", f"{cluster_ip}:8443"} <= connected
    finally:
        for name in names:
            kube.delete(f"{WEBHOOKS}/{name}")


def test_kubelet_calls_to_kwok_nodes_go_through_the_proxy_to_their_loopback_ip(
    node_cluster: LocalCluster, node_kube: Kube, node_namespace: str
) -> None:
    """kwok serves no kubelet port, so ``logs`` fails; but it fails here, at the node's
    loopback InternalIP, after the proxy allowed it, and the Pod itself runs."""
    ns = node_namespace
    node_kube.create(
        f"/api/v1/namespaces/{ns}/pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    )
    pod = wait_for(
        lambda: (
            (p := node_kube.get(f"/api/v1/namespaces/{ns}/pods/web"))["status"].get("phase")
            == "Running"
            and p
        )
    )
    node = node_kube.get(f"/api/v1/nodes/{pod['spec']['nodeName']}")
    node_ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    assert ipaddress.IPv4Address(node_ip) in LOOPBACK
    offset = _log_size(node_cluster)
    error = _kubectl_error(node_cluster, "logs", "-n", ns, "web")
    assert node_ip in error, error
    tried = [e for e in _tried(node_cluster, offset) if e["target"].startswith(f"{node_ip}:")]
    assert tried and all(e["allowed"] for e in tried), tried
