"""Coalescing: consecutive runs that saw the same state share one record.

A steady-state app runs every few minutes and almost every run says "nothing changed".
Such a run is folded into the app's newest record instead of adding one, so history costs
O(changes), not O(runs). A run folds in only when nothing an auditor reads differs:

- same app, mode, trigger, outcome, error, ignore rules, revision (commit) and run health;
- the same per-object results: ref, action, status, health, cause, error and every field change
  (live value, manager, operation and time), so a new hand value is never merged away;
- no writes (a created, configured or pruned object is news by itself).

The record keeps the first run's id and times; ``repeats`` counts the runs and ``last_*``
name the last one. Drift timing stays exact: the first run that saw a state starts its
record, and the first run that saw it gone starts the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from gitops_nb.model import SCHEMA_VERSION, SyncRun


def _state(run: SyncRun) -> tuple[object, ...]:
    return (
        run.app,
        run.mode,
        run.trigger,
        run.outcome,
        run.error,
        run.ignore,
        run.revision,
        run.health,
        tuple(sorted(run.counts.items())),
        run.objects,  # frozen dataclasses: field-by-field equality, changes included
    )


def writes(run: SyncRun) -> bool:
    """True when the run wrote anything (it then always gets its own record)."""
    return any(o.action.is_write for o in run.objects)


def can_fold(head: SyncRun, run: SyncRun) -> bool:
    """True when ``run`` may be folded into ``head``, the app's newest record.

    Records of older schemas are never extended: they were written as immutable records of
    one run (ConfigMaps of schema 2 are ``immutable``).
    """
    return (
        head.schema >= SCHEMA_VERSION
        and run.repeats == 1
        and not writes(head)
        and not writes(run)
        and head.order < run.order
        and _state(head) == _state(run)
    )


def fold(head: SyncRun, run: SyncRun) -> SyncRun:
    """``head`` extended by ``run`` (which :func:`can_fold` accepted)."""
    return replace(
        head,
        repeats=head.repeats + 1,
        last_started=run.started,
        last_finished=run.finished,
        last_run_id=run.run_id,
    )


def already_stored(head: SyncRun | None, run: SyncRun) -> bool:
    """True when ``run`` is the newest record's first or last run: a retried write."""
    return head is not None and head.app == run.app and run.run_id in head.run_ids


def coalesce(runs: Iterable[SyncRun]) -> list[SyncRun]:
    """Runs (oldest first, any apps) folded exactly as the stores fold them when written."""
    out: list[SyncRun] = []
    head_at: dict[str, int] = {}
    for run in runs:
        i = head_at.get(run.app)
        head = out[i] if i is not None else None
        if already_stored(head, run):
            continue
        if i is not None and head is not None and can_fold(head, run):
            out[i] = fold(head, run)
        else:
            head_at[run.app] = len(out)
            out.append(run)
    return out
