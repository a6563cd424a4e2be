"""Health of a live object, with kstatus semantics. Pure: objects in, :class:`Health` out.

The rules follow ``sigs.k8s.io/cli-utils/pkg/kstatus/status`` (``status.go`` ``Compute``,
``generic.go`` ``checkGenericProperties``, ``core.go`` per-kind functions); each function
below names the one it follows. In order:

1. ``metadata.deletionTimestamp`` set: Terminating.
2. ``status.observedGeneration`` present and not ``metadata.generation``: InProgress
   (``LatestGenerationNotObserved``): the controller has not seen the change yet.
3. A ``Reconciling`` condition True: InProgress; a ``Stalled`` condition True: Failed.
4. The kind's own rules (Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, Job, PVC,
   Service, PodDisruptionBudget, CRD; ConfigMap, Secret and CronJob are always Current).
5. Any other object with a ``Ready`` condition: True is Current, False or Unknown is
   InProgress with the condition's reason and message (``status.go``
   ``checkReadyCondition``, which ``Compute`` runs after the kind rules; another value
   decides nothing). Custom health rules for CRDs come later.
6. Everything else: Current.

Where kstatus gives only a count (Pods Pending, Running but not Ready), the message adds
the containers' waiting reasons (``ImagePullBackOff``...), so a person sees why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gitops_nb.model import Health, HealthStatus, RunHealth, parse_time

Obj = Mapping[str, Any]

SCHEDULE_WINDOW = dt.timedelta(seconds=15)
"""kstatus ``ScheduleWindow``: how long a Pod may be unschedulable before it is Failed."""
MAX_INT32 = 2**31 - 1

CURRENT, IN_PROGRESS, FAILED = HealthStatus.CURRENT, HealthStatus.IN_PROGRESS, HealthStatus.FAILED


def assess(obj: Obj | None, now: dt.datetime | None = None) -> Health:
    """The health of ``obj`` as read from the API server (None: it does not exist)."""
    if obj is None:
        return Health(HealthStatus.NOT_FOUND, "NotFound", "object not found")
    try:
        generic = _generic(obj)
        if generic is not None:
            return generic
        rule = _RULES.get(_group_kind(obj))
        if rule is not None:
            return rule(obj, now or dt.datetime.now(dt.UTC))
        return _ready_condition(obj) or Health(CURRENT, "", "Resource is current")
    except (TypeError, ValueError, AttributeError, KeyError) as e:  # a malformed status
        return Health(HealthStatus.UNKNOWN, "StatusUnreadable", f"cannot read status: {e}")


WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
"""Kinds whose Pods can explain why they are not Current (:func:`with_pods`)."""


def with_pods(health: Health, pods: Iterable[Obj], now: dt.datetime | None = None) -> Health:
    """A workload's health with the worst of its Pods' reasons added to the message.

    kstatus judges a Deployment by counts and conditions only ("Available: 1/2",
    "ProgressDeadlineExceeded"); the Pod says why (``ContainerCrashLooping``,
    ``ImagePullBackOff``). Failed Pods first, then any other that is not Current.
    """
    if health.status.is_healthy:
        return health
    judged = [(p, assess(p, now)) for p in pods]
    bad = [(p, h) for p, h in judged if not h.status.is_healthy]
    bad.sort(key=lambda item: item[1].status is not FAILED)
    if not bad:
        return health
    pod, h = bad[0]
    name = (pod.get("metadata") or {}).get("name", "?")
    why = f"Pod {name}: {h.reason}: {h.message}"
    return Health(
        health.status, health.reason, f"{health.message}; {why}" if health.message else why
    )


def run_health(healths: Iterable[Health], *, timed_out: bool = False) -> RunHealth:
    """Degraded if any object Failed or is gone, or a wait ran out with any not Current;
    Progressing while any is not Current; Healthy when all are."""
    statuses = [h.status for h in healths]
    if any(s in (FAILED, HealthStatus.NOT_FOUND) for s in statuses):
        return RunHealth.DEGRADED
    if any(not s.is_healthy for s in statuses):
        return RunHealth.DEGRADED if timed_out else RunHealth.PROGRESSING
    return RunHealth.HEALTHY


# -- generic.go ---------------------------------------------------------------------------


def _generic(obj: Obj) -> Health | None:
    """``checkGenericProperties``: deletion, generation, Reconciling / Stalled."""
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Health(HealthStatus.TERMINATING, "Terminating", "Resource scheduled for deletion")
    generation = meta.get("generation")
    observed = _status(obj).get("observedGeneration")
    if generation is not None and observed is not None and int(observed) != int(generation):
        return Health(
            IN_PROGRESS,
            "LatestGenerationNotObserved",
            f"{obj.get('kind')} generation is {generation}, "
            f"but latest observed generation is {observed}",
        )
    for c in _conditions(obj):
        if c.get("type") == "Reconciling" and c.get("status") == "True":
            return Health(IN_PROGRESS, str(c.get("reason") or "Reconciling"), _msg(c))
        if c.get("type") == "Stalled" and c.get("status") == "True":
            return Health(FAILED, str(c.get("reason") or "Stalled"), _msg(c))
    return None


def _ready_condition(obj: Obj) -> Health | None:
    """``checkReadyCondition`` (status.go): other values than True/False/Unknown decide nothing."""
    for c in _conditions(obj):
        if c.get("type") == "Ready" and c.get("status") == "True":
            return Health(CURRENT, str(c.get("reason") or "Ready"), _msg(c) or "Ready")
        if c.get("type") == "Ready" and c.get("status") in ("False", "Unknown"):
            return Health(IN_PROGRESS, str(c.get("reason") or "NotReady"), _msg(c) or "not Ready")
    return None


# -- core.go ------------------------------------------------------------------------------


def _always(_obj: Obj, _now: dt.datetime) -> Health:
    """``alwaysReady``."""
    return Health(CURRENT, "", "Resource is always ready")


def _deployment(obj: Obj, _now: dt.datetime) -> Health:
    """``deploymentConditions``: Failed once the progress deadline is exceeded."""
    spec, st = obj.get("spec") or {}, _status(obj)
    progressing = int(spec.get("progressDeadlineSeconds", MAX_INT32)) == MAX_INT32
    available = False
    for c in _conditions(obj):
        if c.get("type") == "Progressing":
            if c.get("reason") == "ProgressDeadlineExceeded":
                return Health(
                    FAILED, "ProgressDeadlineExceeded", _msg(c) or "Progress deadline exceeded"
                )
            if c.get("status") == "True" and c.get("reason") == "NewReplicaSetAvailable":
                progressing = True
        elif c.get("type") == "Available" and c.get("status") == "True":
            available = True
    want = int(spec.get("replicas", 1))
    have, updated = int(st.get("replicas", 0)), int(st.get("updatedReplicas", 0))
    ready, avail = int(st.get("readyReplicas", 0)), int(st.get("availableReplicas", 0))
    counts = _counts(
        (want > have, "LessReplicas", f"Replicas: {have}/{want}"),
        (want > updated, "LessUpdated", f"Updated: {updated}/{want}"),
        (have > want, "ExtraPods", f"Pending termination: {have - want}"),
        (updated > avail, "LessAvailable", f"Available: {avail}/{updated}"),
        (want > ready, "LessReady", f"Ready: {ready}/{want}"),
        (not progressing, "ReplicaSetNotAvailable", "ReplicaSet not Available"),
        (not available, "DeploymentNotAvailable", "Deployment not Available"),
    )
    return counts or Health(CURRENT, "", f"Deployment is available. Replicas: {have}")


def _statefulset(obj: Obj, _now: dt.datetime) -> Health:
    """``stsConditions``: the controller sets no conditions, so only counts and revisions."""
    spec, st = obj.get("spec") or {}, _status(obj)
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete":
        return Health(CURRENT, "", "StatefulSet is using the ondelete update strategy")
    want = int(spec.get("replicas", 1))
    have, ready = int(st.get("replicas", 0)), int(st.get("readyReplicas", 0))
    current, updated = int(st.get("currentReplicas", 0)), int(st.get("updatedReplicas", 0))
    counts = _counts(
        (want > have, "LessReplicas", f"Replicas: {have}/{want}"),
        (want > ready, "LessReady", f"Ready: {ready}/{want}"),
        (have > want, "ExtraPods", f"Pending termination: {have - want}"),
    )
    if counts:
        return counts
    partition = (strategy.get("rollingUpdate") or {}).get("partition")
    if partition is not None:
        if updated < want - int(partition):
            return Health(
                IN_PROGRESS, "PartitionRollout", f"updated: {updated}/{want - int(partition)}"
            )
        return Health(CURRENT, "", f"Partition rollout complete. updated: {updated}")
    if want > current:
        return Health(IN_PROGRESS, "LessCurrent", f"current: {current}/{want}")
    if st.get("currentRevision", "") != st.get("updateRevision", ""):
        return Health(
            IN_PROGRESS, "RevisionMismatch", "Waiting for updated revision to match current"
        )
    return Health(CURRENT, "", f"All replicas scheduled as expected. Replicas: {have}")


def _daemonset(obj: Obj, _now: dt.datetime) -> Health:
    """``daemonsetConditions``: also needs generation and observedGeneration set."""
    if (obj.get("metadata") or {}).get("generation") is None:
        return Health(IN_PROGRESS, "NoGeneration", "DaemonSet metadata.generation not found")
    st = _status(obj)
    if st.get("observedGeneration") is None:
        return Health(
            IN_PROGRESS, "NoObservedGeneration", "DaemonSet status.observedGeneration not found"
        )
    if st.get("desiredNumberScheduled") is None:
        return Health(IN_PROGRESS, "NoDesiredNumber", "Missing .status.desiredNumberScheduled")
    want = int(st["desiredNumberScheduled"])
    current, updated = (
        int(st.get("currentNumberScheduled", 0)),
        int(st.get("updatedNumberScheduled", 0)),
    )
    avail, ready = int(st.get("numberAvailable", 0)), int(st.get("numberReady", 0))
    counts = _counts(
        (want > current, "LessCurrent", f"Current: {current}/{want}"),
        (want > updated, "LessUpdated", f"Updated: {updated}/{want}"),
        (want > avail, "LessAvailable", f"Available: {avail}/{want}"),
        (want > ready, "LessReady", f"Ready: {ready}/{want}"),
    )
    return counts or Health(CURRENT, "", f"All replicas scheduled as expected. Replicas: {want}")


def _replicaset(obj: Obj, _now: dt.datetime) -> Health:
    """``replicasetConditions``."""
    for c in _conditions(obj):
        if c.get("type") == "ReplicaFailure" and c.get("status") == "True":
            return Health(IN_PROGRESS, "ReplicaFailure", _msg(c) or "Replica Failure condition")
    spec, st = obj.get("spec") or {}, _status(obj)
    want, have = int(spec.get("replicas", 1)), int(st.get("replicas", 0))
    labelled = int(st.get("fullyLabeledReplicas", 0))
    avail, ready = int(st.get("availableReplicas", 0)), int(st.get("readyReplicas", 0))
    counts = _counts(
        (want > labelled, "LessLabelled", f"Labelled: {labelled}/{want}"),
        (want > avail, "LessAvailable", f"Available: {avail}/{want}"),
        (want > ready, "LessReady", f"Ready: {ready}/{want}"),
        (have > want, "ExtraPods", f"Pending termination: {have - want}"),
    )
    return counts or Health(CURRENT, "", f"ReplicaSet is available. Replicas: {have}")


def _pod(obj: Obj, now: dt.datetime) -> Health:
    """``podConditions``: Failed when crash-looping or unschedulable past the window."""
    phase = _status(obj).get("phase", "")
    if phase == "Succeeded":
        return Health(CURRENT, "", "Pod has completed successfully")
    if phase == "Failed":  # kstatus: a finished Pod is Current, whatever its exit
        return Health(CURRENT, "", "Pod has completed, but not successfully")
    waiting = _waiting(obj)
    if phase == "Running":
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in _conditions(obj)):
            return Health(CURRENT, "", "Pod is Ready")
        looping = sorted(n for n, reason in waiting if reason == "CrashLoopBackOff")
        if looping:
            return Health(
                FAILED,
                "ContainerCrashLooping",
                f"Containers in CrashLoop state: {','.join(looping)}",
            )
        return Health(
            IN_PROGRESS, "PodRunningNotReady", _with(waiting, "Pod is running but is not Ready")
        )
    if phase == "Pending":
        for c in _conditions(obj):
            if (c.get("type"), c.get("status"), c.get("reason")) == (
                "PodScheduled",
                "False",
                "Unschedulable",
            ):
                created = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
                if created is not None and now - created < SCHEDULE_WINDOW:
                    return Health(IN_PROGRESS, "PodNotScheduled", "Pod has not been scheduled")
                return Health(FAILED, "PodUnschedulable", _msg(c) or "Pod could not be scheduled")
        return Health(IN_PROGRESS, "PodPending", _with(waiting, "Pod is in the Pending phase"))
    if not phase:
        return Health(IN_PROGRESS, "PodNotObserved", "Pod phase not available")
    return Health(HealthStatus.UNKNOWN, "UnknownPhase", f"unknown phase {phase}")


def _job(obj: Obj, _now: dt.datetime) -> Health:
    """``jobConditions``: Current once started (running or complete), Failed if it failed."""
    spec, st = obj.get("spec") or {}, _status(obj)
    parallelism = int(spec.get("parallelism", 1))
    completions = int(spec.get("completions", parallelism))
    succeeded, failed = int(st.get("succeeded", 0)), int(st.get("failed", 0))
    for c in _conditions(obj):
        if c.get("status") != "True":
            continue
        if c.get("type") == "Complete":
            return Health(CURRENT, "", f"Job Completed. succeeded: {succeeded}/{completions}")
        if c.get("type") == "Failed":
            return Health(FAILED, "JobFailed", f"Job Failed. failed: {failed}/{completions}")
        if c.get("type") == "Suspended":
            return Health(CURRENT, "", "Job is suspended")
    if not st.get("startTime"):
        return Health(IN_PROGRESS, "JobNotStarted", "Job not started")
    active = int(st.get("active", 0))
    return Health(
        CURRENT, "", f"Job in progress. success:{succeeded}, active: {active}, failed: {failed}"
    )


def _pvc(obj: Obj, _now: dt.datetime) -> Health:
    """``pvcConditions``."""
    phase = _status(obj).get("phase", "unknown")
    if phase != "Bound":
        return Health(IN_PROGRESS, "NotBound", f"PVC is not Bound. phase: {phase}")
    return Health(CURRENT, "", "PVC is Bound")


def _service(obj: Obj, _now: dt.datetime) -> Health:
    """``serviceConditions``: a LoadBalancer needs its cluster IP."""
    spec = obj.get("spec") or {}
    if spec.get("type", "ClusterIP") == "LoadBalancer" and not spec.get("clusterIP"):
        return Health(IN_PROGRESS, "NoIPAssigned", "ClusterIP not set. Service type: LoadBalancer")
    return Health(CURRENT, "", "Service is ready")


def _pdb(_obj: Obj, _now: dt.datetime) -> Health:
    """``pdbConditions``: the generic observedGeneration check already ran."""
    return Health(CURRENT, "", "AllowedDisruptions has been computed.")


def _crd(obj: Obj, _now: dt.datetime) -> Health:
    """``crdConditions``."""
    for c in _conditions(obj):
        if c.get("type") == "NamesAccepted" and c.get("status") == "False":
            return Health(FAILED, str(c.get("reason") or "NamesNotAccepted"), _msg(c))
        if c.get("type") == "Established":
            if c.get("status") == "False" and c.get("reason") != "Installing":
                return Health(FAILED, str(c.get("reason") or "NotEstablished"), _msg(c))
            if c.get("status") == "True":
                return Health(CURRENT, "", "CRD is established")
    return Health(IN_PROGRESS, "Installing", "Install in progress")


_RULES: dict[str, Callable[[Obj, dt.datetime], Health]] = {
    "Service": _service,
    "Pod": _pod,
    "Secret": _always,
    "ConfigMap": _always,
    "PersistentVolumeClaim": _pvc,
    "apps/StatefulSet": _statefulset,
    "apps/DaemonSet": _daemonset,
    "apps/Deployment": _deployment,
    "apps/ReplicaSet": _replicaset,
    "policy/PodDisruptionBudget": _pdb,
    "batch/CronJob": _always,
    "batch/Job": _job,
    "apiextensions.k8s.io/CustomResourceDefinition": _crd,
}


# -- helpers ------------------------------------------------------------------------------


def _group_kind(obj: Obj) -> str:
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return f"{group}/{kind}" if group else kind


def _status(obj: Obj) -> Mapping[str, Any]:
    st = obj.get("status")
    return st if isinstance(st, Mapping) else {}


def _conditions(obj: Obj) -> list[Mapping[str, Any]]:
    return [c for c in _status(obj).get("conditions") or () if isinstance(c, Mapping)]


def _msg(c: Mapping[str, Any]) -> str:
    return str(c.get("message") or "")


def _counts(*checks: tuple[bool, str, str]) -> Health | None:
    """The first failing check of a kstatus count ladder, as InProgress."""
    for failing, reason, message in checks:
        if failing:
            return Health(IN_PROGRESS, reason, message)
    return None


def _waiting(obj: Obj) -> list[tuple[str, str]]:
    """(container, waiting reason) of every waiting container, init containers first."""
    st = _status(obj)
    out = []
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in st.get(key) or ():
            reason = ((cs.get("state") or {}).get("waiting") or {}).get("reason")
            if reason:
                out.append((str(cs.get("name", "")), str(reason)))
    return out


def _with(waiting: list[tuple[str, str]], message: str) -> str:
    if not waiting:
        return message
    return f"{message}: " + ", ".join(f"{name} {reason}" for name, reason in waiting)
