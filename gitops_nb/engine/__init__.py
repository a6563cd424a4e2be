"""Engine stage: plan · apply · prune one app against one cluster, with server-side apply.

``desired`` prepares Git's objects (kinds, namespaces, ApplySet label), ``evaluate`` reads
live objects and dry-runs desired ones, ``diff`` compares them (pure),
``plan`` evaluates a whole app with the one fast path, ``apply`` and ``prune`` act on the
plan, ``applyset``/``parent``/``fingerprint`` keep the inventory, ``ordering`` ranks kinds.
"""

from __future__ import annotations

from gitops_nb.engine.engine import Engine
from gitops_nb.engine.options import FIELD_MANAGER, SyncOptions
from gitops_nb.engine.progress import EngineProgress
from gitops_nb.engine.report import DiffReport, ObjectCallback

__all__ = [
    "FIELD_MANAGER",
    "DiffReport",
    "Engine",
    "EngineProgress",
    "ObjectCallback",
    "SyncOptions",
]
