"""Sync-run records as rows: ``runs`` (one per record, run-level fields verbatim in ``doc``),
``objects`` (per-object results) and ``changes`` (field changes), and back.

Both directions run on the caller's connection and inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gitops_nb.errors import RecordStoreError
from gitops_nb.model import FieldChange, SyncRun, parse_time


def doc(run: SyncRun) -> dict[str, Any]:
    """The run-level fields, verbatim (objects live in their own tables)."""
    d = run.to_dict()
    del d["objects"]
    return d


def insert(conn: psycopg.Connection[Any], run: SyncRun) -> None:
    """Insert ``run`` as one ``runs`` row with its ``objects`` and ``changes`` rows."""
    conn.execute(
        "INSERT INTO runs (run_id, app, started, finished, outcome, mode, trigger, commit,"
        " schema, error, doc, repeats, last_started, last_run_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            run.run_id,
            run.app,
            parse_time(run.started),
            parse_time(run.finished),
            str(run.outcome),
            str(run.mode),
            run.trigger,
            run.revision.commit if run.revision else "",
            run.schema,
            run.error,
            Jsonb(doc(run)),
            run.repeats,
            parse_time(run.last_started),
            run.last_run_id,
        ),
    )
    objects = [
        (
            run.run_id,
            i,
            o.ref.api_version,
            o.ref.kind,
            o.ref.namespace,
            o.ref.name,
            str(o.action),
            str(o.status),
            str(o.cause) if o.cause is not None else None,
            o.error,
            Jsonb(o.health.to_dict()) if o.health is not None else None,
            # pairs, not an object: jsonb reorders an object's keys
            Jsonb([list(pair) for pair in o.adopted]) if o.adopted else None,
        )
        for i, o in enumerate(run.objects)
    ]
    changes = [
        (
            run.run_id,
            i,
            j,
            c.path,
            c.op,
            Jsonb(c.live),
            Jsonb(c.desired),
            c.manager,
            c.operation,
            c.time,
            str(c.cause) if c.cause is not None else None,
        )
        for i, o in enumerate(run.objects)
        for j, c in enumerate(o.changes)
    ]
    with conn.cursor() as cur:
        if objects:
            cur.executemany(
                "INSERT INTO objects (run_id, seq, api_version, kind, namespace, name,"
                " action, status, cause, error, health, adopted)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                objects,
            )
        if changes:
            cur.executemany(
                "INSERT INTO changes (run_id, object_seq, seq, path, op, live, desired,"
                " manager, operation, time, cause)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                changes,
            )


def build(conn: psycopg.Connection[Any], rows: Sequence[tuple[Any, ...]]) -> list[SyncRun]:
    """SyncRuns from ``(run_id, doc)`` rows, their objects and changes fetched in bulk."""
    ids = [str(r[0]) for r in rows]
    objects: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    by_seq: dict[tuple[str, int], dict[str, Any]] = {}
    if ids:
        for row in conn.execute(
            "SELECT run_id, seq, api_version, kind, namespace, name, action, status, cause,"
            " error, health, adopted FROM objects WHERE run_id = ANY(%s)"
            " ORDER BY run_id, seq",
            (ids,),
        ):
            o = {
                "apiVersion": row[2],
                "kind": row[3],
                "namespace": row[4],
                "name": row[5],
                "action": row[6],
                "status": row[7],
                "cause": row[8],
                "error": row[9],
                "changes": [],
                **({"health": row[10]} if row[10] is not None else {}),
                **({"adopted": dict(row[11])} if row[11] is not None else {}),
            }
            objects[row[0]].append(o)
            by_seq[(row[0], int(row[1]))] = o
        for row in conn.execute(
            "SELECT run_id, object_seq, path, op, live, desired, manager, operation, time,"
            " cause FROM changes WHERE run_id = ANY(%s) ORDER BY run_id, object_seq, seq",
            (ids,),
        ):
            by_seq[(row[0], int(row[1]))]["changes"].append(
                FieldChange.from_dict(
                    {
                        "path": row[2],
                        "op": row[3],
                        "live": row[4],
                        "desired": row[5],
                        "manager": row[6],
                        "operation": row[7],
                        "time": row[8],
                        "cause": row[9],
                    }
                ).to_dict()
            )
    out = []
    for run_id, fields in rows:
        d = {**fields, "objects": objects[str(run_id)]}
        try:
            out.append(SyncRun.from_dict(d))
        except (KeyError, ValueError, TypeError) as e:
            raise RecordStoreError(f"runs/{run_id}: not a readable sync-run record: {e}") from e
    return out
