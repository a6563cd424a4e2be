"""gitops-nb: GitOps on Kubernetes that is real and auditable.

Public API: notebooks and users import only from here (and from the ``history`` and
``report`` subpackages). The records below are plain data; the use cases run one verb for
one app::

    from gitops_nb import SourceSpec, SyncOptions, diff_app
    result = diff_app(SourceSpec("./deploy", "main", "apps/web"), SyncOptions(app="web"))

Heavier names (the engine, the use cases) are imported on first use (PEP 562), so
``import gitops_nb.model`` stays cheap and no layer below imports the ones above.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from gitops_nb.config import AppConfig
    from gitops_nb.engine import DiffReport, Engine, SyncOptions
    from gitops_nb.source import SourceSpec
    from gitops_nb.usecases.reconcile import reconcile_app
    from gitops_nb.usecases.runstate import RunResult
    from gitops_nb.usecases.sync import ApplyResult, DiffResult, apply_app, diff_app

__version__ = "0.1.0"

_LAZY = {
    "AppConfig": "gitops_nb.config",
    "DiffReport": "gitops_nb.engine",
    "Engine": "gitops_nb.engine",
    "SyncOptions": "gitops_nb.engine",
    "SourceSpec": "gitops_nb.source",
    "RunResult": "gitops_nb.usecases.runstate",
    "reconcile_app": "gitops_nb.usecases.reconcile",
    "ApplyResult": "gitops_nb.usecases.sync",
    "DiffResult": "gitops_nb.usecases.sync",
    "apply_app": "gitops_nb.usecases.sync",
    "diff_app": "gitops_nb.usecases.sync",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gitops_nb' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "Action",
    "AppConfig",
    "ApplyResult",
    "ChangeSet",
    "DiffReport",
    "DiffResult",
    "DiffStatus",
    "Engine",
    "ExitCode",
    "FieldChange",
    "GitOpsError",
    "Manifest",
    "Mode",
    "ObjectRef",
    "Outcome",
    "ResourceDiff",
    "Revision",
    "RunResult",
    "SourceSpec",
    "SyncOptions",
    "SyncRun",
    "__version__",
    "apply_app",
    "diff_app",
    "reconcile_app",
]
