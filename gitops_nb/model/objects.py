"""Objects and what differs about them: refs, manifests, field changes, resource diffs and
the change set an apply writes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gitops_nb.model.states import Action, Cause, DiffStatus
from gitops_nb.model.times import TIME_UNKNOWN


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
        return self.time or (TIME_UNKNOWN if self.manager else "")

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
