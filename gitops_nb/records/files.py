"""Local sync history: one JSON file per run in a directory, and JSONL / JSON / Parquet files.

File names are ``<started-compact>_<run_id>.json`` (e.g. ``20261128T100000Z_r1.json``), so a
directory listing sorts by start time. Writes are atomic (temporary file, then rename), so a
reader never sees half a record.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gitops_nb.errors import GitOpsError
from gitops_nb.model import SyncRun, parse_time, sort_runs
from gitops_nb.records import dirindex

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _file_name(run: SyncRun) -> str:
    ts = parse_time(run.started)
    stamp = "unknown" if ts is None else ts.strftime("%Y%m%dT%H%M%SZ")
    # run ids come from the job, but a file name must never climb out of the directory
    return f"{stamp}_{_UNSAFE.sub('-', run.run_id) or 'run'}.json"


def _record(d: Any, where: str) -> SyncRun:
    if not isinstance(d, dict):
        raise GitOpsError(f"{where}: expected a sync-run object, got {type(d).__name__}")
    try:
        return SyncRun.from_dict(d)
    except (KeyError, ValueError, TypeError) as e:
        raise GitOpsError(f"{where}: invalid sync-run record: {e}") from e


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise GitOpsError(f"{where}:{e.lineno}: invalid JSON: {e.msg}") from e


def _atomic_write(path: Path, text: str, index: dirindex.DirIndex | None = None) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename. With ``index`` (a
    record directory's), every change to the directory is made under it and noted."""
    guard = index.mutating if index is not None else contextlib.nullcontext
    with guard():
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with guard():
            os.replace(tmp, path)
            if index is not None:
                index.added(path.name)
    except BaseException:
        with guard():
            Path(tmp).unlink(missing_ok=True)
        raise


def _write_record(path: Path, run: SyncRun) -> None:
    """Write ``run`` to ``path`` atomically, telling the directory's index what changed."""
    idx = dirindex.index(path.parent)
    _atomic_write(path, json.dumps(run.to_dict(), indent=2, sort_keys=True) + "\n", idx)
    idx.learn(path.name, run, path.stat())


