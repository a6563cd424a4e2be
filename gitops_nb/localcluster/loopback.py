"""Loopback only: every address the local cluster listens on or allocates is in 127.0.0.0/8.

The components bind to 127.0.0.1 and Service ClusterIPs come from ``127.200.0.0/24``.
Simulated nodes (kwok, :mod:`gitops_nb.localcluster.nodes`) follow the same rule: each node's
InternalIP comes from ``NODE_CIDR`` and its Pods' IPs from its slice of ``POD_CIDR``.

What the API server dials is decided elsewhere: all of its ``cluster`` egress goes through
the egress proxy (:mod:`gitops_nb.localcluster.egress`), which connects only to loopback
addresses. Webhooks and aggregated APIs are called at the Service's ClusterIP (or an
ExternalName Service's ``externalName``, or a webhook's ``url``), the ``proxy`` subresources
at an endpoint or Pod IP, kubelets at the node's InternalIP: loopback addresses reach this
machine (nothing answers on a ClusterIP: there is no kube-proxy), anything else is refused by
the proxy. :func:`check_loopback` refuses flags that would break this: a non-loopback
address, ``--enable-aggregator-routing``, or a second ``--egress-selector-config-file``
overriding the proxy's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

from gitops_nb.errors import ControlPlaneError

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
SERVICE_CIDR = "127.200.0.0/24"
SERVICE_IP = "127.200.0.1"
POD_CIDR = "127.201.0.0/16"
"""Pod IPs of simulated nodes: node ``i`` gets ``127.201.<i>.0/24``."""
NODE_CIDR = "127.202.0.0/24"
"""InternalIPs of simulated nodes: node ``i`` is ``127.202.0.<i + 1>``."""
# Flags whose value is an address or range the cluster binds to or hands out.
_ADDRESS_FLAGS = (
    "--bind-address",
    "--advertise-address",
    "--service-cluster-ip-range",
    "--cluster-cidr",
    "--node-ip",
    "--pod-cidr",
    "--cidr",
    "--server-address",
    "--listen-client-urls",
    "--advertise-client-urls",
    "--listen-peer-urls",
    "--initial-advertise-peer-urls",
    "--etcd-servers",
)
# Flags that would send API-server calls to endpoints, which may name any address.
_FORBIDDEN_FLAGS = ("--enable-aggregator-routing",)
# Flags the cluster sets once; a second occurrence (an extra flag) would override it.
_ONCE_FLAGS = ("--egress-selector-config-file",)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_loopback(address: str) -> bool:
    """True if ``address`` (an IPv4 address or CIDR) lies wholly inside ``127.0.0.0/8``."""
    try:
        net = ipaddress.ip_network(address, strict=False)
    except ValueError:
        return False
    return isinstance(net, ipaddress.IPv4Network) and net.subnet_of(LOOPBACK)


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
    route API-server calls to endpoints or replace the egress proxy; empty when the command
    line is safe."""
    bad = []
    seen: set[str] = set()
    for arg in args:
        flag, _, value = arg.partition("=")
        if flag in _ONCE_FLAGS:
            if flag in seen:
                bad.append(arg)
            seen.add(flag)
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
