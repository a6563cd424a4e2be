"""The local cluster's egress proxy: the API server reaches "the cluster" only through here,
and only addresses in ``127.0.0.0/8`` (or ``::1``) are dialled.

kube-apiserver is started with ``--egress-selector-config-file`` (:func:`write_selector_config`)
whose ``cluster`` and ``controlplane`` selections are HTTP CONNECT over a Unix socket. Every
connection the API server opens towards the cluster then asks this relay first: admission
webhooks (``service:`` and ``url:`` forms), aggregated APIs (also an ExternalName Service's
``externalName``), the ``services/proxy`` and ``pods/proxy`` subresources and kubelet calls
(``logs``, ``exec``).

A target whose address is loopback is connected and relayed. Any other target is refused
without a DNS lookup (a host name is dialled only if it is ``localhost`` or ends in
``.localhost``, and then at 127.0.0.1): the answer is ``HTTP/1.1 403`` whose reason is the one
line :data:`REFUSAL`, which the API server puts into the error its client sees. Every request
is one JSON line in the log (``target``, ``allowed``, ``connected``, ``reason``), so a test
can read every address the API server tried.

Run by :class:`LocalCluster` as a child process like etcd and the API server::

    python -m gitops_nb.localcluster.egress --socket W/egress.sock --log W/egress-proxy.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import ipaddress
import json
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from gitops_nb.errors import ControlPlaneError
from gitops_nb.localcluster.loopback import LOOPBACK
from gitops_nb.localcluster.processes import Process

SELECTIONS = ("cluster", "controlplane")
"""Egress selections sent through the proxy. A webhook's ``url:`` is dialled as
``controlplane`` (k8s.io/apiserver ``pkg/util/webhook/authentication.go``), the rest as
``cluster``."""
NAME = "egress-proxy"
"""The process's name in :class:`LocalCluster` (its output goes to ``egress-proxy.log``)."""
LOG_NAME = "egress-proxy.jsonl"
REFUSAL = "gitops-nb local cluster: refused to dial {target}: outside 127.0.0.0/8 (loopback only)"
_FAILED = "gitops-nb local cluster: dial {target} failed: {error}"
_HEAD_LIMIT = 8192  # a CONNECT request is one short line and a Host header
_TIMEOUT = 10.0
_MAX_UNIX_PATH = 100  # sun_path holds 108 bytes with the terminating NUL


@dataclass(frozen=True)
class Decision:
    """Where a CONNECT target may be dialled: ``host`` is None when it is refused."""

    target: str
    host: str | None
    port: int
    reason: str = ""


def decide(target: str) -> Decision:
    """Allow ``host:port`` only for a loopback address or a ``localhost`` name; no DNS."""
    target = "".join(c if c.isprintable() else "?" for c in target)[:300]
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = target.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return Decision(target, None, 0, f"gitops-nb local cluster: bad CONNECT target {target}")
    port = int(port_text)
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return Decision(target, "127.0.0.1", port)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if (isinstance(ip, ipaddress.IPv4Address) and ip in LOOPBACK) or (
        isinstance(ip, ipaddress.IPv6Address) and ip.is_loopback
    ):
        return Decision(target, str(ip), port)
    return Decision(target, None, port, REFUSAL.format(target=target))


# -- the relay -----------------------------------------------------------------------------


