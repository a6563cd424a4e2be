"""Report records from hand-made diffs and sync runs (builders shared by the report tests)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pandas as pd

from gitops_nb.masking import MASK_DESIRED, MASK_LIVE
from gitops_nb.model import (
    Action,
    DiffStatus,
    FieldChange,
    Mode,
    ObjectRef,
    ObjectResult,
    Outcome,
    ResourceDiff,
    Revision,
    SyncRun,
)
from gitops_nb.report import Report, from_diff, from_history
from gitops_nb.report.model import HISTORY, LIVE, synth_diff

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
REV = Revision("0123456789abcdef0123", "2026-11-28T08:00:00Z", "Dana Dev", "Scale api\n\nbody")

DEP = ObjectRef("apps/v1", "Deployment", "web", "api")
CM = ObjectRef("v1", "ConfigMap", "web", "settings")
SECRET = ObjectRef("v1", "Secret", "web", "db")
SVC = ObjectRef("v1", "Service", "web", "old")
ING = ObjectRef("networking.k8s.io/v1", "Ingress", "web", "www")
BROKEN = ObjectRef("v1", "ConfigMap", "web", "broken")

RAW_SECRET = "hunter2-correct-horse"
RAW_B64 = base64.b64encode(RAW_SECRET.encode()).decode()
OTHER_B64 = base64.b64encode(b"desired-pass-word").decode()
XSS = "<script>alert(1)</script>"


def secret_diff() -> ResourceDiff:
    """A Secret diff as a buggy upstream might send it: raw values in changes and text."""
    text = (
        f"--- live/{SECRET}\n+++ git/{SECRET}\n@@ -1,4 +1,4 @@\n apiVersion: v1\n data:\n"
        f"-  password: {RAW_B64}\n+  password: {OTHER_B64}\n kind: Secret\n"
    )
    change = FieldChange(
        "data.password", RAW_B64, OTHER_B64, "kubectl-edit", "Update", "2026-11-28T09:00:00Z"
    )
    return ResourceDiff(SECRET, DiffStatus.DRIFTED, (change,), text)


def live_diffs() -> list[ResourceDiff]:
    dep_text = (
        f"--- live/{DEP}\n+++ git/{DEP}\n@@ -5,3 +5,3 @@\n spec:\n-  replicas: 5\n+  replicas: 3\n"
    )
    return [
        ResourceDiff(ObjectRef("v1", "ConfigMap", "web", "ok"), DiffStatus.IN_SYNC),
        ResourceDiff(
            DEP,
            DiffStatus.DRIFTED,
            (
                FieldChange(
                    "spec.replicas", 5, 3, "kubectl-edit", "Update", "2026-11-28T09:30:00Z"
                ),
                FieldChange(
                    "spec.template.spec.containers[name=web].image",
                    "nginx:1.27",
                    "nginx:1.26",
                    "kubectl-set",
                    "Update",
                    "2026-11-28T09:45:00Z",
                ),
            ),
            dep_text,
        ),
        ResourceDiff(
            CM,
            DiffStatus.DRIFTED,
            (
                FieldChange(
                    "data.note", XSS, "a | b `c`", "helm", "Update", "2026-11-28T08:00:00Z"
                ),
                FieldChange("data.added", {"k": [1, 2]}, None, None, None, None),
            ),
            f"--- live/{CM}\n+++ git/{CM}\n@@ -1 +1 @@\n-  note: {XSS}\n+  note: a | b\n",
        ),
        secret_diff(),
        ResourceDiff(
            SVC, DiffStatus.EXTRANEOUS, (), f"--- live/{SVC}\n+++ git/{SVC}\n-kind: Service\n"
        ),
        ResourceDiff(
            ING, DiffStatus.MISSING, (), f"--- live/{ING}\n+++ git/{ING}\n+kind: Ingress\n"
        ),
        ResourceDiff(BROKEN, DiffStatus.ERROR, error="ConfigMap/web/broken: 403 forbidden"),
        ResourceDiff(ObjectRef("v1", "ConfigMap", "web", "ok2"), DiffStatus.IN_SYNC),
    ]


def live_report() -> Report:
    return from_diff("web", REV, live_diffs(), now=NOW)


# --- history ------------------------------------------------------------------------------


def at(hour: float) -> str:
    return (T0 + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")


def drifted(ref: ObjectRef, path: str, live: object, desired: object, manager: str) -> ObjectResult:
    change = FieldChange(path, live, desired, manager, "Update", at(-0.5))
    return ObjectResult(ref, Action.UNCHANGED, DiffStatus.DRIFTED, (change,))


def in_sync(ref: ObjectRef) -> ObjectResult:
    return ObjectResult(ref, Action.UNCHANGED, DiffStatus.IN_SYNC)


def run(hour: float, *objects: ObjectResult, outcome: Outcome = Outcome.SUCCEEDED) -> SyncRun:
    return SyncRun(
        run_id=f"r{hour:g}",
        app="web",
        started=at(hour),
        finished=at(hour + 0.01),
        duration_s=30.0 + hour,
        trigger="schedule",
        mode=Mode.DETECT,
        revision=Revision(f"c{int(hour)}" + "0" * 10, at(-1), "dev", f"commit {hour:g}"),
        outcome=outcome,
        counts={
            "in_sync": sum(o.status is DiffStatus.IN_SYNC for o in objects),
            "drifted": sum(o.status is DiffStatus.DRIFTED for o in objects),
        },
        objects=objects,
    )


def history_runs() -> list[SyncRun]:
    """10:00 clean; 11:00 replicas drift (kubectl); 12:00 + colour drift (helm); 13:00 failed;
    14:00 replicas back, colour still drifted, Secret token drifted."""
    replicas = drifted(DEP, "spec.replicas", 5, 3, "kubectl-edit")
    colour = drifted(CM, "data.color", "red", "blue", "helm")
    token = drifted(SECRET, "data.token", RAW_B64, OTHER_B64, "kubectl-edit")
    return [
        run(0, in_sync(DEP), in_sync(CM), in_sync(SECRET)),
        run(1, replicas, in_sync(CM), in_sync(SECRET)),
        run(2, replicas, colour, in_sync(SECRET)),
        run(3, outcome=Outcome.FAILED),
        run(4, in_sync(DEP), colour, token),
    ]


def history_report() -> Report:
    return from_history(history_runs(), now=NOW)


# --- tests --------------------------------------------------------------------------------


def test_from_diff_counts_and_order() -> None:
    r = live_report()
    assert r.source == LIVE and r.app == "web" and r.revision == REV
    assert r.generated_at == "2026-11-28T15:00:00Z"
    assert r.counts == {
        "in_sync": 2,
        "drifted": 3,
        "missing": 1,
        "extraneous": 1,
        "error": 1,
        "objects": 8,
    }
    # drift first (most recent change first, no time last), the error last
    assert [str(o.ref) for o in r.objects] == [
        "Deployment/web/api",
        "Secret/web/db",
        "ConfigMap/web/settings",
        "Ingress/web/www",
        "Service/web/old",
        "ConfigMap/web/broken",
    ]
    assert [o.open for o in r.objects] == [True] * 5 + [False]
    assert r.objects[0].managers == ("kubectl-edit", "kubectl-set")
    assert r.objects[-1].error == "ConfigMap/web/broken: 403 forbidden"


def test_from_diff_masks_secret_changes_and_text() -> None:
    obj = next(o for o in live_report().objects if o.ref == SECRET)
    assert obj.changes[0].live == MASK_LIVE and obj.changes[0].desired == MASK_DESIRED
    assert RAW_B64 not in obj.diff_text and OTHER_B64 not in obj.diff_text
    assert "password: ***" in obj.diff_text


def test_from_history_open_episodes_first() -> None:
    r = history_report()
    assert r.source == HISTORY and r.app == "web"
    assert [(str(o.ref), o.open) for o in r.objects] == [
        ("ConfigMap/web/settings", True),
        ("Secret/web/db", True),
        ("Deployment/web/api", False),
    ]
    dep = r.objects[2]
    assert dep.first_seen == at(1) and dep.resolved_at == at(4)
    assert dep.resolution == "changed in git"  # each run renders another commit
    assert dep.changes[0].path == "spec.replicas" and dep.changes[0].live == 5
    assert "-spec.replicas: 5\n+spec.replicas: 3" in dep.diff_text
    cm = r.objects[0]
    assert cm.first_seen == at(2) and cm.resolved_at is None and cm.managers == ("helm",)
    assert r.revision is not None and r.revision.commit.startswith("c4")
    assert r.period == (at(0), at(4.01))


def test_from_history_counts_and_metrics() -> None:
    r = history_report()
    assert r.counts["runs"] == 5 and r.counts["runs_failed"] == 1
    assert r.counts["episodes"] == 3
    assert r.counts["episodes_open"] == 2 and r.counts["episodes_resolved"] == 1
    # state at the last run: DEP in sync, CM and Secret drifted
    assert r.counts["in_sync"] == 1 and r.counts["drifted"] == 2
    assert r.metrics["success_rate"] == 0.8
    assert r.metrics["mean_time_to_restore_s"] == 3 * 3600
    assert r.intervals is not None and len(r.intervals) == 3


def test_from_history_masks_secret_values_everywhere() -> None:
    r = history_report()
    secret = next(o for o in r.objects if o.ref == SECRET)
    assert RAW_B64 not in repr(secret) and OTHER_B64 not in repr(secret)
    assert r.intervals is not None
    row = r.intervals[r.intervals["kind"] == "Secret"].iloc[0]
    assert row["desired_at_start"] == "***" and list(row["live_values"]) == ["***"]


def test_from_history_end_bound_sees_episodes_open_at_end() -> None:
    end = T0 + timedelta(hours=2, minutes=30)
    r = from_history(history_runs(), end=end, now=NOW)
    assert [(str(o.ref), o.open) for o in r.objects] == [
        ("ConfigMap/web/settings", True),
        ("Deployment/web/api", True),
    ]
    assert r.counts["runs"] == 3
    assert r.period == (at(0), at(2.5))


def test_from_history_start_bound_drops_episodes_resolved_before() -> None:
    runs = [*history_runs(), run(5, in_sync(DEP), in_sync(CM), in_sync(SECRET))]
    r = from_history(runs, start=T0 + timedelta(hours=4, minutes=30), now=NOW)
    # DEP resolved at 14:00, before the period: gone; CM and Secret resolved at 15:00
    assert [(str(o.ref), o.open) for o in r.objects] == [
        ("ConfigMap/web/settings", False),
        ("Secret/web/db", False),
    ]
    assert r.counts["runs"] == 1 and r.counts["in_sync"] == 3


def test_from_history_filters_app_and_handles_empty() -> None:
    other = [*history_runs()]
    r = from_history(other, app="shop", now=NOW)
    assert r.app == "shop" and r.objects == () and r.period is None
    assert r.counts["runs"] == 0 and r.intervals is not None and r.intervals.empty


def test_synth_diff_for_whole_object_drift() -> None:
    text = synth_diff(ING, DiffStatus.MISSING, [None])
    assert text.splitlines() == [
        f"--- live/{ING}",
        f"+++ git/{ING}",
        "@@ whole object @@",
        "-(absent in cluster)",
        "+(object in git)",
    ]


def test_missing_object_in_history_has_no_field_changes() -> None:
    missing = ObjectResult(ING, Action.CREATED, DiffStatus.MISSING)
    r = from_history([run(0, missing), run(1, in_sync(ING))], now=NOW)
    (obj,) = r.objects
    assert obj.status is DiffStatus.MISSING and obj.changes == () and not obj.open
    assert "-(absent in cluster)" in obj.diff_text
    assert isinstance(r.intervals, pd.DataFrame)
