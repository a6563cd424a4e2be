"""Added fields flow through history: episodes, the drift frame and every report format."""

from __future__ import annotations

import json

from gitops_nb.history.frames import drift
from gitops_nb.history.timeline import CORRECTED, drift_intervals
from gitops_nb.model import Action, FieldChange, Mode
from gitops_nb.report import to_csv, to_html, to_json, to_markdown
from gitops_nb.report.model import from_history
from tests.factories import DEP, at, drifted, in_sync, one, run

LABEL = FieldChange(
    "metadata.labels.team", "ops", None, "kubectl-label", "Update", at(0), op="added"
)


def runs() -> list:  # type: ignore[type-arg]
    return [
        run(0, drifted(LABEL)),
        run(1, drifted(LABEL, action=Action.CONFIGURED), mode=Mode.CORRECT),
        run(2, in_sync()),
    ]


def test_added_field_is_an_episode_with_its_manager_and_resolution() -> None:
    ep = one(drift_intervals(runs()))
    assert (ep["object"], ep["path"], ep["last_manager"]) == (
        str(DEP),
        "metadata.labels.team",
        "kubectl-label",
    )
    assert ep["resolution"] == CORRECTED
    frame = drift(runs())
    assert list(frame["op"]) == ["added", "added"]


def test_history_reports_say_added_by() -> None:
    report = from_history(runs()[:1])
    assert "added by kubectl-label" in to_markdown(report)
    assert "added by kubectl-label" in to_html(report)
    assert ",added" in to_csv(report).splitlines()[1]
    [obj] = json.loads(to_json(report))["objects"]
    assert obj["changes"][0]["op"] == "added"