class _Log:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, d: Decision, *, connected: bool, reason: str) -> None:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "target": d.target,
            "allowed": d.host is not None,
            "connected": connected,
            "reason": reason,
        }
        self.out.write(json.dumps(entry) + "\n")
        self.out.flush()


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    line = " ".join(reason.split())  # one line: it is the HTTP reason phrase
    body = (line + "\n").encode()
    writer.write(
        f"HTTP/1.1 {status} {line}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    try:
        await writer.drain()
    finally:
        writer.close()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
        if dst.can_write_eof():
            dst.write_eof()
    except OSError:
        pass


async def _handle(log: _Log, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
        writer.close()
        return
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    if len(parts) != 3 or parts[0] != "CONNECT":
        await _answer(writer, 405, "gitops-nb local cluster: only CONNECT is served")
        return
    d = decide(parts[1])
    if d.host is None:
        log.write(d, connected=False, reason=d.reason)
        await _answer(writer, 403, d.reason)
        return
    try:
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(d.host, d.port), _TIMEOUT
        )
    except (OSError, TimeoutError) as e:
        error = _FAILED.format(target=d.target, error=str(e) or type(e).__name__)
        log.write(d, connected=False, reason=error)
        await _answer(writer, 502, error)
        return
    log.write(d, connected=True, reason="")
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    try:
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
    finally:
        up_writer.close()
        writer.close()


async def serve(socket_path: Path, log_path: Path) -> None:
    """Relay CONNECT requests on ``socket_path`` until SIGTERM or SIGINT."""
    socket_path.unlink(missing_ok=True)
    with log_path.open("a", encoding="utf-8") as out:
        log = _Log(out)
        server = await asyncio.start_unix_server(
            lambda r, w: _handle(log, r, w), path=str(socket_path), limit=_HEAD_LIMIT
        )
        socket_path.chmod(0o600)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"{NAME}: listening on {socket_path}", flush=True)
        await stop.wait()
        server.close()  # open relays end with the process
        socket_path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name if __spec__ else NAME}")
    parser.add_argument("--socket", required=True, type=Path, help="Unix socket to listen on")
    parser.add_argument("--log", required=True, type=Path, help="JSON lines, one per request")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.socket, args.log))
    return 0


# -- wiring into LocalCluster --------------------------------------------------------------


def socket_path(workdir: Path) -> Path:
    """``workdir/egress.sock``, or a short path in the temp directory when that is too long
    for a Unix socket (the name is derived from the workdir, so ``down`` finds it again)."""
    path = workdir.resolve() / "egress.sock"
    if len(str(path).encode()) <= _MAX_UNIX_PATH:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"gitops-nb-egress-{digest}.sock"


def proxy_process(workdir: Path) -> Process:
    """This interpreter runs this very module: ``-P`` keeps the working directory off
    ``sys.path`` (another ``gitops_nb`` checkout there must not shadow it) and ``PYTHONPATH``
    starts with the directory this ``gitops_nb`` was imported from."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    args = [sys.executable, "-P", "-m", "gitops_nb.localcluster.egress"]
    args += ["--socket", str(socket_path(workdir)), "--log", str(workdir / LOG_NAME)]
    return Process(NAME, args, workdir / f"{NAME}.log", env={**os.environ, "PYTHONPATH": path})


def write_selector_config(path: Path, workdir: Path) -> Path:
    """The EgressSelectorConfiguration sending ``cluster`` and ``controlplane`` egress
    through the proxy (``etcd`` stays direct: it is on 127.0.0.1, checked before start)."""
    connection = {
        "proxyProtocol": "HTTPConnect",
        "transport": {"uds": {"udsName": str(socket_path(workdir))}},
    }
    config: dict[str, Any] = {
        "apiVersion": "apiserver.k8s.io/v1beta1",
        "kind": "EgressSelectorConfiguration",
        "egressSelections": [{"name": name, "connection": connection} for name in SELECTIONS],
    }
    path.write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML
    return path


def wait_listening(workdir: Path, timeout: float, check_alive: Callable[[], None]) -> None:
    """Return once the proxy accepts connections on its socket."""
    path = socket_path(workdir)
    deadline = time.monotonic() + timeout
    last: OSError | None = None
    while time.monotonic() < deadline:
        check_alive()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(str(path))
                return
            except OSError as e:
                last = e
        time.sleep(0.02)
    raise ControlPlaneError(f"{NAME} not listening on {path} after {timeout:.0f}s ({last})")


def read_log(workdir: Path, offset: int = 0) -> list[dict[str, Any]]:
    """The proxy's JSON log entries from byte ``offset`` on."""
    try:
        with (workdir / LOG_NAME).open("rb") as f:
            f.seek(offset)
            raw = f.read()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


if __name__ == "__main__":
    sys.exit(main())
