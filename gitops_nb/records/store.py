"""One interface for every record store, and the choice between them.

The reconciler writes through :class:`RecordStore` and the history loader reads through
it; neither knows which store it has. Writing a record twice (a retry after a lost reply)
is not an error: records are immutable and named by their run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from gitops_nb.kube.client import Kube
from gitops_nb.model import SyncRun
from gitops_nb.records import files
from gitops_nb.records.configmaps import ConfigMapStore


class RecordStore(Protocol):
    """Where one install keeps its sync-run records."""

    def write(self, run: SyncRun) -> str:
        """Store ``run``; return where. Idempotent for the same run."""
        ...

    def read(self, app: str | None = None) -> list[SyncRun]:
        """All records (of one app), oldest first."""
        ...

    def trim(self, app: str, keep: int) -> int:
        """Delete the oldest records of ``app`` beyond ``keep``; return how many went."""
        ...


class DirectoryStore:
    """Records as JSON files in a local directory (runs outside the cluster, the demo)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, run: SyncRun) -> str:
        return str(files.write_run(self.directory, run))

    def read(self, app: str | None = None) -> list[SyncRun]:
        return files.read_dir(self.directory, app)

    def trim(self, app: str, keep: int) -> int:
        return files.prune_dir(self.directory, app, keep)


def open_store(
    *, history_dir: str | Path | None = None, kube: Kube | None = None, namespace: str = ""
) -> RecordStore:
    """A directory store when ``history_dir`` is given, else the ConfigMaps in ``namespace``."""
    if history_dir:
        return DirectoryStore(Path(history_dir))
    if kube is None:
        raise ValueError("the ConfigMap record store needs a Kubernetes client")
    return ConfigMapStore(kube, namespace)
