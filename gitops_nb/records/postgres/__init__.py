"""Sync-run records in PostgreSQL: runs, objects and field changes as tables (psycopg 3).

The DSN comes from a file (a Secret mount), never from a flag or the environment, and is
never printed: errors name the file and say what failed, with any password cut out
(:mod:`.connection`).

``runs`` holds one row per record (a coalesced record stands for ``repeats`` runs), with
the columns queries filter on (app, times, outcome, commit) indexed, and the run-level
fields verbatim in ``doc``. ``objects`` and ``changes`` hold the per-object results and
field changes, so SQL can ask "who changed what" without parsing JSON (:mod:`.rows`).
Writes are idempotent per run id and serialised per app (a transaction-scoped advisory
lock), so a retried write never duplicates and two writers cannot both extend the same
record (:mod:`.store`).

The schema is versioned (``schema_migrations``); :func:`migrate` applies what is missing
under a session advisory lock, so concurrent starts are safe and a second start is a no-op
(:mod:`.schema`).
"""

from gitops_nb.records.postgres.connection import read_dsn, redact
from gitops_nb.records.postgres.schema import LATEST, MIGRATIONS, migrate
from gitops_nb.records.postgres.store import PostgresStore

__all__ = ["LATEST", "MIGRATIONS", "PostgresStore", "migrate", "read_dsn", "redact"]
