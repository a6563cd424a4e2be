"""Hand-made sync-run records and report inputs shared by the tests (pure data, no I/O).

One builder per record type, with keyword defaults a test overrides where it matters:
:func:`change` → :class:`FieldChange`, :func:`drifted` / :func:`in_sync` →
:class:`ObjectResult`, :func:`revision` → :class:`Revision`, :func:`sync_run` →
:class:`SyncRun`, and :func:`run` for a run at ``hour`` hours after :data:`T0`.

The report scenario (``live_diffs``, ``history_runs`` and their reports) lives here too:
the report, export, plot and browser tests all read the same story.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

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
    RunHealth,
    SyncRun,
)
from gitops_nb.records.coalesce import coalesce
from gitops_nb.report import Report, from_diff, from_history

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)

DEP = ObjectRef("apps/v1", "Deployment", "web", "api")
CM = ObjectRef("v1", "ConfigMap", "web", "settings")
SECRET = ObjectRef("v1", "Secret", "web", "db")
SVC = ObjectRef("v1", "Service", "web", "old")
ING = ObjectRef("networking.k8s.io/v1", "Ingress", "web", "www")
BROKEN = ObjectRef("v1", "ConfigMap", "web", "broken")
REPLICAS = "spec.replicas"

_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def at(hour: float) -> str:
    """``T0 + hour`` as an RFC 3339 UTC string, the form records carry."""
    return (T0 + timedelta(hours=hour)).strftime(_STAMP)


# --- records ------------------------------------------------------------------------------


def revision(
    commit: str = "c1", time: str | None = None, author: str = "dev", message: str = "msg"
) -> Revision:
    """A rendered commit; ``time`` defaults to an hour before :data:`T0`."""
    return Revision(commit, at(-1) if time is None else time, author, message)


def change(
    path: str = REPLICAS,
    live: Any = 5,
    desired: Any = 3,
    manager: str | None = "kubectl-edit",
    operation: str | None = "Update",
    time: str | None = "2026-11-28T10:00:00Z",
) -> FieldChange:
    """One drifted field: by default someone scaled to 5 what Git keeps at 3, at T0."""
    return FieldChange(path, live, desired, manager, operation, time)


def drifted(
    *changes: FieldChange, ref: ObjectRef = DEP, action: Action = Action.UNCHANGED
) -> ObjectResult:
    return ObjectResult(ref, action, DiffStatus.DRIFTED, changes)


def in_sync(ref: ObjectRef = DEP) -> ObjectResult:
    return ObjectResult(ref, Action.UNCHANGED, DiffStatus.IN_SYNC)


_DEFAULT_REVISION = revision()


def sync_run(
    run_id: str,
    started: str,
    *objects: ObjectResult,
    app: str = "web",
    finished: str | None = None,
    duration_s: float = 30.0,
    trigger: str = "schedule",
    mode: Mode = Mode.DETECT,
    revision: Revision | None = _DEFAULT_REVISION,
    outcome: Outcome = Outcome.SUCCEEDED,
    counts: Mapping[str, int] | None = None,
    error: str | None = None,
    health: RunHealth | None = None,
) -> SyncRun:
    """One sync-run record. ``finished`` defaults to ``started + duration_s`` (whole
    seconds); ``revision=None`` is a run that failed before it rendered; ``health=None``
    a run whose health was not assessed."""
    if finished is None:
        start = datetime.fromisoformat(started)
        finished = (start + timedelta(seconds=duration_s)).strftime(_STAMP)
    return SyncRun(
        run_id=run_id,
        app=app,
        started=started,
        finished=finished,
        duration_s=duration_s,
        trigger=trigger,
        mode=mode,
        revision=revision,
        outcome=outcome,
        counts=dict(counts or {}),
        objects=objects,
        error=error,
        health=health,
    )


def run(
    hour: float,
    *objects: ObjectResult,
    outcome: Outcome = Outcome.SUCCEEDED,
    mode: Mode = Mode.DETECT,
    commit: str = "c1",
    app: str = "web",
) -> SyncRun:
    """A run started ``hour`` hours after :data:`T0` that took 36 s, rendering ``commit``."""
    return sync_run(
        f"{app}-{hour}",
        at(hour),
        *objects,
        app=app,
        finished=at(hour + 0.01),
        duration_s=36.0,
        mode=mode,
        revision=revision(commit),
        outcome=outcome,
    )


def one(df: pd.DataFrame) -> pd.Series:
    """The only row of ``df`` (e.g. the one drift episode); fails if there is not exactly one."""
    assert len(df) == 1, df
    return df.iloc[0]


# --- the report scenario ------------------------------------------------------------------

REV = Revision("0123456789abcdef0123", "2026-11-28T08:00:00Z", "Dana Dev", "Scale api\n\nbody")
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
    pw = change("data.password", RAW_B64, OTHER_B64, time="2026-11-28T09:00:00Z")
    return ResourceDiff(SECRET, DiffStatus.DRIFTED, (pw,), text)


def live_diffs() -> list[ResourceDiff]:
    dep_text = (
        f"--- live/{DEP}\n+++ git/{DEP}\n@@ -5,3 +5,3 @@\n spec:\n-  replicas: 5\n+  replicas: 3\n"
    )
    image = "spec.template.spec.containers[name=web].image"
    return [
        ResourceDiff(ObjectRef("v1", "ConfigMap", "web", "ok"), DiffStatus.IN_SYNC),
        ResourceDiff(
            DEP,
            DiffStatus.DRIFTED,
            (
                change(time="2026-11-28T09:30:00Z"),
                change(  # Git moved: our own manager owns the live value
                    image, "nginx:1.27", "nginx:1.28", "gitops-nb", "Apply", "2026-11-28T09:45:00Z"
                ),
            ),
            dep_text,
        ),
        ResourceDiff(
            CM,
            DiffStatus.DRIFTED,
            (
                change("data.note", XSS, "a | b `c`", "helm", time="2026-11-28T08:00:00Z"),
                change("data.added", {"k": [1, 2]}, None, None, None, None),
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
    """The diffs classified as the engine does (:func:`gitops_nb.engine.cause.classify`)."""
    from gitops_nb.engine.cause import classify
    from gitops_nb.model import FIELD_MANAGER

    diffs = [classify(d, FIELD_MANAGER) for d in live_diffs()]
    return from_diff("web", REV, diffs, now=NOW)


def report_drift(ref: ObjectRef, path: str, live: Any, desired: Any, manager: str) -> ObjectResult:
    """One field of ``ref`` drifted half an hour before :data:`T0`."""
    return drifted(change(path, live, desired, manager, time=at(-0.5)), ref=ref)


def report_run(
    hour: float, *objects: ObjectResult, outcome: Outcome = Outcome.SUCCEEDED
) -> SyncRun:
    """A run of the report scenario: each hour renders another commit, the run takes
    ``30 + hour`` seconds and counts its in-sync and drifted objects."""
    return sync_run(
        f"r{hour:g}",
        at(hour),
        *objects,
        finished=at(hour + 0.01),
        duration_s=30.0 + hour,
        revision=revision(f"c{int(hour)}" + "0" * 10, message=f"commit {hour:g}"),
        outcome=outcome,
        counts={
            "in_sync": sum(o.status is DiffStatus.IN_SYNC for o in objects),
            "drifted": sum(o.status is DiffStatus.DRIFTED for o in objects),
        },
    )


def history_runs() -> list[SyncRun]:
    """10:00 clean; 11:00 replicas drift (kubectl); 12:00 + colour drift (helm); 13:00 failed;
    14:00 replicas back, colour still drifted, Secret token drifted."""
    replicas = report_drift(DEP, REPLICAS, 5, 3, "kubectl-edit")
    colour = report_drift(CM, "data.color", "red", "blue", "helm")
    token = report_drift(SECRET, "data.token", RAW_B64, OTHER_B64, "kubectl-edit")
    return [
        report_run(0, in_sync(DEP), in_sync(CM), in_sync(SECRET)),
        report_run(1, replicas, in_sync(CM), in_sync(SECRET)),
        report_run(2, replicas, colour, in_sync(SECRET)),
        report_run(3, outcome=Outcome.FAILED),
        report_run(4, in_sync(DEP), colour, token),
    ]


def history_report() -> Report:
    return from_history(history_runs(), now=NOW)


BASELINE = {"pod-security.kubernetes.io/enforce": "baseline"}
"""PodSecurity labels of a Namespace object that a ``podSecurity: baseline`` policy (the shipped
reconciler configs') allows."""


def fleet_history() -> list[SyncRun]:
    """Three apps over 52 hours, coalesced: ``web`` drifts twice (one open, by helm), ``shop``
    ends failed, ``quiet`` never drifts."""
    web = [
        *[run(h, in_sync(), app="web") for h in range(0, 24)],
        *[run(h, drifted(change()), app="web") for h in range(24, 30)],  # 6 h, reverted
        *[run(h, in_sync(), app="web") for h in range(30, 50)],
        *[run(h, drifted(change(manager="helm")), app="web") for h in range(50, 52)],  # open
    ]
    shop = [
        *[run(h, in_sync(CM), app="shop") for h in range(0, 50)],
        run(50, in_sync(CM), app="shop", outcome=Outcome.FAILED),
    ]
    quiet = [run(h, in_sync(), app="quiet") for h in range(0, 52)]
    return coalesce(sorted([*web, *shop, *quiet], key=lambda r: r.order))
