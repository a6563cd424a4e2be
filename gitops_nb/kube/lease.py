"""One run at a time per app: a ``coordination.k8s.io/v1`` Lease, renewed while we work."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from gitops_nb.errors import ConflictError, GitOpsError, LeaseHeldError, NotFoundError
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import LEASES
from gitops_nb.kube.sharedlists import SharedLists
from gitops_nb.model import parse_time


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Lease:
    """A held Lease. Use :func:`acquire`; call :meth:`release` (or use ``with``)."""

    kube: Kube
    namespace: str
    name: str
    holder: str
    duration_s: int
    obj: dict[str, Any]
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    lost: bool = False

    @property
    def path(self) -> str:
        return LEASES.object_path(self.namespace, self.name)

    def renew(self) -> None:
        spec = {**self.obj["spec"], "renewTime": _fmt(_now())}
        self.obj = self.kube.replace(self.path, {**self.obj, "spec": spec}, what=self.what)

    @property
    def what(self) -> str:
        return f"Lease/{self.namespace}/{self.name}"

    def start_renewing(self) -> None:
        """Renew every third of the duration in a daemon thread until released."""

        def loop() -> None:
            while not self._stop.wait(self.duration_s / 3):
                try:
                    self.renew()
                except ConflictError:
                    self.lost = True  # someone took it over: stop claiming it
                    return
                except Exception:  # transient: try again next tick, the lease is still ours
                    continue

        self._thread = threading.Thread(target=loop, name=f"lease-{self.name}", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stop renewing and hand the Lease back (it stays, with no holder)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.lost:
            return
        try:  # the Lease as we last wrote it: its resourceVersion proves nobody took it since
            self._hand_back(self.obj)
            return
        except (ConflictError, NotFoundError):
            pass  # changed since our last write: read it and check it is still ours
        cur = self.kube.get_or_none(self.path, what=self.what)
        if cur is None or cur["spec"].get("holderIdentity") != self.holder:
            return
        self._hand_back(cur)

    def _hand_back(self, cur: dict[str, Any]) -> None:
        spec = {k: v for k, v in cur["spec"].items() if k not in ("holderIdentity", "renewTime")}
        self.kube.replace(self.path, {**cur, "spec": spec}, what=self.what)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(
    kube: Kube,
    namespace: str,
    name: str,
    holder: str,
    duration_s: int,
    *,
    snapshot: SharedLists | None = None,
) -> Lease:
    """Take the Lease, or raise LeaseHeldError if another holder renewed it recently.

    A Lease whose holder has not renewed within its duration is stale and taken over. The
    update carries the resourceVersion we read, so two takers cannot both win.

    ``snapshot`` (a fleet run's shared LISTs) saves the read: the Lease as one LIST of the
    namespace's Leases saw it. Only a take that succeeds is decided from it (the write is
    guarded by its resourceVersion); a Lease held, or changed since, is read again.
    """
    what = f"Lease/{namespace}/{name}"
    if snapshot is not None:
        try:
            seen = snapshot.by_name(
                kube, LEASES.collection_path(namespace), what=f"Leases in {namespace}"
            )
        except GitOpsError:
            seen = None  # may not list Leases: read ours alone
        if seen is not None:
            cur = seen.get(name)
            try:
                return _take(
                    kube,
                    namespace,
                    name,
                    holder,
                    duration_s,
                    None if cur is None else {**cur, **_LEASE_KIND},
                )
            except LeaseHeldError:
                pass  # perhaps only in the snapshot: decide on a fresh read
    cur = kube.get_or_none(LEASES.object_path(namespace, name), what=what)
    return _take(kube, namespace, name, holder, duration_s, cur)


_LEASE_KIND = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease"}


def _take(
    kube: Kube,
    namespace: str,
    name: str,
    holder: str,
    duration_s: int,
    cur: dict[str, Any] | None,
) -> Lease:
    """Create the Lease or take ``cur`` over (the Lease as last read)."""
    path = LEASES.object_path(namespace, name)
    now = _fmt(_now())
    spec = {
        "holderIdentity": holder,
        "leaseDurationSeconds": duration_s,
        "acquireTime": now,
        "renewTime": now,
    }
    what = f"Lease/{namespace}/{name}"
    if cur is None:
        body = {
            **_LEASE_KIND,
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
        try:
            obj = kube.create(LEASES.collection_path(namespace), body, what=what)
        except ConflictError as e:  # created by a concurrent run between our get and create
            raise LeaseHeldError(f"{what} was just taken by another run") from e
        return Lease(kube, namespace, name, holder, duration_s, obj)
    held_by = cur["spec"].get("holderIdentity")
    renewed = parse_time(cur["spec"].get("renewTime"))
    their_duration = int(cur["spec"].get("leaseDurationSeconds") or duration_s)
    if held_by and held_by != holder and renewed is not None:
        age = (_now() - renewed).total_seconds()
        if age < their_duration:
            raise LeaseHeldError(
                f"{what} is held by {held_by} (renewed {age:.0f}s ago, expires after "
                f"{their_duration}s): another reconcile of this app is running"
            )
    try:
        obj = kube.replace(path, {**cur, "spec": {**cur["spec"], **spec}}, what=what)
    except (ConflictError, NotFoundError) as e:
        raise LeaseHeldError(f"{what} changed while we took it: another run won") from e
    return Lease(kube, namespace, name, holder, duration_s, obj)
