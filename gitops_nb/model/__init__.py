"""Records that flow through the pipeline: refs, manifests, diffs, change sets, sync runs.

Every stage returns one of these; the CLI, job, notebooks and reports only format them.
Enums are ``str`` so records serialise to JSON / Parquet unchanged. Import the names from
here (``from gitops_nb.model import SyncRun``); the modules split them by concern:

- :mod:`~gitops_nb.model.names`: the field manager and app label gitops-nb writes under;
- :mod:`~gitops_nb.model.times`: the one time parser and formatter;
- :mod:`~gitops_nb.model.states`: diff status, drift cause, action, outcome, mode, health;
- :mod:`~gitops_nb.model.objects`: refs, manifests, field changes, diffs, change sets;
- :mod:`~gitops_nb.model.records`: the sync-run record and what it holds.
"""

from gitops_nb.model.names import (
    APP_LABEL,
    FIELD_MANAGER,
    OWN_PREFIX,
    RUN_RECORD_PREFIX,
    fleet_state_name,
)
from gitops_nb.model.objects import (
    OP_ADDED,
    OP_CHANGED,
    OP_REMOVED,
    ChangeSet,
    ChangeSetEntry,
    FieldChange,
    Manifest,
    ObjectRef,
    ResourceDiff,
)
from gitops_nb.model.records import (
    COUNT_KEYS,
    REMOVED_TRIGGER,
    SCHEMA_VERSION,
    SUPPORTED_SCHEMAS,
    ObjectResult,
    Revision,
    Signature,
    SyncRun,
    infer_causes,
    sort_runs,
)
from gitops_nb.model.states import (
    Action,
    Cause,
    DiffStatus,
    Health,
    HealthStatus,
    Mode,
    Outcome,
    RunHealth,
)
from gitops_nb.model.times import TIME_UNKNOWN, format_time, parse_time

__all__ = [
    "APP_LABEL",
    "COUNT_KEYS",
    "FIELD_MANAGER",
    "OP_ADDED",
    "OP_CHANGED",
    "OP_REMOVED",
    "OWN_PREFIX",
    "REMOVED_TRIGGER",
    "RUN_RECORD_PREFIX",
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMAS",
    "TIME_UNKNOWN",
    "Action",
    "Cause",
    "ChangeSet",
    "ChangeSetEntry",
    "DiffStatus",
    "FieldChange",
    "Health",
    "HealthStatus",
    "Manifest",
    "Mode",
    "ObjectRef",
    "ObjectResult",
    "Outcome",
    "ResourceDiff",
    "Revision",
    "RunHealth",
    "Signature",
    "SyncRun",
    "fleet_state_name",
    "format_time",
    "infer_causes",
    "parse_time",
    "sort_runs",
]
