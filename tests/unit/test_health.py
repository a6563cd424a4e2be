"""kstatus rules on objects shaped as the API server returns them (status as controllers
and kwok write it)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from gitops_nb.engine.health import assess, run_health
from gitops_nb.model import Health, HealthStatus, ObjectResult, RunHealth, SyncRun
from tests.factories import sync_run

C, P, F = HealthStatus.CURRENT, HealthStatus.IN_PROGRESS, HealthStatus.FAILED
NOW = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.UTC)


def cond(type_: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "prod", "generation": 2},
    "spec": {"replicas": 2, "progressDeadlineSeconds": 600},
    "status": {
        "observedGeneration": 2,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "conditions": [
            cond("Available", "True", "MinimumReplicasAvailable"),
            cond("Progressing", "True", "NewReplicaSetAvailable"),
        ],
    },
}


def with_(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy with dotted paths set: ``with_(d, **{"status.replicas": 1})``."""
    out = copy.deepcopy(obj)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return out


def status_of(obj: dict[str, Any] | None) -> tuple[HealthStatus, str]:
    h = assess(obj, NOW)
    return h.status, h.reason


def test_deployment_available_is_current() -> None:
    h = assess(DEPLOYMENT, NOW)
    assert (h.status, h.message) == (C, "Deployment is available. Replicas: 2")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"metadata.generation": 3}, (P, "LatestGenerationNotObserved")),
        ({"status.replicas": 1}, (P, "LessReplicas")),
        ({"status.updatedReplicas": 1}, (P, "LessUpdated")),
        ({"status.replicas": 3}, (P, "ExtraPods")),
        ({"status.availableReplicas": 1}, (P, "LessAvailable")),
        ({"status.readyReplicas": 1}, (P, "LessReady")),
        ({"status.conditions": [cond("Available", "True")]}, (P, "ReplicaSetNotAvailable")),
        (
            {"status.conditions": [cond("Progressing", "True", "NewReplicaSetAvailable")]},
            (P, "DeploymentNotAvailable"),
        ),
        (
            {"status.conditions": [cond("Progressing", "False", "ProgressDeadlineExceeded")]},
            (F, "ProgressDeadlineExceeded"),
        ),
        (
            {"metadata.deletionTimestamp": "2026-11-29T00:00:00Z"},
            (HealthStatus.TERMINATING, "Terminating"),
        ),
        ({"status": None}, (P, "LessReplicas")),  # just created: the controller has not run
    ],
)
def test_deployment_rules(changes: dict[str, Any], expected: tuple[HealthStatus, str]) -> None:
    assert status_of(with_(DEPLOYMENT, **changes)) == expected


def test_stalled_and_reconciling_conditions_win_for_any_kind() -> None:
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"generation": 1}}
    assert status_of(cr) == (C, "")
    stalled = with_(cr, **{"status.conditions": [cond("Stalled", "True", "BadSpec", "no")]})
    assert assess(stalled) == Health(F, "BadSpec", "no")
    busy = with_(cr, **{"status.conditions": [cond("Reconciling", "True", "Working")]})
    assert status_of(busy) == (P, "Working")


def test_any_object_with_a_ready_condition() -> None:
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}}
    ready = with_(cr, **{"status.conditions": [cond("Ready", "True", "Done")]})
    assert status_of(ready) == (C, "Done")
    waiting = with_(cr, **{"status.conditions": [cond("Ready", "False", "Waiting", "db")]})
    assert assess(waiting) == Health(P, "Waiting", "db")


def test_a_ready_condition_follows_kstatus_check_ready_condition() -> None:
    # cli-utils pkg/kstatus/status/status.go checkReadyCondition: False and Unknown are
    # InProgress with the condition's reason; any other value decides nothing (→ Current)
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}}
    unknown = with_(cr, **{"status.conditions": [cond("Ready", "Unknown", "Pending")]})
    assert status_of(unknown) == (P, "Pending")
    odd = with_(cr, **{"status.conditions": [cond("Ready", "Maybe", "Odd")]})
    assert status_of(odd) == (C, "")


