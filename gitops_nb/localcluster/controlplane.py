"""A real local Kubernetes control plane: etcd + kube-apiserver + kube-controller-manager.

Like controller-runtime's envtest, but with the controller manager too, so namespaces
delete, garbage collection cascades and Deployments get status. Binaries are built once by
``tools/controlplane/build.sh`` into a cache directory (see :func:`binary_dir`).

**Loopback only.** Every address the local cluster listens on or allocates lies in
``127.0.0.0/8``: the components bind to 127.0.0.1 and Service ClusterIPs come from
``127.200.0.0/24``. Nothing on the machine answers for a ClusterIP and no kube-proxy
translates one, so when the API server calls a Service (an admission webhook, an aggregated
API, the ``proxy`` subresource) the connection stays on this machine and is refused: the
webhook fails closed with "connect: connection refused" instead of sending the object, which
may be a Secret, to whatever host owns that address on the user's network. Aggregated APIs
and webhooks are routed to the Service's ClusterIP, never to its endpoints
(``--enable-aggregator-routing`` stays off), because endpoints may name any address.
:func:`check_loopback` refuses extra flags that would break this.

    with LocalCluster() as cluster:
        print(cluster.kubeconfig)
"""

from __future__ import annotations

import atexit
import ctypes
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from gitops_nb.binaries import BINARIES, find_binary
from gitops_nb.errors import ControlPlaneError
from gitops_nb.kube.resources import SERVICEACCOUNTS
from gitops_nb.localcluster import pki

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
SERVICE_CIDR = "127.200.0.0/24"
SERVICE_IP = "127.200.0.1"
# Flags whose value is an address or range the cluster binds to or hands out.
_ADDRESS_FLAGS = (
    "--bind-address",
    "--advertise-address",
    "--service-cluster-ip-range",
    "--cluster-cidr",
    "--node-ip",
    "--pod-cidr",
    "--listen-client-urls",
    "--advertise-client-urls",
    "--listen-peer-urls",
    "--initial-advertise-peer-urls",
    "--etcd-servers",
)
# Flags that would send API-server calls to endpoints, which may name any address.
_FORBIDDEN_FLAGS = ("--enable-aggregator-routing",)
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
# Controllers the tests and demo rely on; the rest (nodes, cloud, IPAM) need kubelets.
CONTROLLERS = (
    "namespace-controller",
    "garbage-collector-controller",
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
    "job-controller",
    "cronjob-controller",
    "ttl-after-finished-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _addresses(value: str) -> list[str]:
    """The IP literals in a flag value: CIDRs, bare IPs or URLs (comma-separated)."""
    out = []
    for part in value.split(","):
        host = part.strip()
        if "://" in host:
            host = host.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
        if host:
            out.append(host)
    return out


def non_loopback(args: Sequence[str]) -> list[str]:
    """Flags in ``args`` that bind to or allocate an address outside ``127.0.0.0/8``,
    or that route API-server calls to endpoints; empty when the command line is safe."""
    bad = []
    for arg in args:
        flag, _, value = arg.partition("=")
        if flag in _FORBIDDEN_FLAGS and value.lower() not in ("false", "0"):
            bad.append(arg)
        if flag not in _ADDRESS_FLAGS:
            continue
        for host in _addresses(value):
            try:
                net = ipaddress.ip_network(host, strict=False)
            except ValueError:
                if host != "localhost":
                    bad.append(arg)
                continue
            if not (isinstance(net, ipaddress.IPv4Network) and net.subnet_of(LOOPBACK)):
                bad.append(arg)
    return bad


def check_loopback(name: str, args: Sequence[str]) -> None:
    """Raise before starting ``name`` if its flags would leave the machine."""
    bad = non_loopback(args)
    if bad:
        raise ControlPlaneError(
            f"{name}: the local cluster only uses loopback addresses (127.0.0.0/8) and never "
            f"routes to endpoints; refusing flags {', '.join(bad)}"
        )


def _die_with_parent() -> None:
    # Children of a test run must not outlive it, even if pytest is SIGKILLed.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class _Proc:
    name: str
    args: list[str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    def start(self, *, detach: bool) -> None:
        check_loopback(self.name, self.args)
        self.log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=None if detach else _die_with_parent,
        )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        if self.log is not None:
            self.log.close()
            self.log = None

    def peak_rss_kb(self) -> int:
        """VmHWM of the running process (0 once it has exited)."""
        if not self.alive() or self.popen is None:
            return 0
        try:
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class LocalCluster:
    """etcd + kube-apiserver (+ kube-controller-manager) on free loopback ports.

    ``workdir`` keeps certificates, data and each process's log for debugging; a temporary
    directory is used (and kept only on failure) when none is given.
    """

    workdir: Path | None = None
    controller_manager: bool = True
    ready_timeout: float = 60.0
    detach: bool = False
    extra_apiserver_args: tuple[str, ...] = ()
    server: str = field(init=False, default="")
    kubeconfig: Path = field(init=False, default=Path())
    ca_pem: bytes = field(init=False, default=b"")
    _procs: dict[str, _Proc] = field(init=False, default_factory=dict)
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
        bins = {b: find_binary(b) for b in BINARIES if b != "kubectl"}
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="gitops-nb-cluster-"))
            self._owns_workdir = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.detach:  # a detached cluster outlives this process by design
            atexit.register(self.stop)
        try:
            self._write_pki()
            etcd_port, peer_port = free_port(), free_port()
            self._procs["etcd"] = self._etcd(bins["etcd"], etcd_port, peer_port)
            self._procs["etcd"].start(detach=self.detach)
            api_port = free_port()
            self.server = f"https://127.0.0.1:{api_port}"
            self._procs["kube-apiserver"] = self._apiserver(
                bins["kube-apiserver"], api_port, etcd_port
            )
            self._procs["kube-apiserver"].start(detach=self.detach)
            self.wait_ready()
            if self.controller_manager:
                self._procs["kube-controller-manager"] = self._controller_manager(
                    bins["kube-controller-manager"]
                )
                self._procs["kube-controller-manager"].start(detach=self.detach)
                self._wait_default_serviceaccount()
        except BaseException:
            self.stop(keep_workdir=True)
            raise
        self.started_in_s = time.monotonic() - t0
        self._write_state()
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
        self._procs["kube-apiserver"].start(detach=self.detach)
        self.wait_ready()

    # -- observations ----------------------------------------------------------------------

    @property
    def logs(self) -> dict[str, Path]:
        assert self.workdir is not None
        return {name: self.workdir / f"{name}.log" for name in BINARIES if name != "kubectl"}

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
            for p in self._procs.values():
                if p.popen is not None and not p.alive():
                    raise ControlPlaneError(
                        f"{p.name} exited with code {p.popen.returncode}; log {p.log_path}:\n"
                        f"{p.tail()}"
                    )
            try:
                with urllib.request.urlopen(self.server + path, context=ctx, timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError) as e:
                last = str(e)
            time.sleep(0.25)
        raise ControlPlaneError(f"{timeout_message} ({last}); logs in {self.workdir}")

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
        pki.write_kubeconfig(
            self.workdir / "kube-controller-manager.kubeconfig",
            pki.kubeconfig(
                self.server, self.ca_pem, user="system:kube-controller-manager", client=self._kcm
            ),
        )

    def _etcd(self, binary: Path, port: int, peer: int) -> _Proc:
        assert self.workdir is not None
        client_url, peer_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer}"
        args = [
            str(binary),
            "--name=default",
            f"--data-dir={self.workdir / 'etcd'}",
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
        return _Proc("etcd", args, self.workdir / "etcd.log")

    def _apiserver(self, binary: Path, port: int, etcd_port: int) -> _Proc:
        assert self.workdir is not None
        w = self.workdir
        self._finish_kubeconfigs()
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
            "--v=1",
            *self.extra_apiserver_args,
        ]
        return _Proc("kube-apiserver", args, w / "kube-apiserver.log")

    def _controller_manager(self, binary: Path) -> _Proc:
        assert self.workdir is not None
        w = self.workdir
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
        return _Proc("kube-controller-manager", args, w / "kube-controller-manager.log")

    # -- detached clusters (CLI `local-cluster up --detach` / `down`) ----------------------

    def _write_state(self) -> None:
        assert self.workdir is not None
        state: dict[str, Any] = {
            "server": self.server,
            "kubeconfig": str(self.kubeconfig),
            "pids": {n: p.popen.pid for n, p in self._procs.items() if p.popen is not None},
        }
        (self.workdir / "state.json").write_text(json.dumps(state, indent=2))


