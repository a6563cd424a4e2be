"""The PostgreSQL schema of the record store: versioned migrations and how they are applied.

The schema is versioned (``schema_migrations``); :func:`migrate` applies what is missing
under a session advisory lock, so concurrent starts are safe and a second start is a no-op.
"""

from __future__ import annotations

from typing import Any

import psycopg

_MIGRATION_LOCK = 0x6769_746F_7073  # "gitops": one key for every gitops-nb install

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE runs (
            run_id      text PRIMARY KEY,
            app         text NOT NULL,
            started     timestamptz NOT NULL,
            finished    timestamptz,
            outcome     text NOT NULL,
            mode        text NOT NULL,
            trigger     text NOT NULL,
            commit      text NOT NULL DEFAULT '',
            schema      integer NOT NULL,
            error       text,
            doc         jsonb NOT NULL
        );
        CREATE INDEX runs_app_started ON runs (app, started);
        CREATE INDEX runs_started ON runs (started);
        CREATE TABLE objects (
            run_id      text NOT NULL REFERENCES runs ON DELETE CASCADE,
            seq         integer NOT NULL,
            api_version text NOT NULL,
            kind        text NOT NULL,
            namespace   text NOT NULL,
            name        text NOT NULL,
            action      text NOT NULL,
            status      text NOT NULL,
            cause       text,
            error       text,
            PRIMARY KEY (run_id, seq)
        );
        CREATE INDEX objects_ref ON objects (kind, namespace, name);
        CREATE INDEX objects_not_in_sync ON objects (status) WHERE status <> 'InSync';
        CREATE TABLE changes (
            run_id      text NOT NULL,
            object_seq  integer NOT NULL,
            seq         integer NOT NULL,
            path        text NOT NULL,
            op          text NOT NULL,
            live        jsonb,
            desired     jsonb,
            manager     text,
            operation   text,
            time        text,
            cause       text,
            PRIMARY KEY (run_id, object_seq, seq),
            FOREIGN KEY (run_id, object_seq) REFERENCES objects ON DELETE CASCADE
        );
        CREATE INDEX changes_manager ON changes (manager);
        """,
    ),
    (
        2,
        # coalesced records (record schema 3): one row may stand for many identical runs
        """
        ALTER TABLE runs ADD COLUMN repeats integer NOT NULL DEFAULT 1;
        ALTER TABLE runs ADD COLUMN last_started timestamptz;
        ALTER TABLE runs ADD COLUMN last_run_id text;
        UPDATE runs SET last_started = started, last_run_id = run_id;
        ALTER TABLE runs ALTER COLUMN last_started SET NOT NULL;
        ALTER TABLE runs ALTER COLUMN last_run_id SET NOT NULL;
        CREATE INDEX runs_app_last_started ON runs (app, last_started);
        CREATE INDEX runs_outcome ON runs (app, outcome);
        """,
    ),
    (
        3,
        # per-object health (kstatus): {"status", "reason", "message"}, null when not assessed
        """
        ALTER TABLE objects ADD COLUMN health jsonb;
        CREATE INDEX objects_unhealthy ON objects ((health->>'status'))
            WHERE health->>'status' <> 'Current';
        """,
    ),
    (
        4,
        # how fields that were drifted settled at a new commit: [[path, true when Git took
        # the hand value], ...] in record order, null when nothing settled (older rows)
        "ALTER TABLE objects ADD COLUMN adopted jsonb;",
    ),
)
LATEST = MIGRATIONS[-1][0]


def migrate(conn: psycopg.Connection[Any], upto: int = LATEST) -> list[int]:
    """Apply the migrations not yet applied (up to ``upto``); return the versions applied.

    Holds a session advisory lock meanwhile, so concurrent starts apply each one once.
    """
    applied_now: list[int] = []
    conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        with conn.transaction():
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
        done = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}
        for version, sql in MIGRATIONS:
            if version in done or version > upto:
                continue
            with conn.transaction():
                conn.execute(sql.encode())
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            applied_now.append(version)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    return applied_now
