"""What one process asked of the API server: requests by verb and resource, and body bytes.

Every :class:`gitops_nb.kube.client.Kube` request is noted here (process-wide, thread-safe).
``GITOPS_NB_REQUEST_LOG=1`` prints the tally when a command ends; the fleet benchmark and
the tests read it to state requests and bytes per app per run. Bytes are HTTP bodies (the
JSON sent and received); headers and TLS framing are not counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Tally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = 0
        self.received = 0
        self.by: Counter[str] = Counter()

    def note(self, method: str, path: str, dry_run: bool, sent: int, received: int) -> None:
        key = request_kind(method, path, dry_run)
        with self._lock:
            self.sent += sent
            self.received += received
            self.by[key] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "bytes_sent": self.sent,
                "bytes_received": self.received,
                "by": dict(sorted(self.by.items())),
            }

    def reset(self) -> None:
        with self._lock:
            self.sent = self.received = 0
            self.by.clear()


TALLY = Tally()
"""The process's tally."""

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def request_kind(method: str, path: str, dry_run: bool = False) -> str:
    """``list leases``, ``get configmaps``, ``patch deployments (dry-run)``, ``update
    leases``, ``get discovery`` …: the verb and resource of a request path."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if parts[:1] == ["api"]:
        rest = parts[2:]
    elif parts[:1] == ["apis"]:
        rest = parts[3:]
    else:
        rest = []
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]
    if not rest:
        return f"{method.lower()} discovery"
    named = len(rest) >= 2
    resource = rest[0] + (f"/{rest[2]}" if len(rest) >= 3 else "")
    verb = _VERBS.get(method, "get" if named else "list")
    return f"{verb} {resource}" + (" (dry-run)" if dry_run else "")
