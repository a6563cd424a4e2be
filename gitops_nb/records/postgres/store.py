"""The PostgreSQL record store: write (folding into the app's newest record), query, trim.

Writes are idempotent per run id and serialised per app (a transaction-scoped advisory
lock), so a retried write never duplicates and two writers cannot both extend the same
record. Queries filter in SQL (app, time range, outcome).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gitops_nb.model import SyncRun, parse_time
from gitops_nb.records.coalesce import already_stored, can_fold, fold
from gitops_nb.records.postgres.connection import (
    CONNECT_TIMEOUT_S,
    connect,
    read_dsn,
    store_error,
)
from gitops_nb.records.postgres.rows import build, doc, insert
from gitops_nb.records.postgres.schema import migrate
from gitops_nb.records.selection import select_runs


class PostgresStore:
    """Write, query and trim sync-run records in one PostgreSQL database (all apps)."""

    def __init__(self, conn: psycopg.Connection[Any], *, dsn: str = "", source: str = "") -> None:
        self.conn = conn
        self._dsn = dsn
        self._source = source or "a DSN"

    @classmethod
    def from_dsn_file(cls, path: Path) -> PostgresStore:
        """Connect with the DSN in ``path`` and bring the schema up to date."""
        dsn = read_dsn(path)
        conn = connect(dsn, str(path))
        store = cls(conn, dsn=dsn, source=str(path))
        try:
            store._guard(lambda: migrate(conn))
        except BaseException:
            conn.close()
            raise
        return store

    def _guard(self, step: Any) -> Any:
        try:
            if self.conn.broken and self._dsn:  # the server went away: a retry reconnects
                self.conn.close()
                self.conn = psycopg.connect(
                    self._dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True
                )
            return step()
        except psycopg.Error as e:
            raise store_error(e, self._dsn, self._source) from None

    def close(self) -> None:
        self.conn.close()

    # --- writing ----------------------------------------------------------------------

    def write(self, run: SyncRun) -> str:
        return str(self._guard(lambda: self._write(run)))

    def _write(self, run: SyncRun) -> str:
        with self.conn.transaction():
            # one writer per app at a time: the head we fold into cannot move under us
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (run.app,))
            head = self._head(run.app)
            if already_stored(head, run):
                assert head is not None
                return f"runs/{head.run_id}"
            if self._exists(run.run_id):
                return f"runs/{run.run_id}"
            if head is not None and can_fold(head, run):
                merged = fold(head, run)
                self.conn.execute(
                    "UPDATE runs SET repeats = %s, last_started = %s, last_run_id = %s, doc = %s"
                    " WHERE run_id = %s",
                    (
                        merged.repeats,
                        parse_time(merged.last_started),
                        merged.last_run_id,
                        Jsonb(doc(merged)),
                        merged.run_id,
                    ),
                )
                return f"runs/{merged.run_id}"
            insert(self.conn, run)
            return f"runs/{run.run_id}"

    def _exists(self, run_id: str) -> bool:
        cur = self.conn.execute("SELECT 1 FROM runs WHERE run_id = %s", (run_id,))
        return cur.fetchone() is not None

    def _head(self, app: str) -> SyncRun | None:
        rows = self.conn.execute(
            "SELECT run_id, doc FROM runs WHERE app = %s"
            " ORDER BY started DESC, run_id DESC LIMIT 1",
            (app,),
        ).fetchall()
        return build(self.conn, rows)[0] if rows else None

    # --- reading ----------------------------------------------------------------------

    def read(
        self,
        app: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        outcome: str | Sequence[str] | None = None,
    ) -> list[SyncRun]:
        """:meth:`query` (filtered in SQL), then the rule every store applies
        (:func:`gitops_nb.records.selection.select_runs`), so all stores answer alike."""
        runs = self.query(app=app, since=since, until=until, outcome=outcome)
        return select_runs(runs, since=since, until=until, outcome=outcome)

    def query(
        self,
        *,
        app: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        outcome: str | Sequence[str] | None = None,
    ) -> list[SyncRun]:
        """Records, oldest first, filtered in SQL: one app, the records whose runs overlap
        ``since``..``until`` (a coalesced record that started earlier but ran on counts),
        one outcome or any of several."""
        sql = ["SELECT run_id, doc FROM runs WHERE true"]
        params: list[Any] = []
        outcomes = [outcome] if isinstance(outcome, str) else outcome
        for clause, value in (
            (" AND app = %s", app),
            (" AND last_started >= %s", since),
            (" AND started <= %s", until),
            (" AND outcome = ANY(%s)", None if outcomes is None else list(outcomes)),
        ):
            if value is not None:
                sql.append(clause)
                params.append(value)
        sql.append(" ORDER BY started, run_id")
        runs: list[SyncRun] = self._guard(
            lambda: build(self.conn, self.conn.execute("".join(sql), params).fetchall())
        )
        return runs

    # --- retention --------------------------------------------------------------------

    def trim(self, app: str, keep: int) -> int:
        """Delete the oldest records of ``app`` beyond ``keep``; return how many went."""
        cur = self._guard(
            lambda: self.conn.execute(
                "DELETE FROM runs WHERE run_id IN (SELECT run_id FROM runs WHERE app = %s"
                " ORDER BY started DESC, run_id DESC OFFSET %s)",
                (app, keep),
            )
        )
        return int(cur.rowcount)

    def trim_before(self, app: str, before: dt.datetime) -> int:
        """Delete records of ``app`` whose last run started before ``before``."""
        cur = self._guard(
            lambda: self.conn.execute(
                "DELETE FROM runs WHERE app = %s AND last_started < %s", (app, before)
            )
        )
        return int(cur.rowcount)
