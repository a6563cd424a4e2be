"""Records that flow through the pipeline: refs, manifests, diffs, change sets, sync runs.

Every stage returns one of these; the CLI, job, notebooks and reports only format them.
Enums are ``str`` so records serialise to JSON / Parquet unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 3
"""Record schema. 3 adds coalescing (``repeats``, ``first_started``, ``last_started``,
``last_finished``, ``last_run_id``); 2 added ``cause`` to field changes and objects. 1 and 2
still load (as records of one run each)."""

SUPPORTED_SCHEMAS = (1, 2, 3)

FIELD_MANAGER = "gitops-nb"
"""Our server-side apply field manager (the default of ``SyncOptions.field_manager``)."""


APP_LABEL = "gitops-nb.io/app"
"""Label naming the app on everything gitops-nb writes for it (parent, records)."""


_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def parse_time(value: str | None) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive means UTC); None if empty.

    The one time parser: records, history frames (``history.frames.to_utc``), reports, the
    notebooks and the CLI all read times through it.
    """
    if not value:
        return None
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def format_time(t: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC (naive means UTC): how records, Events and reports
    write a time to the second."""
    t = t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class DiffStatus(StrEnum):
    """How one desired (or inventoried) object compares with the live cluster."""

    IN_SYNC = "InSync"
    DRIFTED = "Drifted"
    MISSING = "Missing"
    EXTRANEOUS = "Extraneous"
    ERROR = "Error"

    @property
    def is_drift(self) -> bool:
        """True when the cluster differs from Git for this object."""
        return self in (DiffStatus.DRIFTED, DiffStatus.MISSING, DiffStatus.EXTRANEOUS)


class Cause(StrEnum):
    """Why Git and the cluster differ (see DESIGN.md, "What the record must mean")."""

    GIT = "git"
    """Git moved: a commit changed the desired state, or the object is new."""
    CLUSTER = "cluster"
    """The cluster moved: another manager wrote the value, or deleted our object."""
    BOTH = "both"
    """Both at once: another manager's value, and Git changed the desired value too."""
    UNKNOWN = "unknown"
    """Not recorded (schema 1 records where it cannot be inferred)."""

    @property
    def is_drift(self) -> bool:
        """True when someone other than us moved the cluster."""
        return self in (Cause.CLUSTER, Cause.BOTH)

    @property
    def is_deployment(self) -> bool:
        """True when Git moved."""
        return self in (Cause.GIT, Cause.BOTH)

    @classmethod
    def parse(cls, value: Any) -> Cause | None:
        """A recorded cause; None when absent, UNKNOWN when not one we know."""
        if value is None or value == "":
            return None
        try:
            return cls(str(value))
        except ValueError:
            return cls.UNKNOWN

    @classmethod
    def combine(cls, causes: Iterable[Cause | None]) -> Cause | None:
        """The object-level cause of several field causes."""
        found = {c for c in causes if c is not None}
        if not found:
            return None
        if len(found) == 1:
            return next(iter(found))
        if Cause.UNKNOWN in found:
            return Cause.UNKNOWN
        return Cause.BOTH


class Action(StrEnum):
    """What apply/prune did to one object."""

    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"
    PRUNED = "pruned"
    SKIPPED = "skipped"
    FAILED = "failed"

    @property
    def is_write(self) -> bool:
        return self in (Action.CREATED, Action.CONFIGURED, Action.PRUNED)


class Outcome(StrEnum):
    """How a whole sync run ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"
    REFUSED = "refused"
    """Commit verification failed: nothing was rendered or written."""

    @property
    def ends_drift(self) -> bool:
        """Only completed runs can observe that drift is gone."""
        return self is Outcome.SUCCEEDED


class Mode(StrEnum):
    """Reconciler mode: ``correct`` self-heals, ``detect`` only records drift."""

    CORRECT = "correct"
    DETECT = "detect"


class HealthStatus(StrEnum):
    """kstatus's statuses (``sigs.k8s.io/cli-utils/pkg/kstatus/status``), computed by
    :func:`gitops_nb.engine.health.assess`."""

    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    TERMINATING = "Terminating"
    NOT_FOUND = "NotFound"
    UNKNOWN = "Unknown"

    @property
    def is_healthy(self) -> bool:
        return self is HealthStatus.CURRENT


class RunHealth(StrEnum):
    """One run's health, from its objects' (:func:`gitops_nb.engine.health.run_health`)."""

    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"


@dataclass(frozen=True)
class Health:
    """One object's health: a status, a CamelCase reason and a message for people."""

    status: HealthStatus
    reason: str = ""
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"status": str(self.status), "reason": self.reason, "message": self.message}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Health | None:
        if not d:
            return None
        return cls(HealthStatus(d["status"]), str(d.get("reason", "")), str(d.get("message", "")))


