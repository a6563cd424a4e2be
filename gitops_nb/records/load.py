"""One loader for sync-run records: an exported file, or a record store (a local history
directory, PostgreSQL or the cluster's ConfigMaps) opened by
:func:`gitops_nb.records.store.open_store` and read through its ``read``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_nb.errors import ConfigError
from gitops_nb.model import Outcome, SyncRun, sort_runs
from gitops_nb.records.files import load_file
from gitops_nb.records.selection import select_runs
from gitops_nb.records.store import open_store

if TYPE_CHECKING:
    from gitops_nb.kube.client import Kube


def load_runs(
    *,
    history_dir: str | Path | None = None,
    file: str | Path | None = None,
    kubeconfig: str | Path | None = None,
    namespace: str | None = None,
    app: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    dsn_file: str | Path | None = None,
    outcome: str | Iterable[str] | None = None,
) -> list[SyncRun]:
    """Records from exactly one source, oldest first, optionally limited to a time range
    and to records of the given outcome(s) (``succeeded``, ``failed``, …: the run's status).

    A record is in the range when any run it stands for is (a coalesced record that began
    before ``since`` and ran on into it counts). With ``dsn_file`` the records come from
    PostgreSQL with app, time range and outcome filtered in SQL. With none of
    ``history_dir``, ``file`` and ``dsn_file`` they are read from the ConfigMaps in
    ``namespace`` of the cluster ``kubeconfig`` (or in-cluster / default) names.

    An outcome filter leaves runs out, so drift episodes computed from the result are not
    the app's episodes: filter runs for listing, not for the timeline.
    """
    if sum(bool(x) for x in (history_dir, file, dsn_file)) > 1:
        raise ConfigError(
            "give one record source: a history directory, an exported file or a DSN file"
        )
    outcomes = outcome_filter(outcome)
    if file:  # an export, not a store
        runs = [r for r in load_file(Path(file)) if app is None or r.app == app]
        return sort_runs(select_runs(runs, since=since, until=until, outcome=outcomes))
    if history_dir and not Path(history_dir).is_dir():  # a typo must not read as "no history"
        raise ConfigError(f"{history_dir}: no such history directory")
    store = open_store(
        history_dir=history_dir,
        dsn_file=dsn_file,
        namespace=namespace or "",
        connect=lambda: _kube(kubeconfig),
    )
    try:
        runs = store.read(app, since=since, until=until, outcome=outcomes)
    finally:
        store.close()
    return sort_runs(runs)


def _kube(kubeconfig: str | Path | None) -> Kube:
    from gitops_nb.kube.client import Kube  # the Kubernetes client only for cluster records

    return Kube.from_kubeconfig(kubeconfig)


def outcome_filter(outcome: str | Iterable[str] | None) -> list[str] | None:
    """The outcome values asked for (``"failed,refused"`` or a list), checked; None: all."""
    if outcome is None:
        return None
    parts = outcome.split(",") if isinstance(outcome, str) else list(outcome)
    wanted = [p.strip() for p in parts if p.strip()]
    known = [o.value for o in Outcome]
    bad = [w for w in wanted if w not in known]
    if bad or not wanted:
        raise ConfigError(
            f"outcome {', '.join(bad) or repr(outcome)}: not one of {', '.join(known)}"
        )
    return wanted
