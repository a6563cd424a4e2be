"""What a run found and did, as ``str`` enums: diff status, drift cause, action, outcome,
mode and health."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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
