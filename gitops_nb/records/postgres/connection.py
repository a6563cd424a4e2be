"""Connecting to the records database: the DSN file, the connection, and our errors.

The DSN comes from a file (a Secret mount), never from a flag or the environment, and is
never printed: errors name the file and say what failed, with any password cut out.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import psycopg

from gitops_nb.errors import RecordStoreError, RecordStoreUnavailableError

CONNECT_TIMEOUT_S = 5
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


def store_error(e: psycopg.Error, dsn: str, source: str) -> RecordStoreError:
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


def connect(dsn: str, source: str) -> psycopg.Connection[Any]:
    """An autocommit connection (transactions are explicit), errors made ours."""
    try:
        return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
    except psycopg.Error as e:
        raise store_error(e, dsn, source) from None  # the chained error could carry the DSN
