"""The sync-run record (schema 3) and the parts it holds: revision, signature and the
per-object result, with loading of older schemas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from gitops_nb.model.names import FIELD_MANAGER
from gitops_nb.model.objects import FieldChange, ObjectRef
from gitops_nb.model.states import Action, Cause, DiffStatus, Health, Mode, Outcome, RunHealth
from gitops_nb.model.times import EPOCH, parse_time

SCHEMA_VERSION = 3
"""Record schema. 3 adds coalescing (``repeats``, ``first_started``, ``last_started``,
``last_finished``, ``last_run_id``); 2 added ``cause`` to field changes and objects. 1 and 2
still load (as records of one run each)."""

SUPPORTED_SCHEMAS = (1, 2, 3)


@dataclass(frozen=True)
class Signature:
    """Who signed the commit (or tag) a run rendered, and whether a trusted key vouched."""

    type: str
    """``gpg``, ``ssh``, ``x509`` or ``none`` (unsigned)."""
    verified: bool = False
    """A good signature by a configured key (False when verification is off)."""
    fingerprint: str = ""
    """The signing key's fingerprint (OpenPGP hex, or SSH ``SHA256:…``) when verified; on a
    refusal, the key the signature names if it can be read (an OpenPGP key id or fingerprint,
    an SSH key fingerprint), else empty."""
    signer: str = ""
    """The key's identity: the OpenPGP user id, or the SSH allowed-signers principal."""
    object: str = "commit"
    """What was signed: ``commit`` or ``tag``."""
    reason: str = ""
    """Why verification refused it (empty when verified or not checked): ``unsigned``,
    ``unknown-key``, ``bad-signature``, ``expired-key``, ``revoked-key``, ``untrusted-kind``
    (e.g. an SSH signature when only OpenPGP keys are trusted), ``not-a-tag``,
    ``tag-mismatch`` or ``rejected`` (any other answer of gpg / ssh-keygen)."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.reason:
            del d["reason"]  # verified or unchecked: records stay as they were
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Signature:
        return cls(
            str(d.get("type", "none")),
            bool(d.get("verified", False)),
            str(d.get("fingerprint", "")),
            str(d.get("signer", "")),
            str(d.get("object", "commit")),
            str(d.get("reason", "")),
        )


@dataclass(frozen=True)
class Revision:
    """The Git commit a run rendered."""

    commit: str
    time: str
    author: str
    message: str
    signature: Signature | None = None
    """Records written before signatures were read have none."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "commit": self.commit,
            "time": self.time,
            "author": self.author,
            "message": self.message,
        }
        if self.signature is not None:
            d["signature"] = self.signature.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Revision:
        sig = d.get("signature")
        return cls(
            str(d.get("commit", "")),
            str(d.get("time", "")),
            str(d.get("author", "")),
            str(d.get("message", "")),
            Signature.from_dict(sig) if isinstance(sig, dict) else None,
        )


