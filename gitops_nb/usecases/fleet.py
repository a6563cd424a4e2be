"""One process, many apps: ``gitops-nb reconcile --config`` with ``apps:``/``generators:``.

    resolve apps (one fetch per repo+ref) → select this shard → reconcile each app (bounded
    concurrency; one Kube, one discovery, one checkout per commit) → remember the app list →
    report orphaned apps → one exit code for the fleet

Each app keeps its own Lease, ApplySet parent, fingerprints, record, Events and outcome; the
fleet only shares what is read-only or cached. One app's failure never stops the others.

Exit code of the fleet: the most severe of its apps' codes, in this order (most severe first):
5 interrupted > 6 commit refused by verification > 2 error > 7 not healthy > 3 transient >
4 locked > 1 drift > 0 ok. A fleet-level failure
before any app ran (bad config, generator's repository unreachable) exits with its own code.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gitops_nb.config import AppConfig
from gitops_nb.engine.applyset import ApplySet
from gitops_nb.errors import SEVERITY, ExitCode, GitOpsError
from gitops_nb.fleet.apps import AppEntry, FleetConfig
from gitops_nb.fleet.generators import expand
from gitops_nb.fleet.shards import shard_of
from gitops_nb.kube.client import ClientSettings, Kube, load_configuration
from gitops_nb.kube.discovery import Discovery
from gitops_nb.kube.resources import CONFIGMAPS
from gitops_nb.kube.sharedlists import SharedLists
from gitops_nb.model import Mode, Revision, fleet_state_name
from gitops_nb.source import SourceSpec, default_cache_dir, fetch, redact_url
from gitops_nb.source.credentials import Credentials
from gitops_nb.source.git import Checkout
from gitops_nb.usecases.fleetprune import Orphan, Verdict, prune_removed, verdict
from gitops_nb.usecases.jsonlog import event
from gitops_nb.usecases.reconcile import reconcile_app
from gitops_nb.usecases.runstate import RunResult, Shared

FIELD_MANAGER = "gitops-nb-fleet"


def fleet_exit_code(codes: Iterable[int]) -> int:
    """The most severe code in ``codes`` (:data:`SEVERITY`); a code this version does not
    know ranks as an error, never below one it knows."""
    seen = set(codes)
    known = {int(c) for c in SEVERITY}
    unknown = sorted(c for c in seen if c not in known)
    for code in SEVERITY:
        if code is ExitCode.ERROR and unknown:
            return unknown[-1]
        if code in seen:
            return int(code)
    return int(ExitCode.OK)


@dataclass(frozen=True)
class FleetApp:
    """One app of the fleet, resolved: what ``gitops-nb apps`` prints."""

    entry: AppEntry
    config: AppConfig
    shard: int
    checkout: Checkout | None
    """The app's commit, fetched once per repo+ref; None when the fetch failed (the app's
    own run then fails and records why)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.config.app,
            "path": self.config.path,
            "namespace": self.config.namespace,
            "repo": redact_url(self.config.repo),
            "ref": self.config.ref,
            "commit": self.checkout.revision.commit if self.checkout else None,
            "source": self.entry.source,
            "shard": self.shard,
        }


@dataclass(frozen=True)
class AppResult:
    app: FleetApp
    result: RunResult


@dataclass(frozen=True)
class FleetResult:
    apps: tuple[AppResult, ...]
    orphans: tuple[Orphan, ...]
    """Removed apps whose objects are still in the cluster."""
    pruned: tuple[Orphan, ...] = ()
    """Removed apps pruned by this run (``pruneRemovedApps: true``)."""
    prune_code: int = ExitCode.OK
    """The outcome of pruning removed apps: 2 when the fleet-wide guard refused."""

    @property
    def exit_code(self) -> int:
        return fleet_exit_code([*(r.result.exit_code for r in self.apps), self.prune_code])


