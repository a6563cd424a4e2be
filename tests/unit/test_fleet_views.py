"""Fleet views on hand-made multi-app histories with known answers."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from gitops_nb.cli import main
from gitops_nb.history import drift_days, drift_intervals, fleet, managers, runs
from gitops_nb.history.fleetview import REMOVED_TRIGGER
from gitops_nb.records.store import DirectoryStore
from tests.factories import at, change, drifted, fleet_history, run


def test_fleet_has_one_row_per_app_failing_first_then_most_drift() -> None:
    recs = fleet_history()
    df = fleet(runs(recs), drift_intervals(recs))
    assert list(df["app"]) == ["shop", "web", "quiet"]
    web = df.set_index("app").loc["web"]
    assert (web["runs"], web["records"], web["episodes"], web["open_episodes"]) == (52, 4, 2, 1)
    assert web["mean_time_to_restore_s"] == pytest.approx(6 * 3600)
    assert web["top_manager"] in ("kubectl-edit", "helm")
    assert web["last_run"] == pd.Timestamp(at(51))
    shop = df.set_index("app").loc["shop"]
    assert bool(shop["failing_now"]) and shop["last_outcome"] == "failed"
    assert (shop["runs"], shop["records"], shop["episodes"]) == (51, 2, 0)
    assert pd.isna(shop["mean_time_to_restore_s"]) and shop["top_manager"] is None
    assert not df["removed"].any()


def test_an_app_the_fleet_pruned_is_marked_removed() -> None:
    recs = fleet_history()
    gone = replace(run(52, app="quiet"), trigger=REMOVED_TRIGGER)
    df = fleet(runs([*recs, gone]), drift_intervals([*recs, gone])).set_index("app")
    assert bool(df.loc["quiet", "removed"]) and not bool(df.loc["web", "removed"])


def test_drift_days_counts_open_episodes_per_app_and_day() -> None:
    recs = fleet_history()
    grid = drift_days(drift_intervals(recs))
    assert list(grid.index) == ["web"]  # only apps that drifted
    day = pd.Timestamp(at(0)).floor("D")
    assert {d - day: int(v) for d, v in grid.loc["web"].items()} == {
        pd.Timedelta(days=1): 1,  # hours 24..30
        pd.Timedelta(days=2): 1,  # hours 50..51, still open
    }
    assert drift_days(drift_intervals([])).empty


def test_managers_are_ranked_by_episodes_and_we_are_never_one() -> None:
    recs = fleet_history()
    extra = [run(h, drifted(change(manager="helm")), app="quiet") for h in range(60, 61)]
    df = managers(drift_intervals([*recs, *extra]))
    assert df.to_dict("records") == [
        {"manager": "helm", "episodes": 2, "apps": 2},
        {"manager": "kubectl-edit", "episodes": 1, "apps": 1},
    ]
    ours = [run(0, drifted(change(manager="gitops-nb")))]
    assert managers(drift_intervals(ours)).empty


def test_history_fleet_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = DirectoryStore(tmp_path)
    for r in fleet_history():
        store.write(r)
    assert main(["history", "fleet", "--history-dir", str(tmp_path), "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["app"], r["runs"], r["failing_now"]) for r in rows] == [
        ("shop", 51, True),
        ("web", 52, False),
        ("quiet", 52, False),
    ]