@dataclass(frozen=True, order=True)
class ObjectRef:
    """Identity of a Kubernetes object. ``namespace`` is "" for cluster-scoped objects."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity used for duplicate detection: group (not version), kind, namespace, name."""
        return (self.group, self.kind, self.namespace, self.name)

    def __str__(self) -> str:
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    def to_dict(self) -> dict[str, str]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ObjectRef:
        return cls(
            str(d.get("apiVersion", "")),
            str(d.get("kind", "")),
            str(d.get("namespace") or ""),
            str(d.get("name", "")),
        )

    @classmethod
    def of(cls, obj: dict[str, Any]) -> ObjectRef:
        """Identity of a Kubernetes object dict."""
        meta = obj.get("metadata") or {}
        return cls(
            str(obj.get("apiVersion", "")),
            str(obj.get("kind", "")),
            str(meta.get("namespace") or ""),
            str(meta.get("name", "")),
        )


@dataclass(frozen=True)
class Manifest:
    """One rendered object from Git, with where it came from (for error messages)."""

    obj: dict[str, Any]
    source: str
    line: int = 1

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef.of(self.obj)

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass(frozen=True)
class FieldChange:
    """One differing field: its path, both values, who owns the live value, and why.

    ``op`` says what kind of difference it is: ``changed`` (Git sets another value),
    ``added`` (another manager set a field Git does not set) or ``removed`` (Git sets a
    field the cluster lacks). ``cause`` says who moved: Git, the cluster, or both.
    """

    path: str
    live: Any
    desired: Any
    manager: str | None = None
    operation: str | None = None
    time: str | None = None
    cause: Cause | None = None
    """Git moved, the cluster moved, or both (None: not classified yet)."""
    op: str = "changed"

    @property
    def changed_by(self) -> str:
        """The "changed by" cell of every table: ``added by kubectl-label`` for an addition."""
        who = self.manager or "(unknown)"
        if self.op == OP_ADDED:
            return f"added by {who}"
        if self.op == OP_REMOVED and not self.manager and self.cause in (Cause.CLUSTER, Cause.BOTH):
            return "removed by hand (manager unknown)"  # a removal leaves no managedFields
        return who

    @property
    def time_text(self) -> str:
        """The "when" cell: the manager's time, ``time unknown`` when a manager wrote without
        one (``kubectl scale`` through the scale subresource), "" when no manager is known."""
        return self.time or ("time unknown" if self.manager else "")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.cause is None:
            del d["cause"]
        else:
            d["cause"] = str(self.cause)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FieldChange:
        return cls(
            path=str(d["path"]),
            live=d.get("live"),
            desired=d.get("desired"),
            manager=d.get("manager"),
            operation=d.get("operation"),
            time=d.get("time"),
            cause=Cause.parse(d.get("cause")),
            op=str(d.get("op") or "changed"),  # records before ``op`` existed
        )


OP_CHANGED, OP_ADDED, OP_REMOVED = "changed", "added", "removed"


@dataclass(frozen=True)
class ResourceDiff:
    """Result of comparing one object's desired state with the cluster."""

    ref: ObjectRef
    status: DiffStatus
    changes: tuple[FieldChange, ...] = ()
    diff_text: str = ""
    error: str | None = None
    cause: Cause | None = None
    """Why the object differs (None when in sync, failed or not classified)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {**self.ref.to_dict(), "status": str(self.status)}
        d["changes"] = [c.to_dict() for c in self.changes]
        if self.cause is not None:
            d["cause"] = str(self.cause)
        if self.error:
            d["error"] = self.error
        return d


@dataclass(frozen=True)
class ChangeSetEntry:
    """What apply/prune did to one object."""

    ref: ObjectRef
    action: Action
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {**self.ref.to_dict(), "action": str(self.action)}
        if self.error:
            d["error"] = self.error
        return d


@dataclass
class ChangeSet:
    """Ordered result of one apply (and prune)."""

    entries: list[ChangeSetEntry] = field(default_factory=list)

    def add(self, ref: ObjectRef, action: Action, error: str | None = None) -> None:
        self.entries.append(ChangeSetEntry(ref, action, error))

    def counts(self) -> dict[str, int]:
        out = {str(a): 0 for a in Action}
        for e in self.entries:
            out[str(e.action)] += 1
        return out

    @property
    def failed(self) -> list[ChangeSetEntry]:
        return [e for e in self.entries if e.action is Action.FAILED]

    @property
    def writes(self) -> int:
        return sum(1 for e in self.entries if e.action.is_write)

    def to_dict(self) -> dict[str, Any]:
        return {"entries": [e.to_dict() for e in self.entries], "counts": self.counts()}


@dataclass(frozen=True)
class Signature:
    """Who signed the commit (or tag) a run rendered, and whether a trusted key vouched."""

    type: str
    """``gpg``, ``ssh``, ``x509`` or ``none`` (unsigned)."""
    verified: bool = False
    """A good signature by a configured key (False when verification is off)."""
    fingerprint: str = ""
    """The signing key's fingerprint (OpenPGP hex, or SSH ``SHA256:…``) when verified."""
    signer: str = ""
    """The key's identity: the OpenPGP user id, or the SSH allowed-signers principal."""
    object: str = "commit"
    """What was signed: ``commit`` or ``tag``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Signature:
        return cls(
            str(d.get("type", "none")),
            bool(d.get("verified", False)),
            str(d.get("fingerprint", "")),
            str(d.get("signer", "")),
            str(d.get("object", "commit")),
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
        return (parse_time(self.started) or _EPOCH, self.run_id)

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
