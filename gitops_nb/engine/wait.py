"""Read the health of applied objects once, or poll until every one is Current.

As fluxcd/pkg ``ssa`` ``manager_wait.go``: the objects to watch are the ones just applied;
each is read back and judged by :func:`gitops_nb.engine.health.assess` (kstatus rules).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gitops_nb.engine.applyset import PART_OF
from gitops_nb.engine.health import WORKLOADS, assess, run_health, with_pods
from gitops_nb.engine.progress import EngineProgress
from gitops_nb.errors import KubeError
from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.kube.resources import PODS
from gitops_nb.kube.sharedlists import SharedLists
from gitops_nb.model import Health, HealthStatus, ObjectRef, RunHealth, format_time

POLL_INTERVAL_S = 1.0
DEFAULT_TIMEOUT_S = 300.0
LIST_FROM = 5
"""From this many objects of one kind in one namespace, one LIST reads them all."""
STATUSLESS = frozenset(
    {
        ("", "ConfigMap"),
        ("", "Secret"),
        ("", "ServiceAccount"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    }
)
"""(group, kind) of objects that have no status: kstatus calls them Current once they exist
(a Terminating one is the exception it would see, and a run does not wait for it)."""


@dataclass(frozen=True)
class HealthReport:
    """The health of each watched object when the check (or wait) ended."""

    objects: dict[ObjectRef, Health] = field(default_factory=dict)
    waited: bool = False
    """True if this came from :func:`wait_current` (not a single look)."""
    timed_out: bool = False
    healthy_at: str | None = None
    """When all objects were first seen Current (UTC ISO 8601), None if never."""
    waited_s: float = 0.0

    @property
    def health(self) -> RunHealth:
        return run_health(self.objects.values(), timed_out=self.not_healthy)

    @property
    def not_healthy(self) -> bool:
        """A wait ended (deadline, or an object Failed) with an object not Current."""
        return self.waited and any(not h.status.is_healthy for h in self.objects.values())

    @property
    def unhealthy(self) -> list[tuple[ObjectRef, Health]]:
        return sorted(
            ((r, h) for r, h in self.objects.items() if not h.status.is_healthy),
            key=lambda item: str(item[0]),
        )


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _match_labels(workload: dict[str, Any]) -> dict[str, str]:
    return dict(((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})


def _selects(labels: dict[str, str], pod: dict[str, Any]) -> bool:
    have = (pod.get("metadata") or {}).get("labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


def watched(refs: Iterable[ObjectRef]) -> list[ObjectRef]:
    """Distinct refs in a stable order."""
    return sorted(set(refs), key=str)


class HealthReader:
    """Reads objects and judges their health; unreadable ones are Unknown, not errors.

    ``now`` dates ``healthy_at`` (default the real time; the reconciler passes its clock, so
    a record's ``healthy_at`` lies on the same timeline as its ``started`` and ``finished``).
    """

    def __init__(
        self,
        kube: Kube,
        discovery: Discovery,
        workers: int = 8,
        now: Callable[[], dt.datetime] = _utcnow,
        snapshot: SharedLists | None = None,
    ) -> None:
        self.kube = kube
        self.discovery = discovery
        self.workers = workers
        self.now = now
        self.snapshot = snapshot
        """A fleet run's shared LISTs of ApplySet members: a run that wrote nothing reads its
        objects from one LIST per kind and namespace instead of one GET each. An object
        missing from it (created since) is read with a GET."""

    def _now(self) -> str:
        return format_time(self.now())

    def read_all(
        self, refs: Sequence[ObjectRef], present: Collection[ObjectRef] = ()
    ) -> dict[ObjectRef, Health]:
        """Each object's health, in as few requests as the objects allow.

        - An object of a kind without a status (:data:`STATUSLESS`) known to exist
          (``present``: the run just saw or wrote it) is Current without a read: kstatus
          has nothing to judge on it.
        - :data:`LIST_FROM` or more objects of one kind in one namespace are read with one
          LIST (full objects; all of that kind there, so only from that many on);
        - any other object with one GET. A LIST the app may not make falls back to GETs.

        With a fleet's ``snapshot`` every object comes from its shared LISTs (a GET if it
        is not there).
        """
        out: dict[ObjectRef, Health] = {}
        groups: dict[tuple[str, str, str], list[ObjectRef]] = defaultdict(list)
        for r in refs:
            if r in present and (r.group, r.kind) in STATUSLESS:
                out[r] = Health(HealthStatus.CURRENT, "", "Resource is current")
            elif self.snapshot is not None:  # a fleet's shared LISTs: from memory
                out[r] = self.read(r)
            else:
                groups[(r.api_version, r.kind, r.namespace)].append(r)
        singles = [r for g in groups.values() if len(g) < LIST_FROM for r in g]
        lists = [g for g in groups.values() if len(g) >= LIST_FROM]
        jobs: list[Callable[[], dict[ObjectRef, Health]]] = [
            *(lambda r=r: {r: self.read(r)} for r in singles),
            *(lambda g=g: self._read_listed(g) for g in lists),
        ]
        if len(jobs) <= 1:
            for job in jobs:
                out.update(job())
            return out
        with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs))) as pool:
            for got in pool.map(lambda job: job(), jobs):
                out.update(got)
        return out

    def _read_listed(self, refs: Sequence[ObjectRef]) -> dict[ObjectRef, Health]:
        """Objects of one kind in one namespace from one LIST (GETs if the LIST fails)."""
        first = refs[0]
        try:
            r = self.discovery.resource_for_ref(first)
            items = self.kube.list(
                r.collection_path(first.namespace if r.namespaced else ""), what=str(first)
            )
        except KubeError:
            return {ref: self.read(ref) for ref in refs}
        by_name = {
            (o.get("metadata") or {}).get("name"): {
                **o,
                "apiVersion": first.api_version,
                "kind": first.kind,
            }
            for o in items
        }
        judged = {ref: assess(by_name.get(ref.name)) for ref in refs}
        sick = [
            ref
            for ref, h in judged.items()
            if not h.status.is_healthy and ref.kind in WORKLOADS and ref.name in by_name
        ]
        if sick:  # why they are not Current: one LIST of the namespace's Pods for all of them
            pods = self._pods(first.namespace, "")
            for ref in sick:
                labels = _match_labels(by_name[ref.name])
                if labels and pods is not None:
                    mine = [p for p in pods if _selects(labels, p)]
                    judged[ref] = with_pods(judged[ref], mine)
        return judged

    def read(self, ref: ObjectRef) -> Health:
        """The object's health; a workload that is not Current also says why its Pods are not."""
        try:
            obj = self._object(ref)
        except KubeError as e:
            return Health(HealthStatus.UNKNOWN, "ReadFailed", str(e)[:300])
        return self._judge(ref, obj)

    def _judge(self, ref: ObjectRef, obj: dict[str, Any] | None) -> Health:
        health = assess(obj)
        if obj is None or health.status.is_healthy or ref.kind not in WORKLOADS:
            return health
        labels = _match_labels(obj)
        if not labels:
            return health
        if self.snapshot is not None:  # a fleet: the namespace's Pods from one shared LIST
            pods = self._shared_pods(ref.namespace, labels)
        else:
            selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            pods = self._pods(ref.namespace, selector)
        return health if pods is None else with_pods(health, pods)

    def _shared_pods(self, namespace: str, labels: dict[str, str]) -> list[dict[str, Any]] | None:
        """The namespace's Pods that ``labels`` select, from the fleet's shared LIST."""
        assert self.snapshot is not None
        try:
            pods = self.snapshot.items(
                self.kube, PODS.collection_path(namespace), what=f"Pods in {namespace}"
            )
        except KubeError:
            return None
        return [{**p, "apiVersion": "v1", "kind": "Pod"} for p in pods if _selects(labels, p)]

    def _pods(self, namespace: str, selector: str) -> list[dict[str, Any]] | None:
        """Pods of ``namespace`` (matching ``selector``), None if the app may not list them:
        the why is a bonus, an install that may not list Pods still gets the status."""
        try:
            pods = self.kube.list(PODS.collection_path(namespace), label_selector=selector)
        except KubeError:
            return None
        # list items carry no kind: give them theirs, or no Pod rule would apply
        return [{**p, "apiVersion": "v1", "kind": "Pod"} for p in pods]

    def _object(self, ref: ObjectRef) -> dict[str, Any] | None:
        resource = self.discovery.resource_for_ref(ref)
        ns = ref.namespace if resource.namespaced else ""
        if self.snapshot is not None:
            try:
                items = self.snapshot.by_name(
                    self.kube,
                    resource.collection_path(ns),
                    label_selector=PART_OF,
                    what=f"{resource.kind} in {ns or 'cluster'}",
                )
            except KubeError:  # e.g. may get but not list: read it alone
                items = {}
            item = items.get(ref.name)
            if item is not None:  # list items carry no kind
                return {**item, "apiVersion": resource.api_version, "kind": resource.kind}
        return self.kube.get_or_none(resource.object_path(ns, ref.name), what=str(ref))  # type: ignore[no-any-return]

    def look(self, refs: Sequence[ObjectRef], present: Collection[ObjectRef] = ()) -> HealthReport:
        """One look at every object; ``healthy_at`` is now if all are Current."""
        objects = self.read_all(watched(refs), present)
        healthy = all(h.status.is_healthy for h in objects.values())
        return HealthReport(objects, healthy_at=self._now() if healthy else None)

    def wait_current(
        self,
        refs: Sequence[ObjectRef],
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        poll_s: float = POLL_INTERVAL_S,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        present: Collection[ObjectRef] = (),
        progress: EngineProgress | None = None,
    ) -> HealthReport:
        """Poll until every object is Current, one is Failed, ``timeout_s`` passes, or
        ``stop`` is set (``progress`` counts the objects Current, see :mod:`.progress`).

        Failed ends the wait at once, as fluxcd/pkg ``ssa`` with ``FailFast``: kstatus
        Failed (a progress deadline exceeded, a crash loop, a failed Job) does not heal
        without a new change. Objects already Current are not read again: kstatus Current
        is where a rollout ends, and a later failure belongs to the next run's record.
        """
        start = clock()
        stop = stop or threading.Event()
        pending = watched(refs)
        if progress is not None:
            progress.phase("waiting for Current", len(pending))
        seen: dict[ObjectRef, Health] = {}
        while True:
            seen.update(self.read_all(pending, present))
            still = [r for r in pending if not seen[r].status.is_healthy]
            if progress is not None:
                progress.step(len(pending) - len(still))
            pending = still
            elapsed = clock() - start
            if not pending:
                return HealthReport(dict(seen), True, False, self._now(), elapsed)
            if any(seen[r].status is HealthStatus.FAILED for r in pending):
                return HealthReport(dict(seen), True, False, None, elapsed)
            if elapsed >= timeout_s or stop.is_set():
                return HealthReport(dict(seen), True, True, None, elapsed)
            stop.wait(min(poll_s, max(0.0, timeout_s - elapsed)))
