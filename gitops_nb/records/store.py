"""One interface for every record store, and the choice between them.

The reconciler writes through :class:`RecordStore` and the history loader
(:func:`gitops_nb.records.load.load_runs`) reads through it; :func:`open_store` is the one
place that chooses the store, so neither knows which store it has. Writing a record twice
(a retry after a lost reply) is not an error: records are named by their run. Every store
coalesces: a run that saw what the app's newest record saw is folded into it
(:mod:`gitops_nb.records.coalesce`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gitops_nb.errors import ConfigError
from gitops_nb.model import SyncRun
from gitops_nb.records import files
from gitops_nb.records.coalesce import already_stored, can_fold, fold
from gitops_nb.records.selection import select_runs

if TYPE_CHECKING:  # the Kubernetes client only when the ConfigMap store is chosen
    from gitops_nb.kube.client import Kube

STORES = ("configmap", "directory", "postgres")


class RecordStore(Protocol):
    """Where one install keeps its sync-run records."""

    def write(self, run: SyncRun) -> str:
        """Store ``run`` (folded into the newest record when it saw the same); return where.
        Idempotent for the same run."""
        ...

    def read(
        self,
        app: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        outcome: str | Sequence[str] | None = None,
    ) -> list[SyncRun]:
        """The records (of one app), oldest first; with ``since``/``until`` those whose runs
        overlap the range, with ``outcome`` those of that outcome or any of several
        (:func:`gitops_nb.records.selection.select_runs`)."""
        ...

    def trim(self, app: str, keep: int) -> int:
        """Delete the oldest records of ``app`` beyond ``keep``; return how many went."""
        ...

    def trim_before(self, app: str, before: dt.datetime) -> int:
        """Delete the records of ``app`` whose last run started before ``before``."""
        ...

    def close(self) -> None:
        """Release connections (a no-op for stores without any)."""
        ...


class DirectoryStore:
    """Records as JSON files in a local directory (runs outside the cluster, the demo)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, run: SyncRun) -> str:
        found = files.newest(self.directory, run.app)
        if found is not None:
            path, head = found
            if already_stored(head, run):
                return str(path)
            if can_fold(head, run):
                files.rewrite_run(path, fold(head, run))
                return str(path)
        return str(files.write_run(self.directory, run))

    def read(
        self,
        app: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        outcome: str | Sequence[str] | None = None,
    ) -> list[SyncRun]:
        runs = files.read_dir(self.directory, app)
        return select_runs(runs, since=since, until=until, outcome=outcome)

    def trim(self, app: str, keep: int) -> int:
        return files.prune_dir(self.directory, app, keep)

    def trim_before(self, app: str, before: dt.datetime) -> int:
        return files.prune_dir_before(self.directory, app, before)

    def close(self) -> None:
        pass


def open_store(
    *,
    history_dir: str | Path | None = None,
    kube: Kube | None = None,
    namespace: str = "",
    store: str = "",
    dsn_file: str | Path | None = None,
    connect: Callable[[], Kube] | None = None,
) -> RecordStore:
    """The store ``store`` names (``configmap``, ``directory`` or ``postgres``).

    Without a name: PostgreSQL when ``dsn_file`` is given, a directory when ``history_dir``
    is, else the ConfigMaps in ``namespace``. Opening PostgreSQL connects and applies the
    schema migrations, so an unreachable database fails here (transient, exit code 3).
    The ConfigMap store uses ``kube``; without one it calls ``connect`` for a client, which
    the store then closes with itself.
    """
    if store and store not in STORES:
        raise ConfigError(f"records.store: {store!r} is not one of {', '.join(STORES)}")
    chosen = store or ("postgres" if dsn_file else "directory" if history_dir else "configmap")
    if chosen == "postgres":
        if not dsn_file:
            raise ConfigError("records.store: postgres needs records.dsnFile (a file with the DSN)")
        from gitops_nb.records.postgres import PostgresStore  # psycopg only when asked for

        return PostgresStore.from_dsn_file(Path(dsn_file))
    if chosen == "directory":
        if not history_dir:
            raise ConfigError("records.store: directory needs historyDir")
        return DirectoryStore(Path(history_dir))
    from gitops_nb.records.configmaps import ConfigMapStore  # Kubernetes only when asked for

    if kube is not None:
        return ConfigMapStore(kube, namespace)
    if connect is None:
        raise ValueError("the ConfigMap record store needs a Kubernetes client")
    if not namespace:  # checked before connecting
        raise ConfigError("reading records from the cluster needs --namespace")
    return ConfigMapStore(connect(), namespace, owns_client=True)
