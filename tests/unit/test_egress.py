"""The egress proxy: loopback targets are relayed, everything else refused without DNS."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_nb.localcluster import egress

ALLOWED = {
    "127.0.0.1:443": "127.0.0.1",
    "127.200.0.7:8443": "127.200.0.7",
    "[::1]:443": "::1",
    "[::ffff:127.0.0.2]:443": "127.0.0.2",
    "localhost:6443": "127.0.0.1",
    "LOCALHOST.:6443": "127.0.0.1",
    "webhook.localhost:443": "127.0.0.1",
}
REFUSED = [
    "203.0.113.7:443",
    "10.0.0.7:443",
    "192.168.1.1:443",
    "0.0.0.0:443",
    "example.com:443",
    "localhost.example.com:443",
    "127.0.0.1.nip.io:443",
    "[2001:db8::1]:443",
    "[::ffff:10.0.0.7]:443",
]


@pytest.mark.parametrize(("target", "host"), ALLOWED.items())
def test_loopback_targets_are_allowed(target: str, host: str) -> None:
    d = egress.decide(target)
    assert (d.host, d.reason) == (host, "")


@pytest.mark.parametrize("target", REFUSED)
def test_other_targets_are_refused_without_a_dns_lookup(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dns(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"DNS lookup for {args}")

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, no_dns)
    d = egress.decide(target)
    assert d.host is None
    assert d.reason == (
        f"gitops-nb local cluster: refused to dial {target}: outside 127.0.0.0/8 (loopback only)"
    )


@pytest.mark.parametrize("target", ["noport", "host:", ":443", "h:0", "h:65536", "h:-1"])
def test_malformed_targets_are_refused(target: str) -> None:
    d = egress.decide(target)
    assert d.host is None and "bad CONNECT target" in d.reason


def test_long_workdirs_get_a_short_socket_path(tmp_path: Path) -> None:
    assert egress.socket_path(tmp_path) == tmp_path.resolve() / "egress.sock"
    deep = tmp_path / ("d" * 120)
    short = egress.socket_path(deep)
    assert len(str(short)) < 100 and short == egress.socket_path(deep)
    config = egress.write_selector_config(tmp_path / "e.yaml", deep).read_text()
    assert str(short) in config and '"proxyProtocol": "HTTPConnect"' in config


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """The proxy as LocalCluster runs it: ``python -m gitops_nb.localcluster.egress``."""
    p = egress.proxy_process(tmp_path)
    assert p.args[:4] == [sys.executable, "-P", "-m", "gitops_nb.localcluster.egress"]
    p.start(detach=False)
    assert p.popen is not None
    try:
        egress.wait_listening(tmp_path, 10, lambda: None)
        yield tmp_path, p.popen
    finally:
        p.stop()


def _connect(workdir: Path, target: str) -> tuple[str, socket.socket]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(egress.socket_path(workdir)))
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    return head.decode().split("\r\n", 1)[0], s


def _echo_server() -> tuple[int, threading.Thread]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve() -> None:
        conn, _ = srv.accept()
        with conn, srv:
            while data := conn.recv(1024):
                conn.sendall(data.upper())

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return int(srv.getsockname()[1]), t


def test_proxy_relays_loopback_refuses_the_rest_and_logs_every_target(
    proxy: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    workdir, popen = proxy
    port, _ = _echo_server()
    status, s = _connect(workdir, f"127.0.0.1:{port}")
    with s:
        assert status == "HTTP/1.1 200 Connection established"
        s.sendall(b"hello")
        assert s.recv(5) == b"HELLO"
    for target in ("203.0.113.7:443", "example.com:443"):
        status, s = _connect(workdir, target)
        s.close()
        assert status == (
            f"HTTP/1.1 403 gitops-nb local cluster: refused to dial {target}: "
            "outside 127.0.0.0/8 (loopback only)"
        )
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    closed = int(free.getsockname()[1])
    free.close()  # nothing listens there now
    status, s = _connect(workdir, f"127.0.0.1:{closed}")
    s.close()
    assert status.startswith(f"HTTP/1.1 502 gitops-nb local cluster: dial 127.0.0.1:{closed}")
    log = [(e["target"], e["allowed"], e["connected"]) for e in egress.read_log(workdir)]
    assert log == [
        (f"127.0.0.1:{port}", True, True),
        ("203.0.113.7:443", False, False),
        ("example.com:443", False, False),
        (f"127.0.0.1:{closed}", True, False),
    ]
    popen.terminate()
    assert popen.wait(10) == 0
    assert not egress.socket_path(workdir).exists()


def test_proxy_serves_only_connect(proxy: tuple[Path, subprocess.Popen[bytes]]) -> None:
    workdir, _ = proxy
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(egress.socket_path(workdir)))
        s.sendall(b"GET http://203.0.113.7/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(200).startswith(b"HTTP/1.1 405 ")
    assert egress.read_log(workdir) == []


def test_proxy_runs_this_gitops_nb_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m`` would put the working directory first on ``sys.path``: another
    ``gitops_nb`` there (an older checkout) must not be the one that runs."""
    decoy = tmp_path / "checkout" / "gitops_nb"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('the decoy gitops_nb was imported')\n")
    monkeypatch.chdir(decoy.parent)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    p = egress.proxy_process(tmp_path)
    p.start(detach=False)
    try:
        egress.wait_listening(tmp_path, 10, lambda: None)
        assert p.alive()
    finally:
        p.stop()
    assert "decoy" not in p.tail()
