"""A real local Kubernetes control plane: etcd + kube-apiserver + kube-controller-manager,
and with ``nodes=N`` kube-scheduler + kwok simulating N nodes, so Pods run.

Like controller-runtime's envtest, but with the controller manager too, so namespaces
delete, garbage collection cascades and Deployments get status. Binaries are built once by
``tools/controlplane/build.sh`` into a cache directory (see :func:`binary_dir`).

**Never dials outside the machine**: see :class:`LocalCluster`,
:mod:`gitops_nb.localcluster.loopback` and :mod:`gitops_nb.localcluster.egress`. Processes
are started and stopped by :mod:`gitops_nb.localcluster.processes`.

    with LocalCluster() as cluster:
        print(cluster.kubeconfig)

    with LocalCluster(nodes=2) as cluster:  # Deployments become Available
        ...
"""

from __future__ import annotations

import atexit
import shutil
import ssl
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from gitops_nb.binaries import BINARIES, find_binary, find_kwok
from gitops_nb.errors import ControlPlaneError
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import NAMESPACES, NODES, SERVICEACCOUNTS
from gitops_nb.localcluster import components, egress, pki
from gitops_nb.localcluster import nodes as simulated
from gitops_nb.localcluster.loopback import SERVICE_IP, free_port
from gitops_nb.localcluster.processes import Process, write_state


