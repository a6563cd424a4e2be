"""The sync-run record of one reconcile: per-object lines and counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from gitops_nb.config import AppConfig
from gitops_nb.engine import DiffReport
from gitops_nb.engine.wait import HealthReport
from gitops_nb.model import (
    COUNT_KEYS,
    Action,
    ChangeSet,
    DiffStatus,
    Health,
    ObjectRef,
    ObjectResult,
    Outcome,
    Revision,
    SyncRun,
)


def merge_objects(report: DiffReport | None, changes: ChangeSet | None) -> tuple[ObjectResult, ...]:
    """Per-object lines of the record: the diff we saw plus what we did about it."""
    if report is None:
        return ()
    done: dict[ObjectRef, tuple[Action, str | None]] = {}
    for e in changes.entries if changes else ():
        done[e.ref] = (e.action, e.error)
    out = []
    for item in report.items:
        d = item.diff
        if item.ref in done:
            action, error = done[item.ref]
        elif d.status is DiffStatus.IN_SYNC:
            action, error = Action.UNCHANGED, None
        elif d.status is DiffStatus.ERROR:
            action, error = Action.FAILED, d.error
        else:  # detect mode, or a run that stopped before reaching this object
            action, error = Action.SKIPPED, None
        out.append(
            ObjectResult(
                item.ref,
                action,
                d.status,
                d.changes,
                error or d.error,
                cause=d.cause,
                adopted=report.adopted.get(item.ref, ()),
            )
        )
    return tuple(out)


def with_health(
    objects: tuple[ObjectResult, ...], health: Mapping[ObjectRef, Health]
) -> tuple[ObjectResult, ...]:
    """The lines with each object's health, where it was assessed."""
    return tuple(replace(o, health=health.get(o.ref, o.health)) for o in objects)


def record_time(t: dt.datetime) -> str:
    """A record's timestamp: RFC 3339 UTC with milliseconds (``2026-11-28T10:00:00.000Z``)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def count(objects: tuple[ObjectResult, ...]) -> dict[str, int]:
    """The record's counts (keys :data:`~gitops_nb.model.COUNT_KEYS`)."""
    c = dict.fromkeys(COUNT_KEYS, 0)
    for o in objects:
        if o.status is not DiffStatus.EXTRANEOUS:
            c["desired"] += 1
        if o.status is DiffStatus.IN_SYNC:
            c["in_sync"] += 1
        elif o.status.is_drift:
            c["drifted"] += 1
        if o.action in (Action.CREATED, Action.CONFIGURED, Action.PRUNED, Action.FAILED):
            c[str(o.action)] += 1
    return c


def new_record(
    cfg: AppConfig,
    run_id: str,
    trigger: str,
    when: tuple[dt.datetime, dt.datetime, float],
    outcome: Outcome,
    error: str | None,
    *,
    revision: Revision | None = None,
    objects: tuple[ObjectResult, ...] = (),
    health: HealthReport | None = None,
) -> SyncRun:
    """One run's record; ``when``: (started, finished, measured duration in seconds)."""
    started, finished, duration_s = when
    return SyncRun(
        run_id=run_id,
        app=cfg.app,
        started=record_time(started),
        finished=record_time(finished),
        duration_s=round(duration_s, 3),
        trigger=trigger,
        mode=cfg.mode,
        revision=revision,
        outcome=outcome,
        counts=count(objects),
        objects=objects,
        error=error,
        ignore=cfg.ignore_rules.texts,
        health=health.health if health is not None else None,
        healthy_at=health.healthy_at if health is not None else None,
    )
