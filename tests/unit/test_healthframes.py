"""Health over time from records: episodes, time to healthy, restores, DORA figures."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from gitops_nb import history
from gitops_nb.history.healthframes import EPISODES_TITLE
from gitops_nb.model import (
    Action,
    Cause,
    DiffStatus,
    Health,
    HealthStatus,
    Mode,
    ObjectRef,
    ObjectResult,
    RunHealth,
    SyncRun,
)
from tests.factories import DEP, T0, at, change, drifted, in_sync, revision, run

IMAGE = "spec.template.spec.containers[name=web].image"

CUR = Health(HealthStatus.CURRENT)
BAD = Health(HealthStatus.FAILED, "ProgressDeadlineExceeded", "timed out progressing")


def healthy(o: ObjectResult, h: Health) -> ObjectResult:
    return replace(o, health=h)


def hrun(
    hour: float,
    h: Health,
    commit: str,
    *,
    health: RunHealth | None = None,
    message: str = "m",
    applies: bool = True,
) -> SyncRun:
    """A correct-mode run at ``commit``; ``applies``: the first run at a commit that changed
    the app finds Git's difference and writes it (as real runs record)."""
    seen = (
        drifted(change(IMAGE, "old", "new", "gitops-nb", "Apply"), action=Action.CONFIGURED)
        if applies
        else in_sync()
    )
    if applies:
        seen = replace(seen, cause=Cause.GIT)
    r = run(hour, healthy(seen, h), mode=Mode.CORRECT, commit=commit)
    rh = health or (RunHealth.HEALTHY if h.status.is_healthy else RunHealth.DEGRADED)
    return replace(
        r,
        revision=revision(commit, at(hour - 0.5), message=message),
        health=rh,
        healthy_at=at(hour + 0.005) if rh is RunHealth.HEALTHY else None,
    )


STORY = [
    hrun(0, CUR, "good"),
    hrun(1, BAD, "bad"),
    hrun(2, BAD, "bad", applies=False),
    hrun(3, CUR, "fix", message='Revert "bad"\n\nThis reverts commit bad0bad0bad0bad0.'),
]


def test_health_intervals_open_and_close_like_drift_episodes() -> None:
    iv = history.health_intervals(STORY)
    assert len(iv) == 1
    row = iv.iloc[0]
    assert row["object"] == str(DEP) and row["status"] == "Failed"
    assert row["reason"] == "ProgressDeadlineExceeded" and row["runs"] == 2
    assert row["first_seen"] == pd.Timestamp(at(1)) and row["commit"] == "bad"
    assert not row["open"] and row["restored_by_commit"] == "fix"
    assert row["duration"] == pd.Timestamp(at(3.005)) - pd.Timestamp(at(1))
    # left unhealthy: the episode is open
    still = history.health_intervals(STORY[:3])
    assert bool(still.iloc[0]["open"]) and pd.isna(still.iloc[0]["healthy_at"])


def test_episodes_are_not_current_after_the_run_and_say_whether_the_object_was_synced() -> None:
    """A bad rollout that the run applied is "synced but not Current"; a Service deleted by
    hand and seen by a detect run is an episode too (NotFound), but not a synced one."""
    svc = ObjectRef("v1", "Service", "web", "api")
    gone = Health(HealthStatus.NOT_FOUND, "NotFound", "object not found")
    deleted = replace(
        run(3.5, ObjectResult(svc, Action.UNCHANGED, DiffStatus.MISSING, cause=Cause.CLUSTER)),
        health=RunHealth.DEGRADED,
    )
    deleted = replace(deleted, objects=(healthy(deleted.objects[0], gone),))
    iv = history.health_intervals([*STORY, deleted]).set_index("object")
    assert bool(iv.loc[str(DEP), "synced"])  # applied by run 1, in sync in run 2
    assert iv.loc[str(svc), "status"] == "NotFound" and not bool(iv.loc[str(svc), "synced"])
    # the titles say what the rows are: not Current after the run, whatever the sync
    assert EPISODES_TITLE == "Unhealthy episodes (not Current after the run)"


