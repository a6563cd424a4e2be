"""The demo happens in realistic time (issue 14): runs minutes apart, episodes minutes to
hours, commits dated on the same timeline, the same numbers on every `make demo`, and every
`make demo` on a fresh cluster."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from gitops_nb.history import deployments, drift_intervals, runs, summary
from gitops_nb.history.metrics import METRIC_DEFINITIONS
from gitops_nb.localcluster import find_binary, stop_detached
from gitops_nb.localcluster.demo import DemoResult, main
from gitops_nb.model import SyncRun, parse_time
from gitops_nb.records.files import read_dir

pytestmark = pytest.mark.cluster


def _numbers(records: list[SyncRun]) -> dict[str, object]:
    return summary(runs(records), drift_intervals(records), deployments_df=deployments(records))


def test_runs_are_minutes_apart_and_episodes_last_minutes_to_hours(demo: DemoResult) -> None:
    starts = [parse_time(r.started) for r in demo.runs]
    gaps = [b - a for a, b in itertools.pairwise(starts) if a and b]
    assert len(gaps) == len(demo.runs) - 1
    assert min(gaps) >= dt.timedelta(minutes=5)
    assert dt.timedelta(hours=6) < starts[-1] - starts[0] < dt.timedelta(hours=24)  # type: ignore[operator]
    for r in demo.runs:
        started, finished = parse_time(r.started), parse_time(r.finished)
        assert started is not None and finished is not None
        # finished - started is what the run really took, as duration_s measures it
        assert abs((finished - started).total_seconds() - r.duration_s) < 1.0
    numbers = _numbers(demo.runs)
    assert 60 < numbers["mean_time_to_restore_s"] < 6 * 3600  # type: ignore[operator]
    assert 0.5 < numbers["sync_frequency"] < 12  # type: ignore[operator]
    assert 60 <= numbers["mean_lead_time_s"] < 3600  # type: ignore[operator]
    durations = drift_intervals(demo.runs)["duration"].dropna()
    assert durations.min() >= pd.Timedelta(minutes=5)
    assert durations.max() >= pd.Timedelta(hours=1)


def test_commit_dates_follow_the_story(demo: DemoResult) -> None:
    log = subprocess.run(
        ["git", "-C", str(demo.repo), "log", "--format=%H %aI %cI"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    dated = {sha: (parse_time(a), parse_time(c)) for sha, a, c in (ln.split() for ln in log if ln)}
    assert all(a == c for a, c in dated.values())
    first = parse_time(demo.runs[0].started)
    last = parse_time(demo.runs[-1].started)
    assert first is not None and last is not None
    for r in demo.runs:
        assert r.revision is not None
        when = dated[r.revision.commit][0]
        assert when is not None and first - dt.timedelta(hours=1) < when <= last
        run_start = parse_time(r.started)
        assert run_start is not None and when < run_start  # committed before it was applied


def test_every_demo_starts_on_a_fresh_cluster_and_gives_the_same_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITOPS_NB_CACHE_DIR", str(tmp_path / "git-cache"))
    work = tmp_path / "demo-output"
    start = "2026-11-02T08:00:00Z"
    try:
        assert main(["--workdir", str(work), "--start", start]) == 0
        first = read_dir(work / "history", "shop")
        kubectl = [str(find_binary("kubectl")), "--kubeconfig", str(work / "cluster/kubeconfig")]
        subprocess.run([*kubectl, "create", "namespace", "made-by-hand"], check=True)
        assert main(["--workdir", str(work), "--start", start]) == 0
        second = read_dir(work / "history", "shop")
        namespaces = subprocess.run(
            [*kubectl, "get", "namespaces", "-o", "name"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    finally:
        stop_detached(work / "cluster")
    assert "namespace/made-by-hand" not in namespaces
    a, b = _numbers(first), _numbers(second)
    # Lead times end when the applying run finished: they differ by how long runs really took
    for key in ("mean_lead_time_s", "median_lead_time_s"):
        assert a.pop(key) == pytest.approx(b.pop(key), abs=5.0)
    assert a == b  # run starts, episodes and restore times are the story's own
    assert [r.started for r in first] == [r.started for r in second]
    assert first[0].started.startswith("2026-11-02T08:05:00")
    assert [r.counts for r in first] == [r.counts for r in second]
    out = capsys.readouterr().out
    assert "runs/hour; mean time to restore" in out
    for key in ("sync_frequency", "mean_time_to_restore_s", "mean_lead_time_s"):
        assert METRIC_DEFINITIONS[key] in out  # each printed number is defined
    assert json.loads((work / "history.jsonl").read_text().splitlines()[0])["app"] == "shop"


def test_kubectl_scale_is_recorded_without_a_time_and_shown_as_time_unknown(
    demo: DemoResult,
) -> None:
    scaled = [
        c
        for r in demo.runs
        for o in r.objects
        for c in o.changes
        if c.path == "spec.replicas" and c.manager is not None
    ]
    assert scaled, "the demo scales by hand"
    # what the API server records for `kubectl scale` (the README says so too)
    assert {(c.manager, c.operation, c.time) for c in scaled} == {("kubectl", "Update", None)}
    assert {c.time_text for c in scaled} == {"time unknown"}
