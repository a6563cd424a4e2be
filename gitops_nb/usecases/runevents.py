"""The Events a run tells about its differences, by cause (issue 12).

A difference Git caused is a deployment, never drift; one the cluster caused is drift;
``both`` is told as both. Reasons (documented in the README, "Events"):

- ``DriftDetected`` — objects the cluster moved (cause ``cluster``, ``both``, or
  ``unknown`` from records that cannot say); a Warning in detect mode;
- ``DriftCorrected`` — those of them a correct run wrote back;
- ``Deployed`` — objects a commit changed (cause ``git`` or ``both``), written by a correct
  run, naming the commit and its author;
- ``DeployPending`` — objects a commit changed that a detect run did not write.
"""

from __future__ import annotations

from gitops_nb.model import Action, Cause, Mode, ObjectResult, SyncRun

Event = tuple[str, str, bool]
"""(reason, message, warning)"""


def _names(objects: list[ObjectResult]) -> str:
    return ", ".join(str(o.ref) for o in objects[:5]) + (" …" if len(objects) > 5 else "")


def _cause(o: ObjectResult) -> Cause:
    return o.cause or Cause.UNKNOWN


def difference_events(run: SyncRun) -> list[Event]:
    """DriftDetected / DriftCorrected / Deployed / DeployPending for one run's record."""
    rev = run.revision
    commit = rev.commit[:12] if rev else "?"
    by = f"commit {commit} ({rev.author})" if rev and rev.author else f"commit {commit}"
    differ = [o for o in run.objects if o.status.is_drift]
    drift = [o for o in differ if _cause(o) is not Cause.GIT]
    git = [o for o in differ if _cause(o).is_deployment]
    wrote = (Action.CREATED, Action.CONFIGURED)
    out: list[Event] = []
    if drift:
        out.append(
            (
                "DriftDetected",
                f"{len(drift)} object(s) changed in the cluster, differ from Git at "
                f"{commit}: {_names(drift)}",
                run.mode is Mode.DETECT,
            )
        )
    corrected = [o for o in drift if o.action in wrote]
    if corrected:
        out.append(
            (
                "DriftCorrected",
                f"{len(corrected)} object(s) set back to Git: {_names(corrected)}",
                False,
            )
        )
    deployed = [o for o in git if o.action in wrote]
    if deployed:
        out.append(
            ("Deployed", f"{len(deployed)} object(s) applied from {by}: {_names(deployed)}", False)
        )
    pending = [o for o in git if o.action not in wrote]
    if pending and run.mode is Mode.DETECT:
        out.append(
            (
                "DeployPending",
                f"{len(pending)} object(s) changed by {by}, not applied (detect mode): "
                f"{_names(pending)}",
                False,
            )
        )
    return out
