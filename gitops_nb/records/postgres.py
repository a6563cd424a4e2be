"""Sync-run records in PostgreSQL: runs, objects and field changes as tables (psycopg 3).

The DSN comes from a file (a Secret mount), never from a flag or the environment, and is
never printed: errors name the file and say what failed, with any password cut out.

``runs`` holds one row per record (a coalesced record stands for ``repeats`` runs), with
the columns queries filter on (app, times, outcome, commit) indexed, and the run-level
fields verbatim in ``doc``. ``objects`` and ``changes`` hold the per-object results and
field changes, so SQL can ask "who changed what" without parsing JSON. Writes are
idempotent per run id and serialised per app (a transaction-scoped advisory lock), so a
retried write never duplicates and two writers cannot both extend the same record.

The schema is versioned (``schema_migrations``); :func:`migrate` applies what is missing
under a session advisory lock, so concurrent starts are safe and a second start is a no-op.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gitops_nb.errors import RecordStoreError, RecordStoreUnavailableError
from gitops_nb.model import FieldChange, SyncRun, parse_time
from gitops_nb.records.coalesce import already_stored, can_fold, fold

CONNECT_TIMEOUT_S = 5
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
)
LATEST = MIGRATIONS[-1][0]

# connection exception, insufficient resources, operator intervention (shutdown, starting
# up), transaction rollback (serialization failure, deadlock): a later run may succeed
_TRANSIENT_CLASSES = frozenset({"08", "53", "57", "40"})
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(text: str, dsn: str = "") -> str:
    """``text`` with the DSN's password (and any ``password=``/URL password) cut out."""
    password = ""
    with contextlib.suppress(psycopg.ProgrammingError):
        if dsn:
            password = str(psycopg.conninfo.conninfo_to_dict(dsn).get("password") or "")
    if password:
        text = text.replace(password, "***")
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return _KV_PASSWORD.sub(r"\1***", text)


def _where(dsn: str) -> str:
    """host:port/dbname of a DSN, for messages (no user, no password)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(unparsable DSN)"
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    return f"{host}:{port}/{info.get('dbname') or info.get('user') or ''}"


def _error(e: psycopg.Error, dsn: str, source: str) -> RecordStoreError:
    """Our error for a psycopg one: auth and bad input are permanent, the rest transient."""
    detail = redact(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__, dsn)
    where = f"PostgreSQL {_where(dsn)} (DSN from {source})"
    sqlstate = getattr(e, "sqlstate", None) or ""
    if "password authentication failed" in str(e) or sqlstate.startswith("28"):
        return RecordStoreError(
            f"{where}: the database rejected the credentials ({detail}); fix the DSN file"
        )
    if isinstance(e, psycopg.OperationalError) and not sqlstate:
        return RecordStoreUnavailableError(f"{where}: unreachable ({detail}); will retry")
    if sqlstate[:2] in _TRANSIENT_CLASSES:
        return RecordStoreUnavailableError(f"{where}: unavailable ({detail}); will retry")
    return RecordStoreError(f"{where}: {detail}")


def read_dsn(path: Path) -> str:
    """The DSN in ``path`` (surrounding whitespace dropped)."""
    try:
        dsn = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise RecordStoreError(f"{path}: cannot read the records DSN file: {e}") from e
    if not dsn:
        raise RecordStoreError(f"{path}: the records DSN file is empty")
    try:
        psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as e:
        raise RecordStoreError(f"{path}: not a PostgreSQL DSN: {redact(str(e), dsn)}") from e
    return dsn


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


def connect(dsn: str, source: str) -> psycopg.Connection[Any]:
    """An autocommit connection (transactions are explicit), errors made ours."""
    try:
        return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
    except psycopg.Error as e:
        raise _error(e, dsn, source) from None  # the chained error could carry the DSN


def _ts(value: str) -> dt.datetime | None:
    return parse_time(value)


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
            raise _error(e, self._dsn, self._source) from None

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
                        _ts(merged.last_started),
                        merged.last_run_id,
                        Jsonb(_doc(merged)),
                        merged.run_id,
                    ),
                )
                return f"runs/{merged.run_id}"
            self._insert(run)
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
        return self._build(rows)[0] if rows else None

    def _insert(self, run: SyncRun) -> None:
        self.conn.execute(
            "INSERT INTO runs (run_id, app, started, finished, outcome, mode, trigger, commit,"
            " schema, error, doc, repeats, last_started, last_run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                run.run_id,
                run.app,
                _ts(run.started),
                _ts(run.finished),
                str(run.outcome),
                str(run.mode),
                run.trigger,
                run.revision.commit if run.revision else "",
                run.schema,
                run.error,
                Jsonb(_doc(run)),
                run.repeats,
                _ts(run.last_started),
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
        with self.conn.cursor() as cur:
            if objects:
                cur.executemany(
                    "INSERT INTO objects (run_id, seq, api_version, kind, namespace, name,"
                    " action, status, cause, error, health)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    objects,
                )
            if changes:
                cur.executemany(
                    "INSERT INTO changes (run_id, object_seq, seq, path, op, live, desired,"
                    " manager, operation, time, cause)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    changes,
                )

    # --- reading ----------------------------------------------------------------------

    def read(self, app: str | None = None) -> list[SyncRun]:
        return self.query(app=app)

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
        return self._guard(lambda: self._build(self.conn.execute("".join(sql), params).fetchall()))  # type: ignore[no-any-return]

    def _build(self, rows: Sequence[tuple[Any, ...]]) -> list[SyncRun]:
        """SyncRuns from ``(run_id, doc)`` rows, their objects and changes fetched in bulk."""
        ids = [str(r[0]) for r in rows]
        objects: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        by_seq: dict[tuple[str, int], dict[str, Any]] = {}
        if ids:
            for row in self.conn.execute(
                "SELECT run_id, seq, api_version, kind, namespace, name, action, status, cause,"
                " error, health FROM objects WHERE run_id = ANY(%s) ORDER BY run_id, seq",
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
                }
                objects[row[0]].append(o)
                by_seq[(row[0], int(row[1]))] = o
            for row in self.conn.execute(
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
        for run_id, doc in rows:
            d = {**doc, "objects": objects[str(run_id)]}
            try:
                out.append(SyncRun.from_dict(d))
            except (KeyError, ValueError, TypeError) as e:
                raise RecordStoreError(f"runs/{run_id}: not a readable sync-run record: {e}") from e
        return out

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


def _doc(run: SyncRun) -> dict[str, Any]:
    """The run-level fields, verbatim (objects live in their own tables)."""
    d = run.to_dict()
    del d["objects"]
    return d


__all__ = ["LATEST", "MIGRATIONS", "PostgresStore", "migrate", "read_dsn", "redact"]
