"""gitops-nb: GitOps on Kubernetes that is real and auditable.

Public API: notebooks and users import only from here.
"""

from __future__ import annotations

from gitops_nb.errors import ExitCode, GitOpsError
from gitops_nb.model import (
    Action,
    ChangeSet,
    DiffStatus,
    FieldChange,
    Manifest,
    Mode,
    ObjectRef,
    Outcome,
    ResourceDiff,
    Revision,
    SyncRun,
)

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ChangeSet",
    "DiffStatus",
    "ExitCode",
    "FieldChange",
    "GitOpsError",
    "Manifest",
    "Mode",
    "ObjectRef",
    "Outcome",
    "ResourceDiff",
    "Revision",
    "SyncRun",
    "__version__",
]