def stop_detached(workdir: Path, timeout: float = 10.0) -> list[str]:
    """Stop the processes a detached cluster in ``workdir`` recorded; return their names.

    Returns only once each process has exited (its ports and etcd's data directory are
    free), not when it merely stopped looking like itself.
    """
    state_file = workdir / "state.json"
    if not state_file.is_file():
        return []
    pids: dict[str, int] = json.loads(state_file.read_text()).get("pids", {})
    stopped = []
    for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
        pid = pids.get(name)
        if pid is None or not _is_ours(pid, name):
            continue
        started = _start_time(pid)  # identity from here on, even once cmdline is gone
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _running(pid, started):
            time.sleep(0.05)
        if _running(pid, started):
            os.kill(pid, signal.SIGKILL)
            while _running(pid, started):
                time.sleep(0.05)
        stopped.append(name)
    state_file.unlink()
    return stopped


def _stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def _start_time(pid: int) -> str:
    fields = _stat(pid)
    return fields[19] if fields else ""  # field 22 of stat: start time in clock ticks


def _running(pid: int, started: str) -> bool:
    """True until ``pid`` (the process that started at ``started``) has exited.

    A zombie has exited: its memory, files and sockets are released; only its parent
    (init, for a detached cluster) has yet to reap it.
    """
    fields = _stat(pid)
    return fields is not None and fields[19] == started and fields[0] not in ("Z", "X")


def _is_ours(pid: int, name: str) -> bool:
    """True if ``pid`` is alive and runs the named binary (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return False
    fields = _stat(pid)
    return Path(cmdline).name == name and fields is not None and fields[0] not in ("Z", "X")
