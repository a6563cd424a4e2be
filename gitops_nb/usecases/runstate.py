"""What a reconcile run hands around: its result, what a fleet shares, how far it got."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from gitops_nb.engine import DiffReport
from gitops_nb.engine.wait import HealthReport
from gitops_nb.kube.discovery import Discovery
from gitops_nb.kube.sharedlists import SharedLists
from gitops_nb.model import ChangeSet, Revision, SyncRun
from gitops_nb.source.git import Checkout

Clock = Callable[[], dt.datetime]
"""Where a record's ``started``/``finished`` come from (aware UTC); the demo injects its own."""


def now() -> dt.datetime:
    """The real time (aware UTC): the default :data:`Clock`."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class RunResult:
    """One reconcile: its record (None when the Lease was held) and the exit code."""

    run: SyncRun | None
    exit_code: int


@dataclass(frozen=True)
class Shared:
    """What a fleet run shares across its apps (see :mod:`gitops_nb.usecases.fleet`)."""

    checkout: Checkout | None = None
    """The app's commit, already fetched and checked out (one fetch per repo and commit)."""
    discovery: Discovery | None = None
    """One discovery cache for every app."""
    lists: SharedLists | None = None
    """The fleet run's metadata LISTs per kind and namespace, shared by its apps."""


@dataclass
class Reached:
    """How far a run got: what the record can say when the run stops early."""

    revision: Revision | None = None
    report: DiffReport | None = None
    changes: ChangeSet = field(default_factory=ChangeSet)
    applied: bool = False
    health: HealthReport | None = None
