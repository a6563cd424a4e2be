"""Lead time and summary metrics from hand-made frames with known answers."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from gitops_nb.history.frames import runs
from gitops_nb.history.metrics import lead_times, summary
from gitops_nb.history.timeline import drift_intervals
from gitops_nb.model import (
    Action,
    DiffStatus,
    FieldChange,
    Mode,
    ObjectRef,
    ObjectResult,
    Outcome,
    RunHealth,
    SyncRun,
)
from tests.factories import revision, sync_run

DEP = ObjectRef("apps/v1", "Deployment", "web", "api")
CM = ObjectRef("v1", "ConfigMap", "web", "settings")


def t(hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-11-28T{hhmm}:00Z")


def run(
    run_id: str,
    hhmm: str,
    commit: str,
    commit_hhmm: str,
    outcome: Outcome = Outcome.SUCCEEDED,
    objects: tuple[ObjectResult, ...] = (),
) -> SyncRun:
    """A run at ``hhmm`` of ``commit``, committed at ``commit_hhmm``."""
    return sync_run(
        run_id,
        f"2026-11-28T{hhmm}:00Z",
        *objects,
        revision=revision(commit, f"2026-11-28T{commit_hhmm}:00Z", message="m"),
        outcome=outcome,
    )


# newest first, as git log lists them; c3 reverts c2
COMMITS = pd.DataFrame(
    {
        "commit": ["c4", "c3", "c2", "c1"],
        "time": [t("13:00"), t("11:30"), t("10:30"), t("10:00")],
        "is_revert": [False, True, False, False],
        "reverts": [None, "c2", None, None],
    }
)


def test_a_run_applies_its_commit_and_every_older_one() -> None:
    runs_df = runs(
        [
            run("r0", "10:10", "c1", "10:00"),
            run("r1", "10:45", "c2", "10:30", outcome=Outcome.FAILED),  # doesn't apply
            run("r2", "12:00", "c3", "11:30"),  # applies c3 and c2 (failed before)
            run("r3", "12:30", "c3", "11:30"),
        ]
    )
    df = lead_times(COMMITS, runs_df)
    by = df.set_index("commit")
    assert by.loc["c1", "applied_at"] == t("10:10")
    assert by.loc["c1", "run_id"] == "r0"
    assert by.loc["c1", "lead_time"] == pd.Timedelta(minutes=10)
    assert by.loc["c2", "applied_at"] == t("12:00")
    assert by.loc["c2", "lead_time"] == pd.Timedelta(minutes=90)
    assert by.loc["c3", "run_id"] == "r2"
    assert by["applied_at"].isna()["c4"]
    assert by["lead_time"].isna()["c4"]
    assert by.loc["c4", "run_id"] is None


def test_run_at_a_commit_outside_the_path_is_placed_by_commit_time() -> None:
    # "x9" touched only other paths; it was made after c2, so it carries c2 and c1
    df = lead_times(COMMITS, runs([run("r", "11:00", "x9", "10:45")]))
    assert list(df["run_id"]) == [None, None, "r", "r"]


def test_lead_times_run_from_commit_to_applied_to_healthy() -> None:
    # r1 applies c2 and waits: Healthy at 10:47 (its healthy_at); r2 carries c3 but ends
    # Degraded; r3 at c3 is Healthy without a wait time, so its end counts (12:40)
    r2 = run("r2", "12:00", "c3", "11:30")
    r3 = run("r3", "12:30", "c3", "11:30")
    records = [
        replace(
            run("r1", "10:45", "c2", "10:30"),
            health=RunHealth.HEALTHY,
            healthy_at="2026-11-28T10:47:00Z",
        ),
        replace(r2, health=RunHealth.DEGRADED),
        replace(r3, health=RunHealth.HEALTHY, finished="2026-11-28T12:40:00Z"),
    ]
    by = lead_times(COMMITS, runs(records)).set_index("commit")
    # c1 and c2 are carried by r1: applied at its start, healthy when its wait ended
    for c, committed in (("c1", "10:00"), ("c2", "10:30")):
        assert by.loc[c, "applied_at"] == t("10:45")
        assert by.loc[c, "healthy_at"] == t("10:47")
        assert by.loc[c, "healthy_run_id"] == "r1"
        assert by.loc[c, "time_to_applied"] == t("10:45") - t(committed)
        assert by.loc[c, "time_to_healthy"] == t("10:47") - t(committed)
    # c3: applied by the Degraded r2, healthy only with r3
    assert by.loc["c3", "run_id"] == "r2"
    assert by.loc["c3", "time_to_applied"] == pd.Timedelta(minutes=30)
    assert by.loc["c3", "healthy_run_id"] == "r3"
    assert by.loc["c3", "time_to_healthy"] == pd.Timedelta(minutes=70)
    assert (by["lead_time"].dropna() == by["time_to_applied"].dropna()).all()
    # c4 was never applied, so never healthy either
    assert by["healthy_at"].isna()["c4"] and by["time_to_healthy"].isna()["c4"]


def test_lead_times_agree_with_time_to_healthy() -> None:
    from gitops_nb.history import time_to_healthy

    records = [
        replace(
            run("r1", "10:45", "c2", "10:30"),
            mode=Mode.CORRECT,
            health=RunHealth.HEALTHY,
            healthy_at="2026-11-28T10:46:30Z",
        )
    ]
    lead = lead_times(COMMITS, runs(records)).set_index("commit")
    tth = time_to_healthy(records).set_index("commit")
    assert lead.loc["c2", "healthy_at"] == tth.loc["c2", "healthy_at"]
    assert lead.loc["c2", "time_to_healthy"] == tth.loc["c2", "time_to_healthy"]


def test_summary_numbers() -> None:
    drifted = ObjectResult(
        DEP,
        Action.UNCHANGED,
        DiffStatus.DRIFTED,
        (FieldChange("spec.replicas", 5, 3, "kubectl-edit"), FieldChange("spec.x", 1, 2, "helm")),
    )
    missing = ObjectResult(CM, Action.UNCHANGED, DiffStatus.MISSING)
    ok = ObjectResult(DEP, Action.UNCHANGED, DiffStatus.IN_SYNC)
    ok_cm = ObjectResult(CM, Action.UNCHANGED, DiffStatus.IN_SYNC)
    records = [
        run("r0", "10:10", "c1", "10:00", objects=(drifted, missing)),
        run("r1", "11:10", "c2", "10:30", outcome=Outcome.FAILED),
        run("r2", "12:10", "c3", "11:30", objects=(ok, missing)),
        run("r3", "13:10", "c3", "11:30", outcome=Outcome.SKIPPED),
        run("r4", "14:10", "c4", "13:00", objects=(ok, ok_cm)),
    ]
    runs_df = runs(records)
    intervals = drift_intervals(records)
    s = summary(runs_df, intervals, COMMITS)
    assert s["runs"] == 5
    assert s["sync_frequency"] == pytest.approx(1.0)  # 5 runs, 4 hours apart in total
    assert s["success_rate"] == pytest.approx(3 / 4)  # the skipped run doesn't count
    # lead times: c1 10m, c2 100m (r2 at 12:10), c3 40m, c4 70m
    assert s["mean_lead_time_s"] == pytest.approx((10 + 100 + 40 + 70) * 60 / 4)
    assert s["median_lead_time_s"] == pytest.approx((40 + 70) * 60 / 2)
    # episodes: replicas and x resolved after 2h, the missing ConfigMap after 4h
    assert s["drift_episodes"] == 3
    assert s["open_episodes"] == 0
    assert s["mean_time_to_restore_s"] == pytest.approx((2 + 2 + 4) * 3600 / 3)
    assert s["change_failure_rate"] == pytest.approx(2 / 4)  # c3 is a revert, c2 reverted
    assert s["most_drifted_objects"] == [("Deployment/web/api", 2), ("ConfigMap/web/settings", 1)]
    assert s["most_responsible_managers"] == [("helm", 1), ("kubectl-edit", 1)]


def test_summary_of_nothing_is_defined() -> None:
    s = summary(runs([]), drift_intervals([]))
    assert s["runs"] == 0
    assert s["sync_frequency"] is None
    assert s["success_rate"] is None
    assert s["mean_lead_time_s"] is None
    assert s["mean_time_to_restore_s"] is None
    assert s["change_failure_rate"] is None
    assert s["most_drifted_objects"] == []
    assert lead_times(COMMITS.iloc[0:0], runs([])).empty


def test_commits_without_effect_on_the_render_are_neither_lead_times_nor_failures() -> None:
    """A comment-only commit (``none``) and a broken build (``error``) deployed nothing:
    they get no lead time and are no change, failed or not."""
    with_effects = pd.DataFrame(
        {
            "commit": ["c6", "c5", "c4", "c3", "c2", "c1"],
            "time": [t("13:30"), t("13:10"), t("13:00"), t("11:30"), t("10:30"), t("10:00")],
            "is_revert": [False, True, False, True, False, False],
            "reverts": [None, "c4", None, "c2", None, None],
            "effect": ["error", "none", "changed", "changed", "changed", "none"],
        }
    )
    runs_df = runs(
        [
            run("r0", "10:10", "c1", "10:00"),  # a run at a no-effect commit
            run("r2", "12:00", "c3", "11:30"),
            run("r5", "13:20", "c5", "13:10"),  # at a no-effect revert: placed by its time
        ]
    )
    lead = lead_times(with_effects, runs_df)
    assert list(lead["commit"]) == ["c4", "c3", "c2"]
    assert list(lead["run_id"]) == ["r5", "r2", "r2"]
    assert lead.set_index("commit").loc["c4", "lead_time"] == pd.Timedelta(minutes=20)
    s = summary(runs_df, drift_intervals([]), with_effects)
    # over c4, c3, c2: c3 reverts c2 (both failed); c5 reverted c4 but changed nothing
    assert s["change_failure_rate"] == pytest.approx(2 / 3)
    assert s["mean_lead_time_s"] == pytest.approx((20 + 30 + 90) * 60 / 3)
