"""Records that flow through the pipeline: refs, manifests, diffs, change sets, sync runs.

Every stage returns one of these; the CLI, job, notebooks and reports only format them.
Enums are ``str`` so records serialise to JSON / Parquet unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 1


APP_LABEL = "gitops-nb.io/app"
"""Label naming the app on everything gitops-nb writes for it (parent, records)."""


def parse_time(value: str | None) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive means UTC); None if empty."""
    if not value:
        return None
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


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

    @property
    def ends_drift(self) -> bool:
        """Only completed runs can observe that drift is gone."""
        return self is Outcome.SUCCEEDED


class Mode(StrEnum):
    """Reconciler mode: ``correct`` self-heals, ``detect`` only records drift."""

    CORRECT = "correct"
    DETECT = "detect"


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
    """One drifted field: its path, both values, and who owns the live value."""

    path: str
    live: Any
    desired: Any
    manager: str | None = None
    operation: str | None = None
    time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FieldChange:
        return cls(
            path=str(d["path"]),
            live=d.get("live"),
            desired=d.get("desired"),
            manager=d.get("manager"),
            operation=d.get("operation"),
            time=d.get("time"),
        )


@dataclass(frozen=True)
class ResourceDiff:
    """Result of comparing one object's desired state with the cluster."""

    ref: ObjectRef
    status: DiffStatus
    changes: tuple[FieldChange, ...] = ()
    diff_text: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {**self.ref.to_dict(), "status": str(self.status)}
        d["changes"] = [c.to_dict() for c in self.changes]
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
class Revision:
    """The Git commit a run rendered."""

    commit: str
    time: str
    author: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Revision:
        return cls(
            str(d.get("commit", "")),
            str(d.get("time", "")),
            str(d.get("author", "")),
            str(d.get("message", "")),
        )


@dataclass(frozen=True)
class ObjectResult:
    """Per-object line of a sync-run record."""

    ref: ObjectRef
    action: Action
    status: DiffStatus
    changes: tuple[FieldChange, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.ref.to_dict(),
            "action": str(self.action),
            "status": str(self.status),
            "changes": [c.to_dict() for c in self.changes],
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ObjectResult:
        return cls(
            ref=ObjectRef.from_dict(d),
            action=Action(d["action"]),
            status=DiffStatus(d["status"]),
            changes=tuple(FieldChange.from_dict(c) for c in d.get("changes") or ()),
            error=d.get("error"),
        )


COUNT_KEYS = ("desired", "in_sync", "drifted", "created", "configured", "pruned", "failed")


@dataclass(frozen=True)
class SyncRun:
    """One reconciliation, exactly the row history analysis reads later (schema 1)."""

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
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SyncRun:
        schema = int(d.get("schema", 0))
        if schema != SCHEMA_VERSION:
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
            objects=tuple(ObjectResult.from_dict(o) for o in d.get("objects") or ()),
            error=d.get("error"),
            schema=schema,
        )