@dataclass(frozen=True)
class ObjectResult:
    """Per-object line of a sync-run record."""

    ref: ObjectRef
    action: Action
    status: DiffStatus
    changes: tuple[FieldChange, ...] = ()
    error: str | None = None
    cause: Cause | None = None
    """Why the object differed from Git (None when in sync or not evaluated)."""
    health: Health | None = None
    """The live object's health after the run (None: not assessed, e.g. older records)."""
    adopted: tuple[tuple[str, bool], ...] = ()
    """Fields the last record saw drifted that are now in sync at a new commit: (path, True
    when Git now holds the hand value, False when the value went back). Empty in older
    records and where nothing settled."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            **self.ref.to_dict(),
            "action": str(self.action),
            "status": str(self.status),
            "cause": str(self.cause) if self.cause is not None else None,
            "changes": [c.to_dict() for c in self.changes],
            "error": self.error,
        }
        if self.health is not None:  # absent, not null, so older readers see no change
            d["health"] = self.health.to_dict()
        if self.adopted:  # absent when empty: older readers see no change
            d["adopted"] = dict(self.adopted)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], schema: int = SCHEMA_VERSION) -> ObjectResult:
        result = cls(
            ref=ObjectRef.from_dict(d),
            action=Action(d["action"]),
            status=DiffStatus(d["status"]),
            changes=tuple(FieldChange.from_dict(c) for c in d.get("changes") or ()),
            error=d.get("error"),
            cause=Cause.parse(d.get("cause")),
            health=Health.from_dict(d.get("health")),
            adopted=tuple((str(k), bool(v)) for k, v in (d.get("adopted") or {}).items()),
        )
        return infer_causes(result) if schema < 2 else result


def _inferred(change: FieldChange) -> FieldChange:
    if change.cause is not None:
        return change
    if change.manager == FIELD_MANAGER:
        cause = Cause.GIT
    elif change.manager:
        cause = Cause.CLUSTER
    else:
        cause = Cause.UNKNOWN
    return replace(change, cause=cause)


def infer_causes(result: ObjectResult) -> ObjectResult:
    """A schema-1 line with causes inferred from what it holds; UNKNOWN where it can't say.

    Schema 1 recorded the owner of each live value but not the cause: our default field
    manager means Git moved, another manager the cluster. Whether a Missing object was new
    or deleted by hand was not recorded (UNKNOWN); an Extraneous one had left Git (GIT).
    """
    if not result.status.is_drift or result.cause is not None:
        return result
    changes = tuple(_inferred(c) for c in result.changes)
    if result.status is DiffStatus.EXTRANEOUS:
        cause: Cause | None = Cause.GIT
    elif result.status is DiffStatus.MISSING:
        cause = Cause.UNKNOWN
    else:
        cause = Cause.combine(c.cause for c in changes) or Cause.UNKNOWN
    return replace(result, changes=changes, cause=cause)


COUNT_KEYS = ("desired", "in_sync", "drifted", "created", "configured", "pruned", "failed")


REMOVED_TRIGGER = "app-removed"
"""The trigger of the last record a fleet writes for an app it pruned (``history fleet``
shows the app as removed)."""


@dataclass(frozen=True)
class SyncRun:
    """One reconciliation, exactly the row history analysis reads later (schema 3).

    A record may stand for ``repeats`` consecutive runs that saw the same state (same commit,
    same per-object results, no writes; see :mod:`gitops_nb.records.coalesce`). ``run_id``,
    ``started``, ``finished`` and ``duration_s`` are then the first run's, and ``last_*`` the
    last run's. For a record of one run the ``last_*`` fields equal the first run's.
    """

    run_id: str
    app: str
    started: str
    finished: str
    duration_s: float
    trigger: str
    mode: Mode
    revision: Revision | None
    outcome: Outcome
    counts: dict[str, int]
    objects: tuple[ObjectResult, ...] = ()
    error: str | None = None
    schema: int = SCHEMA_VERSION
    ignore: tuple[str, ...] = ()
    """The ignore rules in force for this run, as written in the config (defaults first)."""
    repeats: int = 1
    """How many consecutive runs this record stands for (1 before schema 3)."""
    last_started: str = ""
    """Start of the last run coalesced into this record (empty: the first run's)."""
    last_finished: str = ""
    """End of the last run coalesced into this record (empty: the first run's)."""
    last_run_id: str = ""
    """Run id of the last run coalesced into this record (empty: the first run's)."""
    health: RunHealth | None = None
    """The run's health (None: not assessed, e.g. records from before health existed)."""
    healthy_at: str | None = None
    """When every object was first seen Current in this run (``--wait``), else None."""

    def __post_init__(self) -> None:
        if self.repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {self.repeats} (run {self.run_id})")
        # a record of one run: its last run is its first (frozen, so set through object)
        for name, first in (
            ("last_started", self.started),
            ("last_finished", self.finished),
            ("last_run_id", self.run_id),
        ):
            if not getattr(self, name):
                object.__setattr__(self, name, first)

    @property
    def first_started(self) -> str:
        """Start of the first run this record stands for (``started``)."""
        return self.started

    @property
    def run_ids(self) -> tuple[str, ...]:
        """The run ids a retried write may carry: the first and the last run's."""
        return (self.run_id, self.last_run_id)

    @property
    def order(self) -> tuple[dt.datetime, str]:
        """Start time, then run id (for determinism): the order runs happened in."""
        return (parse_time(self.started) or EPOCH, self.run_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "run_id": self.run_id,
            "app": self.app,
            "started": self.started,
            "finished": self.finished,
            "duration_s": self.duration_s,
            "trigger": self.trigger,
            "mode": str(self.mode),
            "revision": self.revision.to_dict() if self.revision else None,
            "outcome": str(self.outcome),
            "counts": dict(self.counts),
            "objects": [o.to_dict() for o in self.objects],
            "error": self.error,
            "ignore": list(self.ignore),
            "repeats": self.repeats,
            "first_started": self.started,
            "last_started": self.last_started,
            "last_finished": self.last_finished,
            "last_run_id": self.last_run_id,
            **({"health": str(self.health)} if self.health is not None else {}),
            **({"healthy_at": self.healthy_at} if self.healthy_at else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SyncRun:
        schema = int(d.get("schema", 0))
        if schema not in SUPPORTED_SCHEMAS:
            raise ValueError(
                f"unsupported sync-run record schema {schema!r} (run {d.get('run_id')})"
            )
        rev = d.get("revision")
        return cls(
            run_id=str(d["run_id"]),
            app=str(d["app"]),
            started=str(d["started"]),
            finished=str(d["finished"]),
            duration_s=float(d["duration_s"]),
            trigger=str(d.get("trigger", "")),
            mode=Mode(d["mode"]),
            revision=Revision.from_dict(rev) if rev else None,
            outcome=Outcome(d["outcome"]),
            counts={k: int(v) for k, v in (d.get("counts") or {}).items()},
            objects=tuple(ObjectResult.from_dict(o, schema) for o in d.get("objects") or ()),
            error=d.get("error"),
            schema=schema,
            ignore=tuple(str(r) for r in d.get("ignore") or ()),  # absent before rules existed
            # schema 1 and 2 records stand for one run: the defaults say so
            repeats=int(d.get("repeats", 1)) if schema >= 3 else 1,
            last_started=str(d.get("last_started") or "") if schema >= 3 else "",
            last_finished=str(d.get("last_finished") or "") if schema >= 3 else "",
            last_run_id=str(d.get("last_run_id") or "") if schema >= 3 else "",
            health=RunHealth(d["health"]) if d.get("health") else None,
            healthy_at=d.get("healthy_at") or None,
        )


def sort_runs(records: Iterable[SyncRun]) -> list[SyncRun]:
    """Runs in the order they started (ties broken by run id)."""
    return sorted(records, key=lambda r: r.order)
