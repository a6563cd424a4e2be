"""Issue 13 item 10 with a real signal: SIGTERM to a `reconcile` process while the record
write waits out an API server outage.

The outage is real for the process: its kubeconfig points at a TCP proxy in front of the
API server, and the proxy drops every connection while "down". To start it while the record
write is in progress (and not during the sync's own reads, whose retries take a varying
time), a failing admission webhook first holds the record write in its retry loop: every
record ConfigMap create gets a 500 (transient), nothing else is touched. The run must end
within the pod's 30 s grace period, log ``run-finished`` last (every line JSON), and hand
the Lease back once the server answers again.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.records.configmaps import KIND_LABEL
from tests.gitrepo import GitRepo

from . import jobrunner as jr

GRACE_S = 30.0


class Proxy:
    """TCP proxy to the API server that can go down (every connection dropped) and up."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self.down_since: float | None = None
        self.refused = 0
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            if self.down_since is not None:
                self.refused += 1
                conn.close()
                continue
            upstream = socket.create_connection(self.upstream)
            with self.lock:
                self.open |= {conn, upstream}
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._drop(s)

    def _drop(self, s: socket.socket) -> None:
        with self.lock:
            self.open.discard(s)
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()

    def down(self) -> None:
        self.down_since = time.monotonic()
        with self.lock:
            conns = list(self.open)
        for s in conns:
            self._drop(s)

    def up(self) -> None:
        self.down_since = None

    def close(self) -> None:
        self.closed.set()
        self.down()
        self.listener.close()


def api_address(cluster: LocalCluster) -> tuple[str, int]:
    doc: dict[str, Any] = yaml.safe_load(cluster.kubeconfig.read_text())
    host, port = doc["clusters"][0]["cluster"]["server"].removeprefix("https://").rsplit(":", 1)
    return host, int(port)


def kubeconfig_via(cluster: LocalCluster, proxy: Proxy, path: Path) -> None:
    """A copy of the cluster's kubeconfig whose server is the proxy (same host, so the
    server certificate still matches)."""
    doc: dict[str, Any] = yaml.safe_load(cluster.kubeconfig.read_text())
    host, _port = api_address(cluster)
    doc["clusters"][0]["cluster"]["server"] = f"https://{host}:{proxy.port}"
    path.write_text(yaml.safe_dump(doc))


def failing_record_webhook(kube: Kube, namespace: str) -> str:
    """Every record ConfigMap created in ``namespace`` fails with a 500 (webhook down)."""
    name = f"refuse-records-{namespace}"
    kube.create(
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": name},
            "webhooks": [
                {
                    "name": "records.outage.test",
                    "clientConfig": {"url": "https://127.0.0.1:9/"},  # nothing listens
                    "rules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE"],
                            "resources": ["configmaps"],
                        }
                    ],
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": namespace}
                    },
                    "objectSelector": {
                        "matchExpressions": [{"key": KIND_LABEL, "operator": "Exists"}]
                    },
                    "failurePolicy": "Fail",
                    "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                    "timeoutSeconds": 1,
                }
            ],
        },
    )
    return f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{name}"


def test_real_sigterm_during_record_write_outage_ends_in_grace_and_releases(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n")
    repo.commit("one configmap")
    proxy = Proxy(api_address(cluster))
    webhook = ""
    try:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig_via(cluster, proxy, kubeconfig)
        env = jr.base_env({"KUBECONFIG": str(kubeconfig)})
        args = jr.reconcile_args(repo.path, "app", "sig", namespace, tmp_path / "cache")
        code, _lines, err = jr.run(args, env)  # the first run creates the object
        assert code == 0, err

        # The second run syncs (one object, well under a second), then its record write
        # keeps failing; a few seconds later the server goes away for good measure and
        # stays away until well after the SIGTERM.
        webhook = failing_record_webhook(kube, namespace)
        p = jr.start(args, env)
        seen = jr.wait_for_line(p, "rendered")
        time.sleep(4)  # the sync is done: the record write is retrying
        proxy.down()
        time.sleep(4)  # now against a server that is not there
        assert proxy.refused > 0, "the process never tried to reach the server"
        assert p.poll() is None
        p.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        threading.Timer(12, proxy.up).start()  # after the record gave up, before release did
        out, stderr = p.communicate(timeout=GRACE_S + 30)
        ended = time.monotonic() - signalled
        lines = [json.loads(line) for line in [*seen, *out.splitlines()] if line.strip()]
        events = [e["event"] for e in lines]
        assert ended < GRACE_S, (ended, events)
        assert "record-failed" in events, events
        assert events[-1] == "run-finished", events
        assert "Traceback" not in stderr
        lease = kube.get(
            f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/gitops-nb.sig"
        )
        assert not lease["spec"].get("holderIdentity"), lease["spec"]
        records = kube.list(f"/api/v1/namespaces/{namespace}/configmaps", label_selector=KIND_LABEL)
        assert len(records) == 1  # the first run's: the second one's never got through
    finally:
        proxy.close()
        if webhook:
            kube.delete(webhook)
