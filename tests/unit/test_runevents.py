"""Events by cause: a deployment is never told as drift (issue 12)."""

from __future__ import annotations

from gitops_nb.model import Action, Cause, DiffStatus, Mode, ObjectRef, ObjectResult
from gitops_nb.usecases.runevents import difference_events
from tests.factories import run

WEB = ObjectRef("apps/v1", "Deployment", "prod", "web")
SVC = ObjectRef("v1", "Service", "prod", "web")
CM = ObjectRef("v1", "ConfigMap", "prod", "web")


def _line(ref: ObjectRef, cause: Cause, action: Action = Action.CONFIGURED) -> ObjectResult:
    status = DiffStatus.MISSING if action is Action.CREATED else DiffStatus.DRIFTED
    return ObjectResult(ref, action, status, cause=cause)


def test_a_first_deploy_is_deployed_never_drift() -> None:
    first = run(0, _line(WEB, Cause.GIT, Action.CREATED), _line(SVC, Cause.GIT, Action.CREATED),
                mode=Mode.CORRECT)  # fmt: skip
    [(reason, message, warning)] = difference_events(first)
    assert reason == "Deployed" and not warning
    assert message.startswith("2 object(s) applied from commit ")
    assert "Deployment/prod/web" in message


def test_drift_is_detected_and_corrected_and_both_is_told_as_both() -> None:
    r = run(0, _line(WEB, Cause.BOTH), _line(SVC, Cause.CLUSTER), _line(CM, Cause.GIT),
            mode=Mode.CORRECT)  # fmt: skip
    events = {reason: message for reason, message, _ in difference_events(r)}
    assert set(events) == {"DriftDetected", "DriftCorrected", "Deployed"}
    assert events["DriftDetected"].startswith("2 object(s) changed in the cluster")
    assert "ConfigMap" not in events["DriftCorrected"]
    assert "Deployment/prod/web" in events["Deployed"] and "Service" not in events["Deployed"]


def test_detect_mode_warns_of_drift_and_says_a_deploy_is_pending() -> None:
    r = run(0, _line(WEB, Cause.CLUSTER, Action.SKIPPED), _line(CM, Cause.GIT, Action.SKIPPED))
    events = difference_events(r)
    assert [(reason, warning) for reason, _, warning in events] == [
        ("DriftDetected", True),
        ("DeployPending", False),
    ]


def test_a_record_that_cannot_say_counts_as_drift() -> None:
    r = run(0, _line(WEB, Cause.UNKNOWN, Action.SKIPPED))
    assert [e[0] for e in difference_events(r)] == ["DriftDetected"]
