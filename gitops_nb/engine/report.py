"""The result of evaluating an app against the cluster: :class:`DiffReport`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitops_nb.engine import fingerprint
from gitops_nb.engine.evaluate import Evaluated
from gitops_nb.model import Action, DiffStatus, ObjectRef, ResourceDiff

ObjectCallback = Callable[[ObjectRef, Action, str | None], None]
"""Called as each object is applied or pruned: ``(ref, action, error)``."""


@dataclass
class DiffReport:
    """Every desired and extraneous object, evaluated against the cluster."""

    app: str
    items: list[Evaluated] = field(default_factory=list)
    inventory_size: int = 0
    """Live members of the ApplySet when the report was made."""
    fingerprints: dict[str, fingerprint.Fingerprint] = field(default_factory=dict)
    """Objects verified in sync, with their fingerprints (see :mod:`.fingerprint`)."""
    parent: dict[str, Any] | None = None
    stats: dict[str, int] = field(default_factory=dict)
    """How the verdicts were reached: ``fast`` (fingerprint), ``precise`` (dry-run),
    ``members`` (live ApplySet members listed)."""
    warnings: list[str] = field(default_factory=list)
    """Things a human should know that are not about one object (a missing inventory)."""
    adopted: dict[ObjectRef, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    """Fields the last record saw drifted, in sync now at a new commit: did Git adopt the
    hand value (:func:`gitops_nb.engine.cause.settled`; recorded as ``adopted``)."""

    @property
    def diffs(self) -> list[ResourceDiff]:
        return [e.diff for e in self.items]

    @property
    def drifted(self) -> list[Evaluated]:
        return [e for e in self.items if e.status.is_drift]

    @property
    def errors(self) -> list[Evaluated]:
        return [e for e in self.items if e.status is DiffStatus.ERROR]

    def by_ref(self) -> dict[ObjectRef, Evaluated]:
        return {e.ref: e for e in self.items}
