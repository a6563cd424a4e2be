"""gitops_nb.notebook.data: history loaders, small analyses, the Git renderer and the
read-only live audit (the last two against a real repository and the real control plane)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gitops_nb.errors import GitOpsError
from gitops_nb.history import commits, export_jsonl, write_run
from gitops_nb.localcluster import LocalCluster
from gitops_nb.localcluster.demo import DemoResult
from gitops_nb.model import (
    Action,
    DiffStatus,
    Mode,
    ObjectRef,
    ObjectResult,
    Outcome,
    RunHealth,
    SyncRun,
)
from gitops_nb.notebook import data
from gitops_nb.source.git import SourceSpec
from tests.factories import change, revision, sync_run
from tests.gitrepo import GitRepo, git

WEB = ObjectRef("apps/v1", "Deployment", "prod", "web")


def record(
    run_id: str,
    started: str,
    *,
    app: str = "shop",
    mode: Mode = Mode.CORRECT,
    outcome: Outcome = Outcome.SUCCEEDED,
    drift: bool = False,
    commit: str = "c1",
) -> SyncRun:
    """A run of the web Deployment; ``drift``: someone scaled it (corrected in correct mode)."""
    status = DiffStatus.DRIFTED if drift else DiffStatus.IN_SYNC
    changes = (change(desired=2, manager="kubectl-scale", operation=None, time=None),)
    action = Action.CONFIGURED if drift and mode is Mode.CORRECT else Action.UNCHANGED
    return sync_run(
        run_id,
        started,
        ObjectResult(WEB, action, status, changes if drift else ()),
        app=app,
        mode=mode,
        revision=revision(commit, "2026-11-28T09:00:00Z", "Ann"),
        outcome=outcome,
    )


RECORDS = [
    record("r1", "2026-11-28T10:00:00Z", mode=Mode.DETECT, drift=True),
    record("r2", "2026-11-28T10:10:00Z"),
    record("r3", "2026-11-28T10:20:00Z", outcome=Outcome.FAILED),
    record("r4", "2026-11-28T10:30:00Z", mode=Mode.DETECT, drift=True),
    record("x1", "2026-11-28T10:40:00Z", app="other"),
]


def test_load_history_from_a_directory_or_an_export(tmp_path: Path) -> None:
    for r in RECORDS:
        write_run(tmp_path / "history", r)
    export_jsonl(RECORDS, tmp_path / "history.jsonl")
    from_dir = data.load_history(tmp_path / "history", "shop")
    from_file = data.load_history(str(tmp_path / "history.jsonl"), "shop")
    assert [r.run_id for r in from_dir] == [r.run_id for r in from_file] == ["r1", "r2", "r3", "r4"]
    assert len(data.load_history(tmp_path / "history")) == 5
    with pytest.raises(GitOpsError, match="no sync history here"):
        data.load_history(tmp_path / "missing")


def test_history_frames_outcomes_restore_stats_and_end() -> None:
    frames = data.history_frames([r for r in RECORDS if r.app == "shop"])
    assert len(frames.runs) == 4 and len(frames.results) == 4 and len(frames.drift) == 2
    counts = data.outcome_counts(frames.runs).set_index("mode")
    assert counts.loc["correct", "failed"] == 1 and counts.loc["detect", "total"] == 2
    stats = data.restore_stats(frames.intervals)
    assert list(stats["resolution"]) == ["(still open)", "reverted by hand"]
    assert stats.loc[1, "mean"] == pd.Timedelta(minutes=10)
    assert bool(stats["mean"].isna().iloc[0])
    assert data.history_end(frames.runs) == pd.Timestamp("2026-11-28T10:30:30Z")
    assert data.history_end(frames.runs.iloc[0:0]) is None
    assert "total" in data.outcome_counts(frames.runs.iloc[0:0]).columns


def test_top_frame() -> None:
    top = data.top_frame([("kubectl", 3), ("helm", 1)], "manager")
    assert list(top.columns) == ["manager", "episodes"]
    assert top["episodes"].tolist() == [3, 1]


def test_churn_counts_changes_per_key() -> None:
    changes = pd.DataFrame(
        {
            "commit": ["c3", "c2", "c2", "c1", "c1"],
            "author": ["bob", "ann", "ann", "ann", "ann"],
            "object": [
                "Deployment/prod/web",
                "Deployment/prod/web",
                "",
                "Deployment/prod/web",
                "Service/prod/web",
            ],
            "change": ["modified", "modified", "error", "added", "added"],
        }
    )
    by_object = data.churn(changes, "object")
    assert by_object["object"].tolist() == ["Deployment/prod/web", "Service/prod/web"]
    web = by_object.iloc[0]
    assert (web["added"], web["modified"], web["commits"], web["total"]) == (1, 2, 3, 3)
    by_author = data.churn(changes, "author").set_index("author")
    assert by_author.loc["ann", "error"] == 1 and by_author.loc["ann", "total"] == 4
    assert data.churn(changes.iloc[0:0], "object").empty
    with pytest.raises(GitOpsError, match="no column 'team'"):
        data.churn(changes, "team")


def test_lead_table_names_each_commit(tmp_path: Path) -> None:
    git_repo = GitRepo(tmp_path / "repo", name="Test User", email="test@example.com")
    for n, subject in enumerate(("first", "second")):
        git_repo.write(f"cm{n}.yaml", f"kind: ConfigMap\nmetadata:\n  name: c{n}\n")
        head = git_repo.commit(subject)
    repo = git_repo.path
    applied = record("r1", "2026-11-28T10:00:00Z", commit=head)
    lead = data.lead_table(commits(repo, "main"), data.history_frames([applied]).runs)
    assert list(lead.columns) == [
        "short",
        "author",
        "subject",
        "time",
        "applied_at",
        "lead_time",
        "healthy_at",
        "time_to_healthy",
        "run_id",
    ]
    assert lead["subject"].tolist() == ["second", "first"]
    assert lead["short"].tolist()[0] == head[:7]
    assert lead["run_id"].tolist() == ["r1", "r1"]  # a run at HEAD applies both commits
    assert (
        data.lead_table(commits(repo, "main"), data.history_frames([]).runs)["lead_time"]
        .isna()
        .all()
    )


def test_lead_table_shows_when_each_commit_ran_healthy(tmp_path: Path) -> None:
    git_repo = GitRepo(tmp_path / "repo", name="Test User", email="test@example.com")
    git_repo.write("cm.yaml", "kind: ConfigMap\nmetadata:\n  name: c\n")
    head = git_repo.commit("only")
    applied = replace(
        record("r1", "2026-11-28T10:00:00Z", commit=head),
        health=RunHealth.HEALTHY,
        healthy_at="2026-11-28T10:00:05Z",
    )
    lead = data.lead_table(commits(git_repo.path, "main"), data.history_frames([applied]).runs)
    row = lead.iloc[0]
    assert row["healthy_at"] == pd.Timestamp("2026-11-28T10:00:05Z")
    assert row["time_to_healthy"] - row["lead_time"] == pd.Timedelta(seconds=5)


@pytest.mark.cluster
def test_read_only_kube_sends_reads_and_dry_runs_only(
    cluster: LocalCluster, namespace: str
) -> None:
    kube = data.ReadOnlyKube.from_kubeconfig(cluster.kubeconfig)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "probe"},
        "data": {"k": "v"},
    }
    try:
        with pytest.raises(GitOpsError, match="read-only"):
            kube.create(path, cm)
        with pytest.raises(GitOpsError, match="read-only"):
            kube.apply(f"{path}/probe", cm, field_manager="t")
        dry = kube.apply(f"{path}/probe", cm, field_manager="t", dry_run=True)
        assert dry["data"] == {"k": "v"}
        assert kube.get_or_none(f"{path}/probe") is None  # nothing was written
        with pytest.raises(GitOpsError, match="read-only"):
            kube.delete(f"/api/v1/namespaces/{namespace}")
        assert kube.get(f"/api/v1/namespaces/{namespace}")["metadata"]["name"] == namespace
    finally:
        kube.close()


@pytest.mark.cluster
def test_live_audit_finds_the_demo_open_drift(demo: DemoResult, tmp_path: Path) -> None:
    audit = data.live_audit(
        SourceSpec(str(demo.repo), "main", "."),
        demo.kubeconfig,
        demo.app,
        demo.namespace,
        cache_dir=tmp_path / "cache",
    )
    by_object = {str(d.ref): d for d in audit.diffs}
    cfg = by_object["ConfigMap/prod/web-config"]
    assert cfg.status is DiffStatus.DRIFTED
    assert [(c.path, c.manager) for c in cfg.changes] == [
        ("data.FEATURE_CHECKOUT", "kubectl-patch")
    ]
    assert by_object["Deployment/prod/web"].status is DiffStatus.IN_SYNC
    assert audit.revision.commit == git(demo.repo, "rev-parse", "main")


@pytest.mark.cluster
def test_live_audit_judges_drift_with_the_configs_ignore_rules(
    demo: DemoResult, tmp_path: Path
) -> None:
    """The reconciler's rules hold in the notebook too: the config's, then ``ignore``."""
    spec = SourceSpec(str(demo.repo), "main", ".")

    def status(**kw: Any) -> DiffStatus:
        audit = data.live_audit(
            spec, demo.kubeconfig, demo.app, demo.namespace, cache_dir=tmp_path / "c", **kw
        )
        return {str(d.ref): d.status for d in audit.diffs}["ConfigMap/prod/web-config"]

    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"app: {demo.app}\nrepo: {demo.repo}\nignore: ['path=data.FEATURE_CHECKOUT']\n")
    assert status(config_file=cfg) is DiffStatus.IN_SYNC
    assert status(ignore=["manager=kubectl-patch;kind=ConfigMap"]) is DiffStatus.IN_SYNC
    assert status(ignore=["manager=kubectl-patch;kind=Secret"]) is DiffStatus.DRIFTED
