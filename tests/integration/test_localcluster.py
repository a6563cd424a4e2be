"""The local control plane is a real Kubernetes API server with real controllers."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import subprocess
from typing import Any

import pytest

from gitops_nb.errors import ForbiddenError, GitOpsError
from gitops_nb.kube.client import Kube, load_configuration
from gitops_nb.localcluster import LOOPBACK, LocalCluster, egress, find_binary, non_loopback

from .helpers import admission_error, api_service, validating_webhook, wait_for


def _deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def test_server_side_apply_returns_server_defaults_and_managed_fields(
    kube: Kube, namespace: str
) -> None:
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    live = kube.apply(path, _deployment("web"), field_manager="test-manager")
    assert live["spec"]["strategy"]["type"] == "RollingUpdate"
    assert live["spec"]["template"]["spec"]["restartPolicy"] == "Always"
    assert live["spec"]["revisionHistoryLimit"] == 10
    managers = {(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]}
    assert ("test-manager", "Apply") in managers


def test_deployment_controller_fills_status_and_gc_cascades(kube: Kube, namespace: str) -> None:
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    kube.apply(path, _deployment("web"), field_manager="test-manager")
    status = wait_for(lambda: kube.get(path).get("status", {}).get("observedGeneration"))
    assert status == 1
    rs_path = f"/apis/apps/v1/namespaces/{namespace}/replicasets"
    rs = wait_for(lambda: kube.list(rs_path))
    assert rs[0]["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    kube.delete(path, propagation="Background")
    wait_for(lambda: not kube.list(rs_path))


def test_service_account_token_is_accepted_and_rbac_denies(
    cluster: LocalCluster, kube: Kube, namespace: str
) -> None:
    ns = namespace
    kube.create(
        f"/api/v1/namespaces/{ns}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reader"}},
    )
    kube.create(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "reader"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
        },
    )
    kube.create(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "reader"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "reader",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": ns}],
        },
    )
    tr = kube.create(
        f"/api/v1/namespaces/{ns}/serviceaccounts/reader/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )
    token = tr["status"]["token"]
    kube.create(
        f"/api/v1/namespaces/{ns}/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "visible"}},
    )
    cfg = load_configuration(cluster.kubeconfig)
    cfg.cert_file = cfg.key_file = None
    cfg.api_key = {"authorization": f"Bearer {token}"}
    as_reader = Kube(cfg)
    listed = as_reader.list(f"/api/v1/namespaces/{ns}/configmaps")
    assert "visible" in {c["metadata"]["name"] for c in listed}  # the allowed read really reads
    with pytest.raises(ForbiddenError) as err:
        as_reader.list(f"/api/v1/namespaces/{ns}/secrets")
    assert err.value.status == 403
    assert "system:serviceaccount:" in str(err.value)


def test_namespace_deletion_completes(kube: Kube) -> None:
    kube.create(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "to-delete-ns"}},
    )
    kube.create(
        "/api/v1/namespaces/to-delete-ns/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
    )
    kube.delete("/api/v1/namespaces/to-delete-ns")
    wait_for(lambda: kube.get_or_none("/api/v1/namespaces/to-delete-ns") is None, timeout=60)


def test_real_kubectl_talks_to_the_cluster(cluster: LocalCluster, namespace: str) -> None:
    kubectl = str(find_binary("kubectl"))
    out = subprocess.run(
        [
            kubectl,
            "--kubeconfig",
            str(cluster.kubeconfig),
            "get",
            "namespace",
            namespace,
            "-o",
            "json",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(out.stdout)["metadata"]["name"] == namespace
    version = subprocess.run(
        [kubectl, "--kubeconfig", str(cluster.kubeconfig), "version", "-o", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(version.stdout)["serverVersion"]["gitVersion"] == "v1.36.3"


def test_cluster_ready_quickly_and_logs_kept(cluster: LocalCluster) -> None:
    assert cluster.started_in_s < 20
    for name, log in cluster.logs.items():
        assert log.is_file(), name
    assert all(mb > 0 for mb in cluster.peak_memory_mb().values())


@pytest.mark.cluster  # starts (and fails to start) a control plane of its own
def test_failed_start_names_the_component_and_stops_the_rest(tmp_path: Any) -> None:
    c = LocalCluster(
        workdir=tmp_path / "bad", controller_manager=False, extra_apiserver_args=("--no-such-flag",)
    )
    with pytest.raises(Exception) as err:
        c.start()
    assert "kube-apiserver exited" in str(err.value)
    assert "no-such-flag" in str(err.value)
    assert (tmp_path / "bad" / "kube-apiserver.log").is_file()
    assert c._procs == {}  # every process it started is stopped


@pytest.mark.cluster  # starts a control plane of its own
def test_cli_local_cluster_up_detach_and_down(tmp_path: Any) -> None:
    import sys

    from gitops_nb.localcluster.processes import _is_ours, _running, _start_time

    workdir = tmp_path / "lc"
    up = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitops_nb.cli",
            "local-cluster",
            "up",
            "--detach",
            "--workdir",
            str(workdir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert up.returncode == 0, up.stderr
    kubeconfig = workdir / "kubeconfig"
    assert f"export KUBECONFIG={kubeconfig}" in up.stdout
    state = json.loads((workdir / "state.json").read_text())
    pids, programs = state["pids"], state["programs"]
    assert programs["egress-proxy"] == "gitops_nb.localcluster.egress"
    assert _is_ours(pids["egress-proxy"], programs["egress-proxy"])  # it outlived `up`
    started = {name: _start_time(pid) for name, pid in pids.items()}
    api_port = int(state["server"].rsplit(":", 1)[1])
    try:
        out = subprocess.run(
            [
                str(find_binary("kubectl")),
                "--kubeconfig",
                str(kubeconfig),
                "get",
                "namespace",
                "default",
                "-o",
                "name",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "namespace/default"
    finally:
        down = subprocess.run(
            [
                sys.executable,
                "-m",
                "gitops_nb.cli",
                "local-cluster",
                "down",
                "--workdir",
                str(workdir),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert down.returncode == 0 and "kube-apiserver" in down.stdout
    assert {"kwok", "kube-scheduler"} <= set(pids)  # `up` starts 2 kwok nodes by default
    assert "kwok" in down.stdout and "kube-scheduler" in down.stdout
    assert "egress-proxy" in down.stdout
    # `down` returns once every process has exited, not when it stopped looking like itself
    assert not any(_running(pid, started[name]) for name, pid in pids.items())
    assert not any(_is_ours(pid, programs[name]) for name, pid in pids.items())
    assert not egress.socket_path(workdir).exists()
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", api_port))


_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
# TEST-NET-1 (RFC 5737): never routed. Endpoints point here; the API server must not dial it.
_FOREIGN_ENDPOINT = "192.0.2.10"


def _dialled(text: str) -> list[ipaddress.IPv4Address]:
    return [ipaddress.IPv4Address(a) for a in _IPV4.findall(text)]


def _backend_service(kube: Kube, ns: str, name: str) -> str:
    """A Service whose endpoints name a non-loopback address; returns its ClusterIP."""
    svc = kube.create(
        f"/api/v1/namespaces/{ns}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"ports": [{"name": "https", "port": 443, "targetPort": 8443}]},
        },
    )
    kube.create(
        f"/api/v1/namespaces/{ns}/endpoints",
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name},
            "subsets": [
                {
                    "addresses": [{"ip": _FOREIGN_ENDPOINT}],
                    "ports": [{"name": "https", "port": 8443}],
                }
            ],
        },
    )
    kube.create(
        f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": name, "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [_FOREIGN_ENDPOINT], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": 8443, "protocol": "TCP"}],
        },
    )
    return str(svc["spec"]["clusterIP"])


def test_service_cluster_ips_are_loopback(kube: Kube, namespace: str) -> None:
    ip = _backend_service(kube, namespace, "probe")
    assert ipaddress.IPv4Address(ip) in LOOPBACK
    default = kube.get("/api/v1/namespaces/default/services/kubernetes")
    assert ipaddress.IPv4Address(default["spec"]["clusterIP"]) in LOOPBACK


def test_running_components_allocate_and_bind_loopback_only(cluster: LocalCluster) -> None:
    lines = cluster.command_lines()
    assert set(lines) >= {"etcd", "kube-apiserver", "kube-controller-manager"}
    for name, args in lines.items():
        assert non_loopback(args) == [], name
    ranges = [a for args in lines.values() for a in args if "cidr" in a or "ip-range" in a]
    assert ranges and all("=127." in a for a in ranges)


def test_webhook_calls_stay_on_loopback_and_fail_closed(kube: Kube, namespace: str) -> None:
    ip = _backend_service(kube, namespace, "admission")
    name = f"probe-{namespace}.gitops-nb.test"
    path = f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{name}"
    kube.create(
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
        validating_webhook(
            name, namespace, {"service": {"namespace": namespace, "name": "admission", "port": 443}}
        ),
    )
    try:
        error = wait_for(lambda: admission_error(kube, namespace))
        tried = _dialled(error.split("webhook", 1)[1])
        assert tried, error
        assert all(a in LOOPBACK for a in tried), error
        assert ipaddress.IPv4Address(ip) in tried
        assert _FOREIGN_ENDPOINT not in error
        assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/x") is None
    finally:
        kube.delete(path)


def test_aggregated_api_calls_stay_on_loopback(kube: Kube, namespace: str) -> None:
    ip = _backend_service(kube, namespace, "aggregated")
    group = f"{namespace}.gitops-nb.test"
    path = f"/apis/apiregistration.k8s.io/v1/apiservices/v1alpha1.{group}"
    kube.create(
        "/apis/apiregistration.k8s.io/v1/apiservices",
        api_service(group, namespace, "aggregated"),
    )
    try:

        def unavailable() -> str:
            conds = (kube.get(path).get("status") or {}).get("conditions") or []
            msgs = [c.get("message", "") for c in conds if c.get("type") == "Available"]
            return next((m for m in msgs if "dial" in m or "refused" in m), "")

        message = wait_for(unavailable, timeout=60)
        tried = _dialled(message)
        assert tried, message
        assert all(a in LOOPBACK for a in tried), message
        assert ipaddress.IPv4Address(ip) in tried
        with pytest.raises(GitOpsError) as err:  # a request proxied to it fails, locally
            kube.get(f"/apis/{group}/v1alpha1")
        assert _FOREIGN_ENDPOINT not in str(err.value)
    finally:
        kube.delete(path)
