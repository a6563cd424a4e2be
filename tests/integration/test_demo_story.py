"""The demo's story reconciled for real: what the record says about each cause (issue 12).

The demo (``gitops_nb.localcluster.demo``) runs the reconciler on the session control plane
with kubectl-made hand changes and Git commits in between; these tests read its records.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gitops_nb.history import deployments, drift_intervals, runs, summary
from gitops_nb.localcluster.demo import DemoResult
from gitops_nb.model import FIELD_MANAGER, Cause, DiffStatus, SyncRun, parse_time

pytestmark = pytest.mark.cluster

IMAGE = "spec.template.spec.containers[name=web].image"


@pytest.fixture(scope="module")
def episodes(demo: DemoResult) -> pd.DataFrame:
    return drift_intervals(demo.runs)


@pytest.fixture(scope="module")
def deploys(demo: DemoResult) -> pd.DataFrame:
    return deployments(demo.runs)


def _by_message(deploys: pd.DataFrame, text: str) -> pd.Series:
    rows = deploys[deploys["message"].str.startswith(text)]
    assert len(rows) == 1, deploys[["commit", "message"]]
    return rows.iloc[0]


def test_hotfix_then_git_bump_is_a_superseded_episode_then_a_deployment(
    episodes: pd.DataFrame, deploys: pd.DataFrame
) -> None:
    image = episodes[episodes["path"] == IMAGE]
    assert len(image) == 1, image  # the hand value is not merged into the bump
    ep = image.iloc[0]
    assert ep["live"] == "nginx:1.27.3-hotfix"
    assert ep["manager"] == "kubectl-set"
    assert ep["cause"] == str(Cause.BOTH)
    bump = _by_message(deploys, "web: nginx 1.27.4")
    assert ep["resolution"] == "superseded by a git change"
    assert ep["resolved_by"] == f"superseded by commit {bump['commit'][:12]} ({bump['author']})"
    assert ep["desired_at_start"] == "nginx:1.27.3" and ep["desired_at_end"] == "nginx:1.27.4"
    assert f"Deployment/prod/web {IMAGE}" in bump["fields"]
    assert bump["applied_at"] >= ep["first_seen"]


def test_git_only_change_is_a_deployment_and_never_drift(
    episodes: pd.DataFrame, deploys: pd.DataFrame
) -> None:
    debug = _by_message(deploys, "web: debug logging")
    assert debug["fields"] == ["ConfigMap/prod/web-config data.LOG_LEVEL"]
    assert not (episodes["path"] == "data.LOG_LEVEL").any()
    assert FIELD_MANAGER not in set(episodes["manager"].dropna())


def test_git_revert_is_a_deployment_marked_as_revert(deploys: pd.DataFrame) -> None:
    debug = _by_message(deploys, "web: debug logging")
    revert = _by_message(deploys, 'Revert "web: debug logging"')
    assert revert["is_revert"] and revert["reverts"] == debug["commit"]
    assert debug["reverted_by"] == revert["commit"] and debug["failed"]
    assert revert["author"].startswith("Carol SRE")


def test_new_objects_are_deployments(demo: DemoResult, deploys: pd.DataFrame) -> None:
    first = _by_message(deploys, "shop: namespace")
    assert {"Deployment/prod/web", "Service/prod/web", "ConfigMap/prod/web-config"} <= set(
        first["objects"]
    )
    ingress = _by_message(deploys, "web: expose")
    assert ingress["objects"] == ["Ingress/prod/web"]
    created = [
        o
        for r in demo.runs
        for o in r.objects
        if o.status is DiffStatus.MISSING and o.ref.kind == "Ingress"
    ]
    assert created and {o.cause for o in created} == {Cause.GIT}
    assert not pd.isna(first["lead_time"]) and not pd.isna(first["in_sync_at"])


def test_deleted_object_is_drift(demo: DemoResult, episodes: pd.DataFrame) -> None:
    svc = episodes[(episodes["object"] == "Service/prod/web") & (episodes["path"] == "")]
    assert len(svc) == 1
    assert svc.iloc[0]["cause"] == str(Cause.CLUSTER)
    assert svc.iloc[0]["resolution"] == "corrected by reconciler"


def test_git_adopting_the_live_value_is_changed_in_git(
    episodes: pd.DataFrame, deploys: pd.DataFrame
) -> None:
    adopt = _by_message(deploys, "web: 3 replicas")
    ep = episodes[episodes["resolving_commit"] == adopt["commit"]]
    assert len(ep) == 1
    row = ep.iloc[0]
    assert row["path"] == "spec.replicas" and row["live"] == "3"
    assert row["resolution"] == "changed in git"
    assert (
        row["resolved_by"] == f"changed in git by commit {adopt['commit'][:12]} ({adopt['author']})"
    )


def test_every_episode_names_its_commit_and_never_our_manager(
    demo: DemoResult, episodes: pd.DataFrame, deploys: pd.DataFrame
) -> None:
    commits = {r.revision.commit for r in demo.runs if r.revision}
    assert set(episodes["commit"]) <= commits and all(episodes["commit"])
    assert set(episodes["cause"]) <= {"cluster", "both"}
    head = summary(runs(demo.runs), episodes, deployments_df=deploys)
    assert FIELD_MANAGER not in [m for m, _ in head["most_responsible_managers"]]
    assert head["open_episodes"] == 1  # FEATURE_CHECKOUT, left open on purpose
    # 7 = replicas 5, two labels (one Git sets, one only a hand added: issue 11), the
    # hotfix image, the Service, replicas 3 adopted by Git, FEATURE_CHECKOUT
    assert len(episodes) == 7 and len(deploys) == 8  # + the bad rollout and its revert


def test_a_label_only_a_hand_added_is_drift_of_its_own(episodes: pd.DataFrame) -> None:
    added = episodes[episodes["path"] == "metadata.labels.owner"]
    assert len(added) == 1, added
    row = added.iloc[0]
    assert (row["live"], row["manager"]) == ("carol", "kubectl-label")
    assert row["cause"] == str(Cause.CLUSTER)
    assert row["resolution"] == "corrected by reconciler"


def test_bad_rollout_is_degraded_and_the_revert_restores_it(demo: DemoResult) -> None:
    """kwok crash-loops the Pods of "checkout worker v2": the run waits, records the
    Deployment Failed and the run Degraded; the revert's run is Healthy again."""
    from gitops_nb.history import restores, time_to_healthy
    from gitops_nb.model import HealthStatus, RunHealth

    by_message: dict[str, SyncRun] = {}  # the first run of each commit
    for r in demo.runs:
        if r.revision:
            by_message.setdefault(r.revision.message.splitlines()[0], r)
    bad = by_message["web: checkout worker v2"]
    fix = by_message['Revert "web: checkout worker v2"']
    assert bad.health is RunHealth.DEGRADED and fix.health is RunHealth.HEALTHY
    [web] = [o for o in bad.objects if o.ref.kind == "Deployment"]
    assert web.health is not None
    assert (web.health.status, web.health.reason) == (
        HealthStatus.FAILED,
        "ProgressDeadlineExceeded",
    )
    tth = time_to_healthy(demo.runs).set_index("message")
    assert tth.loc["web: checkout worker v2", "degraded"]
    assert pd.notna(tth.loc['Revert "web: checkout worker v2"', "healthy_at"])
    assert bad.revision is not None and fix.revision is not None
    rest = restores(demo.runs)
    row = rest[rest["degraded_commit"] == bad.revision.commit].iloc[0]
    assert row["restored_by_commit"] == fix.revision.commit
    # on the story's clock: from the bad run to the revert's run becoming healthy (15 min
    # apart, plus the real seconds the revert's run waited)
    since_bad = parse_time(fix.started) - parse_time(bad.started)
    assert since_bad <= row["time_to_restore"] <= parse_time(fix.finished) - parse_time(bad.started)
    assert since_bad == dt.timedelta(minutes=15)
    # the reports show it
    md = demo.outputs["drift-report.md"].read_text()
    assert "## Health (kstatus)" in md and "Bad rollouts and time to restore" in md
    assert bad.revision.commit[:12] in md
    assert "ProgressDeadlineExceeded" in md
    assert "Time to restore" in demo.outputs["drift-report.html"].read_text()