def write_run(directory: Path, run: SyncRun) -> Path:
    """Write one run as ``<started-compact>_<run_id>.json``; returns the file written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / _file_name(run)
    _write_record(path, run)
    return path


def rewrite_run(path: Path, run: SyncRun) -> None:
    """Replace the record in ``path`` (a coalesced record growing) atomically."""
    _write_record(path, run)


def newest(directory: Path, app: str) -> tuple[Path, SyncRun] | None:
    """The newest record of ``app`` and its file; None when it has none."""
    if not directory.is_dir():
        return None
    mine = _scan(directory, app)
    return max(mine, key=lambda pr: pr[1].order) if mine else None


def _scan(directory: Path, app: str | None = None) -> list[tuple[Path, SyncRun]]:
    """The records in ``directory`` (of ``app`` only, when given), in file-name order.

    Reading one app's records parses only that app's files (and any nobody has read yet),
    from a listing kept in memory (:mod:`.dirindex`)."""
    idx = dirindex.index(directory)
    out = []
    for name in idx.names(app):
        path = directory / name
        try:
            st = path.stat()
            run = idx.cached(name, st)
            if run is None:
                text = path.read_text(encoding="utf-8")
                run = _record(_parse_json(text, str(path)), str(path))
                idx.learn(name, run, st)
        except FileNotFoundError:
            idx.removed(name)
            continue  # trimmed by another writer since the listing
        except (OSError, UnicodeDecodeError) as e:
            raise GitOpsError(f"{path}: cannot read sync-run record: {e}") from e
        if app is None or run.app == app:
            out.append((path, run))
    return out


def _delete(paths: Iterable[Path]) -> int:
    n = 0
    for path in paths:
        idx = dirindex.index(path.parent)
        with idx.mutating():
            path.unlink(missing_ok=True)
            idx.removed(path.name)
        n += 1
    return n


def read_dir(directory: Path, app: str | None = None) -> list[SyncRun]:
    """All runs in ``directory`` (optionally of one app), sorted by ``started``.

    A missing directory is an empty history; an unreadable or invalid file raises
    ``GitOpsError`` naming the file.
    """
    if not directory.is_dir():
        return []
    return sort_runs(r for _, r in _scan(directory, app))


def prune_dir(directory: Path, app: str, keep: int) -> int:
    """Delete all but the newest ``keep`` runs of ``app``; returns how many files went."""
    if keep < 0:
        raise GitOpsError(f"prune_dir: keep must be >= 0, got {keep}")
    if not directory.is_dir():
        return 0
    mine = sorted(_scan(directory, app), key=lambda pr: pr[1].order)
    doomed = mine[: max(len(mine) - keep, 0)]
    return _delete(path for path, _ in doomed)


def prune_dir_before(directory: Path, app: str, before: dt.datetime) -> int:
    """Delete the runs of ``app`` whose last run started before ``before``; how many went."""
    if not directory.is_dir():
        return 0
    return _delete(
        p for p, r in _scan(directory, app) if (parse_time(r.last_started) or before) < before
    )


def export_jsonl(runs: Iterable[SyncRun], path: Path) -> None:
    """Write one JSON record per line (atomically)."""
    lines = [json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in runs]
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, "".join(lines))


def export_parquet(runs: Iterable[SyncRun], path: Path) -> None:
    """Write runs to Parquet: key columns for querying plus the full record JSON per row.

    Needs ``pyarrow`` (the ``parquet`` extra).
    """
    pa, pq = _pyarrow()
    records = list(runs)
    table = pa.table(
        {
            "run_id": pa.array([r.run_id for r in records], pa.string()),
            "app": pa.array([r.app for r in records], pa.string()),
            "started": pa.array(
                [parse_time(r.started) for r in records], pa.timestamp("us", "UTC")
            ),
            "outcome": pa.array([str(r.outcome) for r in records], pa.string()),
            "mode": pa.array([str(r.mode) for r in records], pa.string()),
            "commit": pa.array(
                [r.revision.commit if r.revision else "" for r in records], pa.string()
            ),
            "record": pa.array(
                [json.dumps(r.to_dict(), sort_keys=True) for r in records], pa.string()
            ),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError as e:
        raise GitOpsError("Parquet needs pyarrow: pip install 'gitops-nb[parquet]'") from e
    return pa, pq


def load_file(path: Path) -> list[SyncRun]:
    """Load runs from ``.jsonl``, ``.json`` (a list or one record) or ``.parquet`` (as written
    by :func:`export_parquet`), sorted by ``started``."""
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".jsonl", ".json"):
        raise GitOpsError(f"{path}: unknown history file type (want .jsonl, .json or .parquet)")
    if suffix == ".parquet":
        return sort_runs(_load_parquet(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise GitOpsError(f"{path}: cannot read history file: {e}") from e
    if suffix == ".jsonl":
        out = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                where = f"{path}:{n}"
                out.append(_record(_parse_json(line, where), where))
        return sort_runs(out)
    data = _parse_json(text, str(path))
    items = data if isinstance(data, list) else [data]
    return sort_runs(_record(d, f"{path}[{i}]") for i, d in enumerate(items))


def _load_parquet(path: Path) -> list[SyncRun]:
    _, pq = _pyarrow()
    try:
        column = pq.read_table(path, columns=["record"]).column("record").to_pylist()
    except Exception as e:  # pyarrow raises many types for bad files
        raise GitOpsError(f"{path}: cannot read Parquet history: {e}") from e
    return [
        _record(_parse_json(str(text), f"{path}[{i}]"), f"{path}[{i}]")
        for i, text in enumerate(column)
    ]