def test_the_report_and_the_cli_show_the_synced_column_under_the_same_title(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops_nb.cli import main
    from gitops_nb.records.files import write_run

    for r in STORY[:3]:
        write_run(tmp_path, r)
    assert main(["history", "health", "--history-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{EPISODES_TITLE}:" in out
    assert "synced" in out.split("Time to healthy")[0]
    args = ["report", "--history-dir", str(tmp_path), "--format", "markdown", "-o", "-"]
    assert main(args) == 0
    md = capsys.readouterr().out
    assert f"### {EPISODES_TITLE}" in md
    assert "| In sync |" in md and "| yes |" in md


def test_records_without_health_are_skipped() -> None:
    old = run(5, in_sync(), mode=Mode.CORRECT)  # no health recorded
    assert history.health_intervals([old]).empty
    assert list(history.health_intervals([]).columns)[:2] == ["app", "api_version"]
    iv = history.health_intervals([*STORY[:2], old])
    assert bool(iv.iloc[0]["open"])  # neither opened nor closed by the old record


def test_time_to_healthy_per_commit() -> None:
    t = history.time_to_healthy(STORY).set_index("commit")
    assert t.loc["good", "time_to_healthy"] == pd.Timestamp(at(0.005)) - pd.Timestamp(at(-0.5))
    assert t.loc["good", "lead_time"] == pd.Timedelta(minutes=30)
    assert bool(t.loc["bad", "degraded"]) and pd.isna(t.loc["bad", "healthy_at"])
    assert bool(t.loc["fix", "is_revert"]) and not bool(t.loc["fix", "degraded"])


def test_restores_and_dora() -> None:
    r = history.restores(STORY)
    assert len(r) == 1
    assert r.iloc[0]["time_to_restore"] == pd.Timestamp(at(3.005)) - pd.Timestamp(at(1))
    assert r.iloc[0]["restored_by_commit"] == "fix"
    d = history.dora(STORY).iloc[0]
    assert d["deployments"] == 3 and d["failed_changes"] == 1
    assert abs(d["change_failure_rate"] - 1 / 3) < 1e-9
    assert d["restores"] == 1 and d["time_to_restore_median"] == r.iloc[0]["time_to_restore"]
    assert T0.tzinfo is not None


def test_a_commit_that_changed_nothing_for_the_app_is_not_its_deployment() -> None:
    """A repository shared by many apps: most commits change none of this app's objects.
    The app renders them (they are listed) but they are not its deployments."""
    other = hrun(4, CUR, "other-app", applies=False)
    deps = history.deployments([*STORY, other]).set_index("commit")
    assert not bool(deps.loc["other-app", "effective"])
    assert deps["effective"].sum() == 3
    d = history.dora([*STORY, other]).iloc[0]
    assert d["deployments"] == 3 and d["failed_changes"] == 1
    assert history.change_failure(deps)["deployments"] == 3


def test_cli_history_health_and_dora(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gitops_nb.cli import main
    from gitops_nb.records.files import write_run

    for r in STORY:
        write_run(tmp_path, r)
    assert main(["history", "health", "--history-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Unhealthy episodes" in out and "ProgressDeadlineExceeded" in out
    assert "Time to healthy" in out and "DORA:" in out
    assert main(["history", "dora", "--history-dir", str(tmp_path), "-o", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["app"] == "web" and row["failed_changes"] == 1 and row["restores"] == 1


def test_health_tables_carry_their_definitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops_nb.cli import main
    from gitops_nb.history.metrics import HEALTH_DEFINITIONS
    from gitops_nb.records.files import write_run

    for r in STORY:
        write_run(tmp_path, r)
    for argv in (["health"], ["dora"], ["dora", "-o", "wide"]):
        assert main(["history", *argv, "--history-dir", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        for col in ("lead_time_median", "change_failure_rate", "time_to_restore_median"):
            assert f"  {col}: {HEALTH_DEFINITIONS[col]}" in out, (argv, col)
    assert "runs ended Degraded/Failed" in HEALTH_DEFINITIONS["change_failure_rate"]


def test_reports_define_the_health_time_to_restore() -> None:
    from gitops_nb import report
    from gitops_nb.history.metrics import HEALTH_DEFINITIONS

    rep = report.from_history(STORY)
    definition = HEALTH_DEFINITIONS["time_to_restore"]
    assert f"Time to restore: {definition}" in report.render(rep, "markdown")
    assert f"Time to restore: {definition}" in report.render(rep, "html")


def test_notebooks_never_show_two_figures_named_change_failure_rate() -> None:
    from gitops_nb.notebook import widgets

    dora_headers = widgets.style_table(history.dora(STORY)).to_html()
    headline = widgets.summary_frame({"change_failure_rate": 0.5})
    assert ">change failure rate (runs ended Degraded/Failed)<" in dora_headers
    assert list(headline["metric"]) == ["change failure rate (reverted commits)"]