STS: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"generation": 1},
    "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
    "status": {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 3,
        "updatedReplicas": 3,
        "currentRevision": "db-1",
        "updateRevision": "db-1",
    },
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, (C, "")),
        ({"spec.replicas": 5}, (P, "LessReplicas")),
        ({"status.readyReplicas": 2}, (P, "LessReady")),
        ({"status.replicas": 4}, (P, "ExtraPods")),
        ({"status.currentReplicas": 2}, (P, "LessCurrent")),
        ({"status.updateRevision": "db-2"}, (P, "RevisionMismatch")),
        ({"spec.updateStrategy": {"type": "OnDelete"}, "status.readyReplicas": 0}, (C, "")),
        (
            {
                "spec.updateStrategy": {"rollingUpdate": {"partition": 1}},
                "status.updatedReplicas": 1,
            },
            (P, "PartitionRollout"),
        ),
    ],
)
def test_statefulset_rules(changes: dict[str, Any], expected: tuple[HealthStatus, str]) -> None:
    assert status_of(with_(STS, **changes)) == expected


def test_daemonset_and_replicaset() -> None:
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"generation": 1},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 2,
            "currentNumberScheduled": 2,
            "updatedNumberScheduled": 2,
            "numberAvailable": 2,
            "numberReady": 2,
        },
    }
    assert status_of(ds) == (C, "")
    assert status_of(with_(ds, **{"status.numberReady": 1})) == (P, "LessReady")
    assert status_of(with_(ds, **{"status.observedGeneration": None})) == (
        P,
        "NoObservedGeneration",
    )
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "spec": {"replicas": 2},
        "status": {
            "replicas": 2,
            "fullyLabeledReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
        },
    }
    assert status_of(rs) == (C, "")
    assert status_of(with_(rs, **{"status.availableReplicas": 1})) == (P, "LessAvailable")
    failing = with_(rs, **{"status.conditions": [cond("ReplicaFailure", "True", "FailedCreate")]})
    assert status_of(failing) == (P, "ReplicaFailure")


def pod(phase: str, *conditions: dict[str, str], waiting: str = "", created: str = "") -> Any:
    container: dict[str, Any] = {"name": "web", "ready": False, "restartCount": 0}
    container["state"] = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "creationTimestamp": created or "2026-11-29T00:00:00Z"},
        "status": {
            "phase": phase,
            "conditions": list(conditions),
            "containerStatuses": [container],
        },
    }


def test_pod_rules() -> None:
    assert status_of(pod("Running", cond("Ready", "True"))) == (C, "")
    assert status_of(pod("Succeeded")) == (C, "")
    assert status_of(pod("Failed")) == (C, "")  # kstatus: a finished Pod is Current
    crash = assess(pod("Running", cond("Ready", "False"), waiting="CrashLoopBackOff"), NOW)
    assert crash == Health(F, "ContainerCrashLooping", "Containers in CrashLoop state: web")
    assert status_of(pod("Running", cond("Ready", "False"))) == (P, "PodRunningNotReady")
    pulling = assess(pod("Pending", waiting="ImagePullBackOff"), NOW)
    assert (pulling.status, pulling.reason) == (P, "PodPending")
    assert pulling.message == "Pod is in the Pending phase: web ImagePullBackOff"
    unsched = cond("PodScheduled", "False", "Unschedulable", "0/2 nodes are available")
    assert assess(pod("Pending", unsched), NOW) == Health(
        F, "PodUnschedulable", "0/2 nodes are available"
    )
    just_created = pod("Pending", unsched, created="2026-11-29T00:59:55Z")
    assert status_of(just_created) == (P, "PodNotScheduled")  # 5s < the 15s window
    assert status_of(with_(pod("Pending"), **{"status.phase": None})) == (P, "PodNotObserved")