@dataclass
class LocalCluster:
    """etcd + kube-apiserver (+ kube-controller-manager) on free loopback ports.

    ``workdir`` keeps certificates, data and each process's log for debugging; a temporary
    directory is used (and kept only on failure) when none is given. ``nodes`` > 0 also
    starts kube-scheduler and kwok with that many simulated nodes (see
    :mod:`gitops_nb.localcluster.nodes`).

    **Guarantee: the cluster never dials an address outside the machine.**

    - Everything it binds to or hands out is in ``127.0.0.0/8``: the components listen on
      127.0.0.1, Service ClusterIPs come from ``127.200.0.0/24``, kwok nodes' InternalIPs from
      ``127.202.0.0/24`` and their Pod IPs from ``127.201.0.0/16``. Every command line passes
      :func:`~gitops_nb.localcluster.loopback.check_loopback` before it starts, extra API
      server flags included.
    - Every connection the API server opens towards the cluster goes through the egress
      proxy (:mod:`gitops_nb.localcluster.egress`), a child process started before the API
      server: admission webhooks (``service:`` and ``url:``), aggregated APIs, ExternalName
      Services behind either, the ``services/proxy`` and ``pods/proxy`` subresources and
      kubelet calls (``logs``, ``exec``). It connects only to loopback addresses (or a
      ``localhost`` name, at 127.0.0.1) and refuses anything else without a DNS lookup; the
      client's error then says ``gitops-nb local cluster: refused to dial HOST:PORT: outside
      127.0.0.0/8 (loopback only)``, so a webhook whose backend cannot run here fails closed.
      Every target it was asked for is a JSON line in ``workdir/egress-proxy.jsonl``
      (:func:`~gitops_nb.localcluster.egress.read_log`).
    - Aggregated APIs and webhooks are called at their Service's ClusterIP
      (``--enable-aggregator-routing`` is refused) and kubelets at their InternalIP.

    Out of scope: connections the API server makes for its own configuration (etcd on
    127.0.0.1; none of the authentication or authorization webhooks is configured).
    """

    workdir: Path | None = None
    controller_manager: bool = True
    ready_timeout: float = 60.0
    detach: bool = False
    nodes: int = 0
    extra_apiserver_args: tuple[str, ...] = ()
    server: str = field(init=False, default="")
    kubeconfig: Path = field(init=False, default=Path())
    ca_pem: bytes = field(init=False, default=b"")
    _procs: dict[str, Process] = field(init=False, default_factory=dict)
    _owns_workdir: bool = field(init=False, default=False)
    _admin: pki.KeyPair | None = field(init=False, default=None)
    started_in_s: float = field(init=False, default=0.0)

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalCluster:
        t0 = time.monotonic()
        if not 0 <= self.nodes <= simulated.MAX_NODES:
            raise ControlPlaneError(f"nodes must be 0..{simulated.MAX_NODES}, not {self.nodes}")
        skip = {"kubectl"} if self.nodes else {"kubectl", "kube-scheduler"}
        bins = {b: find_binary(b) for b in BINARIES if b not in skip}
        kwok = find_kwok() if self.nodes else None
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="gitops-nb-cluster-"))
            self._owns_workdir = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        w = self.workdir
        if not self.detach:  # a detached cluster outlives this process by design
            atexit.register(self.stop)
        try:
            self._write_pki()
            self._procs[egress.NAME] = egress.proxy_process(w)
            self._procs[egress.NAME].start(detach=self.detach)
            etcd_port, peer_port = free_port(), free_port()
            self._procs["etcd"] = components.etcd(bins["etcd"], w, etcd_port, peer_port)
            self._procs["etcd"].start(detach=self.detach)
            api_port = free_port()
            self.server = f"https://127.0.0.1:{api_port}"
            self._finish_kubeconfigs()
            self._procs["kube-apiserver"] = components.apiserver(
                bins["kube-apiserver"],
                w,
                api_port,
                etcd_port,
                egress.write_selector_config(w / "egress-selector.yaml", w),
                self.extra_apiserver_args,
            )
            self._procs["kube-apiserver"].start(detach=self.detach)
            self.wait_ready()
            egress.wait_listening(w, self.ready_timeout, self._check_alive)
            if self.controller_manager:
                self._procs["kube-controller-manager"] = components.controller_manager(
                    bins["kube-controller-manager"], w
                )
                self._procs["kube-controller-manager"].start(detach=self.detach)
                self._wait_default_serviceaccount()
            if kwok is not None:
                self._start_nodes(bins["kube-scheduler"], *kwok)
        except BaseException:
            self.stop(keep_workdir=True)
            raise
        self.started_in_s = time.monotonic() - t0
        write_state(w, self._procs, server=self.server, kubeconfig=str(self.kubeconfig))
        return self

    def stop(self, keep_workdir: bool = False) -> None:
        """Stop every process this cluster started, newest first. Idempotent."""
        for name in reversed(list(self._procs)):
            self._procs[name].stop()
        self._procs.clear()
        atexit.unregister(self.stop)
        if self._owns_workdir and not keep_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- the API server alone (for outage tests) -------------------------------------------

    def stop_apiserver(self) -> None:
        self._procs["kube-apiserver"].stop()

    def start_apiserver(self) -> None:
        """Start it again and wait until the controllers work: after an outage the
        controller-manager's watches were refused (RBAC not yet loaded) and back off, so a
        namespace made right away could wait half a minute for its ``default``
        ServiceAccount."""
        self._procs["kube-apiserver"].start(detach=self.detach)
        self.wait_ready()
        self._wait_controllers()

    def _wait_controllers(self) -> None:
        """A fresh namespace gets its ``default`` ServiceAccount: the manager watches again."""
        name = f"gitops-nb-probe-{uuid.uuid4().hex[:8]}"
        kube = Kube.from_kubeconfig(self.kubeconfig)
        try:
            kube.create(
                NAMESPACES.collection_path(),
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            )
            self._wait_for(
                SERVICEACCOUNTS.object_path(name, "default"),
                f"kube-controller-manager did not create {name}/default after the restart",
            )
            kube.delete(NAMESPACES.object_path("", name))
        finally:
            kube.close()

    # -- observations ----------------------------------------------------------------------

    @property
    def logs(self) -> dict[str, Path]:
        assert self.workdir is not None
        skip = {"kubectl"} if self.nodes else {"kubectl", "kube-scheduler"}
        names = [b for b in BINARIES if b not in skip] + (["kwok"] if self.nodes else [])
        names.append(egress.NAME)
        return {name: self.workdir / f"{name}.log" for name in names}

    def command_lines(self) -> dict[str, list[str]]:
        """The argument lists of the running components, read back from ``/proc``."""
        out = {}
        for name, p in self._procs.items():
            if p.popen is not None and p.alive():
                raw = Path(f"/proc/{p.popen.pid}/cmdline").read_bytes()
                out[name] = [a.decode() for a in raw.split(b"\0") if a]
        return out

    def peak_memory_mb(self) -> dict[str, float]:
        """Peak resident memory of each running component, in MiB."""
        return {n: p.peak_rss_kb() / 1024 for n, p in self._procs.items()}

    def wait_ready(self) -> None:
        """Poll ``/readyz`` with the admin certificate until it answers ``ok``."""
        self._wait_for("/readyz", f"kube-apiserver not ready after {self.ready_timeout:.0f}s")

    def _wait_default_serviceaccount(self) -> None:
        # The serviceaccount controller creates default/default: proof the manager works.
        self._wait_for(
            SERVICEACCOUNTS.object_path("default", "default"),
            "kube-controller-manager did not create default/default in time",
        )

    def _wait_for(self, path: str, timeout_message: str) -> None:
        """Poll ``path`` as admin until it answers 200; fail fast if a component exits."""
        assert self.workdir is not None
        ctx = ssl.create_default_context(cafile=str(self.workdir / "ca.crt"))
        ctx.load_cert_chain(self.workdir / "admin.crt", self.workdir / "admin.key")
        deadline = time.monotonic() + self.ready_timeout
        last = ""
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(self.server + path, context=ctx, timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError) as e:
                last = str(e)
            time.sleep(0.25)
        raise ControlPlaneError(f"{timeout_message} ({last}); logs in {self.workdir}")

    # -- simulated nodes -------------------------------------------------------------------

    def _start_nodes(self, scheduler: Path, kwok: Path, stages: tuple[Path, ...]) -> None:
        assert self.workdir is not None
        w = self.workdir
        self._procs["kube-scheduler"] = simulated.scheduler_process(
            scheduler, w, w / "kube-scheduler.kubeconfig"
        )
        self._procs["kube-scheduler"].start(detach=self.detach)
        config = simulated.write_kwok_config(w / "kwok.yaml", stages)
        self._procs["kwok"] = simulated.kwok_process(kwok, w, w / "kwok.kubeconfig", config)
        kube = Kube.from_kubeconfig(self.kubeconfig)
        try:
            for i in range(self.nodes):
                node = simulated.node_manifest(i)
                kube.create(NODES.collection_path(), node)
                # Admission taints a new node not-ready; the node-lifecycle controller would
                # lift it, but it also evicts, and kwok already keeps the nodes Ready.
                name = node["metadata"]["name"]
                kube.merge_patch(NODES.object_path("", name), {"spec": {"taints": None}})
            self._procs["kwok"].start(detach=self.detach)
            self._wait_nodes_ready(kube)
        finally:
            kube.close()

    def _wait_nodes_ready(self, kube: Kube) -> None:
        deadline = time.monotonic() + self.ready_timeout
        ready = 0
        while time.monotonic() < deadline:
            self._check_alive()
            ready = sum(
                any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (n.get("status") or {}).get("conditions") or ()
                )
                for n in kube.list(NODES.collection_path())
            )
            if ready >= self.nodes:
                return
            time.sleep(0.2)
        raise ControlPlaneError(
            f"{ready}/{self.nodes} kwok nodes Ready after {self.ready_timeout:.0f}s; "
            f"logs in {self.workdir}"
        )

    def _check_alive(self) -> None:
        for p in self._procs.values():
            if p.popen is not None and not p.alive():
                raise ControlPlaneError(
                    f"{p.name} exited with code {p.popen.returncode}; log {p.log_path}:\n{p.tail()}"
                )

    # -- set-up ----------------------------------------------------------------------------

    def _write_pki(self) -> None:
        assert self.workdir is not None
        w = self.workdir
        ca = pki.make_ca()
        ca.write(w, "ca")
        self.ca_pem = ca.cert_pem
        pki.issue(
            ca,
            "kube-apiserver",
            dns_names=(
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ),
            ip_addresses=("127.0.0.1", SERVICE_IP),
            server=True,
        ).write(w, "apiserver")
        self._admin = pki.issue(
            ca, "gitops-nb-admin", organizations=("system:masters",), client=True
        )
        self._admin.write(w, "admin")
        self._kcm = pki.issue(ca, "system:kube-controller-manager", client=True)
        self._scheduler = pki.issue(ca, "system:kube-scheduler", client=True)
        # kwok acts for every node and Pod (status, leases, deletion): cluster admin.
        self._kwok = pki.issue(ca, "kwok", organizations=("system:masters",), client=True)
        sa_key, sa_pub = pki.make_service_account_key()
        (w / "sa.key").touch(mode=0o600)
        (w / "sa.key").write_bytes(sa_key)
        (w / "sa.pub").write_bytes(sa_pub)

    def _finish_kubeconfigs(self) -> None:
        assert self.workdir is not None and self._admin is not None
        self.kubeconfig = pki.write_kubeconfig(
            self.workdir / "kubeconfig",
            pki.kubeconfig(self.server, self.ca_pem, user="admin", client=self._admin),
        )
        for name, user, pair in (
            ("kube-controller-manager", "system:kube-controller-manager", self._kcm),
            ("kube-scheduler", "system:kube-scheduler", self._scheduler),
            ("kwok", "kwok", self._kwok),
        ):
            pki.write_kubeconfig(
                self.workdir / f"{name}.kubeconfig",
                pki.kubeconfig(self.server, self.ca_pem, user=user, client=pair),
            )