class _Checkouts:
    """One fetch per (repo, ref, cache); later callers get the same checkout or error."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self._done: dict[tuple[str, str, str], Checkout | GitOpsError] = {}

    def get(self, repo: str, ref: str, cache_dir: str) -> Checkout:
        key = (repo, ref, cache_dir)
        if key not in self._done:
            spec = SourceSpec(repo, ref, ".", self.credentials)
            try:
                self._done[key] = fetch(spec, Path(cache_dir) if cache_dir else default_cache_dir())
            except GitOpsError as e:
                self._done[key] = e
        got = self._done[key]
        if isinstance(got, GitOpsError):
            raise got
        return got


def resolve_apps(
    fleet: FleetConfig,
    credentials: Credentials,
    overrides: Mapping[str, Any] | None = None,
) -> list[FleetApp]:
    """Every app of the fleet with its config and checkout. Touches only the Git cache.

    Raises ConfigError for a bad app or generator, and the Git error when a directory
    generator's repository cannot be read (without it the fleet is unknown).
    """
    checkouts = _Checkouts(credentials)
    # The generators read the tree from the same cache as the apps (flags win), so a
    # --cache-dir never costs a second fetch into the default cache.
    cache = str({**fleet.defaults, **(overrides or {})}.get("cache_dir", ""))

    def root_for(repo: str, ref: str) -> Path:
        return checkouts.get(repo, ref, cache).root

    apps = []
    for entry in expand(fleet, root_for):
        cfg = fleet.app_config(entry, overrides)
        try:
            shared = checkouts.get(cfg.repo, cfg.ref, cfg.cache_dir)
            checkout: Checkout | None = replace(
                shared, spec=SourceSpec(cfg.repo, cfg.ref, cfg.path, credentials)
            )
        except GitOpsError:
            checkout = None
        apps.append(FleetApp(entry, cfg, shard_of(cfg.app, fleet.shards), checkout))
    return apps


def _common_revision(apps: Sequence[FleetApp]) -> Revision | None:
    """The commit every app was resolved at (one repository and ref), else None: the commit
    the removed apps are gone from."""
    by_commit = {a.checkout.revision.commit: a.checkout.revision for a in apps if a.checkout}
    return next(iter(by_commit.values())) if len(by_commit) == 1 else None


def select_shard(apps: Sequence[FleetApp], index: int | None) -> list[FleetApp]:
    return [a for a in apps if index is None or a.shard == index]


# The fleet's memory of its apps: ConfigMap gitops-nb.fleet.<name> in the fleet's namespace.


def _state_path(fleet: FleetConfig) -> str:
    return CONFIGMAPS.object_path(fleet.home, fleet_state_name(fleet.name))


def known_apps(kube: Kube, fleet: FleetConfig) -> list[Orphan]:
    """The apps the fleet last remembered (name and namespace)."""
    cm = kube.get_or_none(_state_path(fleet), what=f"fleet {fleet.name}")
    raw = ((cm or {}).get("data") or {}).get("apps", "[]")
    try:
        items = json.loads(raw)
        return [Orphan(str(i["name"]), str(i["namespace"])) for i in items]
    except (ValueError, KeyError, TypeError):
        return []  # a hand-edited list: start again from the current apps


def find_orphans(
    kube: Kube, fleet: FleetConfig, apps: Sequence[FleetApp], known: Sequence[Orphan] | None = None
) -> list[Orphan]:
    """Remembered apps the generators no longer make whose ApplySet parent still exists."""
    current = {a.config.app for a in apps}
    out = []
    for old in known_apps(kube, fleet) if known is None else known:
        if old.name in current:
            continue
        aset = ApplySet(old.name, old.namespace)
        if kube.get_or_none(aset.path, what=str(aset.ref)) is not None:
            out.append(old)
    return out


def remember(
    kube: Kube, fleet: FleetConfig, apps: Sequence[FleetApp], orphans: Sequence[Orphan]
) -> None:
    """Store the current apps plus the orphans still present (every shard writes the same)."""
    items = sorted(
        {(a.config.app, a.config.namespace) for a in apps}
        | {(o.name, o.namespace) for o in orphans}
    )
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": fleet_state_name(fleet.name),
            "namespace": fleet.home,
            "labels": {"gitops-nb.io/fleet": fleet.name},
        },
        "data": {"apps": json.dumps([{"name": n, "namespace": ns} for n, ns in items])},
    }
    kube.apply(_state_path(fleet), body, field_manager=FIELD_MANAGER, force=True, what="fleet")


def removal_verdict(
    fleet: FleetConfig, apps: Sequence[FleetApp], known: Sequence[Orphan], orphans: Sequence[Orphan]
) -> Verdict:
    """Whether a run would prune ``orphans`` now, and whether the mass-prune guard refuses
    (``apps --removed`` shows it; :func:`reconcile_fleet` acts on it)."""
    return verdict(
        fleet,
        correct=all(a.config.mode is Mode.CORRECT for a in apps),  # detect writes nothing
        current=len(apps),
        known=len(known),
        orphans=len(orphans),
    )


def fleet_kube(fleet: FleetConfig, apps: Sequence[FleetApp]) -> Kube:
    """One client for the fleet: the same QPS budget as one app, pooled for the concurrency."""
    # One client for all apps, so one kubeconfig: the first app's (flags apply to all).
    kubeconfig = (apps[0].config.kubeconfig if apps else "") or None
    workers = max((a.config.workers for a in apps), default=AppConfig.workers)
    pool = min(fleet.concurrency * (workers + 2), 128)
    return Kube(load_configuration(kubeconfig), ClientSettings(pool_size=pool))


def reconcile_fleet(
    fleet: FleetConfig,
    apps: Sequence[FleetApp],
    log: logging.Logger,
    *,
    shard: int | None,
    trigger: str = "manual",
    stop: threading.Event | None = None,
    credentials: Credentials | None = None,
    kube: Kube | None = None,
) -> FleetResult:
    """Reconcile this shard's apps; never raises for an app's failure (it is in its record)."""
    stop = stop or threading.Event()
    kube = kube or fleet_kube(fleet, apps)
    discovery = Discovery(kube)
    lists = SharedLists()  # this run's only: the next run lists afresh
    mine = select_shard(apps, shard)
    event(log, "fleet-started", fleet=fleet.name, apps=len(apps), shard=shard, selected=len(mine))

    def one(app: FleetApp) -> AppResult:
        if stop.is_set():
            return AppResult(app, RunResult(None, ExitCode.INTERRUPTED))
        shared = Shared(checkout=app.checkout, discovery=discovery, lists=lists)
        try:
            result = reconcile_app(
                app.config,
                log,
                trigger=trigger,
                stop=stop,
                kube=kube,
                credentials=credentials,
                shared=shared,
            )
        except Exception as e:  # a bug in one app's run must not end the others
            event(
                log,
                "app-crashed",
                logging.ERROR,
                app=app.config.app,
                error=f"{type(e).__name__}: {e}",
            )
            result = RunResult(None, ExitCode.ERROR)
        return AppResult(app, result)

    with ThreadPoolExecutor(max_workers=fleet.concurrency, thread_name_prefix="app") as pool:
        results = tuple(pool.map(one, mine))
    orphans: list[Orphan] = []
    pruned: list[Orphan] = []
    prune_code = int(ExitCode.OK)
    try:
        known = known_apps(kube, fleet)
        orphans = find_orphans(kube, fleet, apps, known)
        decided = removal_verdict(fleet, apps, known, orphans)
        if orphans and not stop.is_set():
            if decided.refused:
                event(log, "prune-removed-apps-refused", logging.ERROR, error=decided.guard)
                prune_code = int(ExitCode.ERROR)
            elif decided.prune:
                pruned, prune_code = prune_removed(
                    kube,
                    discovery,
                    fleet,
                    orphans,
                    shard=shard,
                    log=log,
                    stop=stop,
                    revision=_common_revision(apps),
                )
                orphans = [o for o in orphans if o not in pruned]
        for o in orphans:
            event(
                log,
                "app-orphaned",
                logging.WARNING,
                app=o.name,
                namespace=o.namespace,
                note="no generator makes this app any more; its objects were left in place",
            )
        remember(kube, fleet, apps, orphans)
    except GitOpsError as e:
        event(log, "fleet-state-failed", logging.WARNING, error=str(e))
        prune_code = max(prune_code, int(e.exit_code)) if fleet.prune_removed_apps else prune_code
    out = FleetResult(results, tuple(orphans), tuple(pruned), prune_code)
    event(
        log,
        "fleet-finished",
        logging.INFO if out.exit_code in (0, 1) else logging.ERROR,
        fleet=fleet.name,
        shard=shard,
        exit_code=out.exit_code,
        apps={r.app.config.app: r.result.exit_code for r in results},
        orphaned=[o.name for o in orphans],
        pruned=[o.name for o in pruned],
    )
    return out
