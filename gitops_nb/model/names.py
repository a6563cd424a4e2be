"""Names gitops-nb writes under in a cluster: its field manager and its app label."""

from __future__ import annotations

FIELD_MANAGER = "gitops-nb"
"""Our server-side apply field manager (the default of ``SyncOptions.field_manager``)."""


APP_LABEL = "gitops-nb.io/app"
"""Label naming the app on everything gitops-nb writes for it (parent, records)."""
