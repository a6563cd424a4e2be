"""Names gitops-nb writes under in a cluster: its field manager and its app label."""

from __future__ import annotations

FIELD_MANAGER = "gitops-nb"
"""Our server-side apply field manager (the default of ``SyncOptions.field_manager``)."""


APP_LABEL = "gitops-nb.io/app"
"""Label naming the app on everything gitops-nb writes for it (parent, records)."""


OWN_PREFIX = "gitops-nb."
"""Names of the reconciler's own objects in an app's namespace: the ApplySet parent and Lease
``gitops-nb.<app>``, a fleet's memory ``gitops-nb.fleet.<fleet>``. Reserved: no app may
write them (:mod:`gitops_nb.engine.policy`)."""

RUN_RECORD_PREFIX = "gitops-nb-run-"
"""Names of the sync-run record ConfigMaps (``gitops-nb-run-<app>-<time>-<id>``); reserved."""


def fleet_state_name(fleet: str) -> str:
    """The ConfigMap in which a fleet remembers its apps."""
    return f"{OWN_PREFIX}fleet.{fleet}"