def test_job_cronjob_pvc_service_pdb_crd() -> None:
    job: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "Job", "spec": {}, "status": {}}
    assert status_of(job) == (P, "JobNotStarted")
    assert status_of(with_(job, **{"status.startTime": "2026-11-29T00:00:00Z"})) == (C, "")
    done = with_(job, **{"status.conditions": [cond("Complete", "True")], "status.succeeded": 1})
    assert assess(done).message == "Job Completed. succeeded: 1/1"
    failed = with_(job, **{"status.conditions": [cond("Failed", "True")], "status.failed": 6})
    assert status_of(failed) == (F, "JobFailed")
    assert status_of({"apiVersion": "batch/v1", "kind": "CronJob"}) == (C, "")

    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": "Pending"}}
    assert status_of(pvc) == (P, "NotBound")
    assert status_of(with_(pvc, **{"status.phase": "Bound"})) == (C, "")

    lb = {"apiVersion": "v1", "kind": "Service", "spec": {"type": "LoadBalancer"}}
    assert status_of(lb) == (P, "NoIPAssigned")
    assert status_of(with_(lb, **{"spec.clusterIP": "127.200.0.9"})) == (C, "")

    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"generation": 2},
        "status": {"observedGeneration": 1},
    }
    assert status_of(pdb) == (P, "LatestGenerationNotObserved")
    assert status_of(with_(pdb, **{"status.observedGeneration": 2})) == (C, "")

    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"}
    assert status_of(crd) == (P, "Installing")
    est = with_(crd, **{"status.conditions": [cond("Established", "True")]})
    assert status_of(est) == (C, "")
    clash = with_(crd, **{"status.conditions": [cond("NamesAccepted", "False", "NameConflict")]})
    assert status_of(clash) == (F, "NameConflict")


def test_not_found_and_malformed() -> None:
    assert status_of(None) == (HealthStatus.NOT_FOUND, "NotFound")
    bad = with_(DEPLOYMENT, **{"status.replicas": "many"})
    assert status_of(bad) == (HealthStatus.UNKNOWN, "StatusUnreadable")


def test_run_health() -> None:
    cur, prog, fail = Health(C), Health(P), Health(F)
    assert run_health([cur, cur]) is RunHealth.HEALTHY
    assert run_health([]) is RunHealth.HEALTHY
    assert run_health([cur, prog]) is RunHealth.PROGRESSING
    assert run_health([cur, prog], timed_out=True) is RunHealth.DEGRADED
    assert run_health([cur, fail]) is RunHealth.DEGRADED
    assert run_health([Health(HealthStatus.NOT_FOUND)]) is RunHealth.DEGRADED


def test_health_round_trips_and_old_records_still_load() -> None:
    from gitops_nb.model import Action, DiffStatus, Mode, ObjectRef, Outcome

    ref = ObjectRef("apps/v1", "Deployment", "prod", "web")
    obj = ObjectResult(ref, Action.CONFIGURED, DiffStatus.DRIFTED, health=Health(F, "X", "y"))
    run = sync_run(
        "r1",
        "2026-11-29T00:00:00Z",
        obj,
        app="shop",
        finished="2026-11-29T00:00:01Z",
        duration_s=1.0,
        trigger="manual",
        mode=Mode.CORRECT,
        revision=None,
        outcome=Outcome.SUCCEEDED,
        health=RunHealth.DEGRADED,
    )
    d = run.to_dict()
    assert d["health"] == "Degraded" and d["objects"][0]["health"]["reason"] == "X"
    assert SyncRun.from_dict(d) == run
    old = {k: v for k, v in d.items() if k != "health"}
    old["objects"] = [{k: v for k, v in o.items() if k != "health"} for o in d["objects"]]
    loaded = SyncRun.from_dict(old)
    assert loaded.health is None and loaded.objects[0].health is None
    assert "health" not in ObjectResult(ref, Action.UNCHANGED, DiffStatus.IN_SYNC).to_dict()


def test_with_pods_says_why_a_workload_is_not_current() -> None:
    from gitops_nb.engine.health import with_pods

    dep = assess(with_(DEPLOYMENT, **{"status.availableReplicas": 1}), NOW)
    ready = pod("Running", cond("Ready", "True"))
    crash = with_(pod("Running", cond("Ready", "False"), waiting="CrashLoopBackOff"))
    crash["metadata"]["name"] = "web-2"
    pulling = pod("Pending", waiting="ImagePullBackOff")
    h = with_pods(dep, [ready, pulling, crash], NOW)
    assert (h.status, h.reason) == (dep.status, dep.reason)  # the verdict stays kstatus's
    assert h.message == (
        "Available: 1/2; Pod web-2: ContainerCrashLooping: Containers in CrashLoop state: web"
    )
    assert with_pods(dep, [ready], NOW) == dep
    assert with_pods(assess(DEPLOYMENT, NOW), [crash], NOW) == assess(DEPLOYMENT, NOW)
