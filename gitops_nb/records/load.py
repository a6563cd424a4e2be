"""One loader for sync-run records: local history directory, exported file, or cluster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gitops_nb.errors import ConfigError
from gitops_nb.model import SyncRun, parse_time, sort_runs
from gitops_nb.records.files import load_file, read_dir


def load_runs(
    *,
    history_dir: str | Path | None = None,
    file: str | Path | None = None,
    kubeconfig: str | Path | None = None,
    namespace: str | None = None,
    app: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[SyncRun]:
    """Records from exactly one source, oldest first, optionally limited to a time range.

    With neither ``history_dir`` nor ``file`` the records are read from the ConfigMaps in
    ``namespace`` of the cluster ``kubeconfig`` (or in-cluster / default) names.
    """
    if history_dir and file:
        raise ConfigError("give either a history directory or an exported file, not both")
    if history_dir:
        if not Path(history_dir).is_dir():  # a typo must not read as "no history"
            raise ConfigError(f"{history_dir}: no such history directory")
        runs = read_dir(Path(history_dir), app)
    elif file:
        runs = [r for r in load_file(Path(file)) if app is None or r.app == app]
    else:
        if not namespace:
            raise ConfigError("reading records from the cluster needs --namespace")
        from gitops_nb.kube.client import Kube
        from gitops_nb.records.configmaps import ConfigMapStore

        kube = Kube.from_kubeconfig(kubeconfig)
        try:
            runs = ConfigMapStore(kube, namespace).read(app)
        finally:
            kube.close()
    return [r for r in sort_runs(runs) if _within(r.started, since, until)]


def _within(started: str, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    t = parse_time(started)
    if t is None:
        return since is None and until is None
    return (since is None or t >= since) and (until is None or t <= until)
