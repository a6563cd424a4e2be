"""One loader for sync-run records: local history directory, exported file, or cluster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from gitops_nb.errors import ConfigError
from gitops_nb.model import Outcome, SyncRun, parse_time, sort_runs
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
    if dsn_file:
        from gitops_nb.records.postgres import PostgresStore  # psycopg only when asked for

        store = PostgresStore.from_dsn_file(Path(dsn_file))
        try:
            runs = store.query(app=app, since=since, until=until, outcome=outcomes)
        finally:
            store.close()
    elif history_dir:
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
    return [
        r
        for r in sort_runs(runs)
        if _within(r, since, until) and (outcomes is None or r.outcome.value in outcomes)
    ]


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


def _within(run: SyncRun, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    first, last = parse_time(run.started), parse_time(run.last_started)
    if first is None or last is None:
        return since is None and until is None
    return (since is None or last >= since) and (until is None or first <= until)
