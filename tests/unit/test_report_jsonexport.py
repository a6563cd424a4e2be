"""JSON export: stable keys, round-trips, intervals as plain values."""

from __future__ import annotations

import json

from gitops_nb.report import to_json
from tests.factories import history_report, live_report


def test_json_round_trips_with_sorted_keys() -> None:
    text = to_json(live_report())
    data = json.loads(text)
    assert json.dumps(data, indent=2, sort_keys=True) + "\n" == text
    assert list(data) == sorted(data)
    assert data["counts"]["drifted"] == 3 and data["period"] is None
    assert data["revision"]["commit"] == "0123456789abcdef0123"
    dep = data["objects"][0]
    assert dep["object"] == "Deployment/web/api" and dep["open"] is True
    assert dep["changes"][0] == {
        "path": "spec.replicas",
        "live": 5,
        "desired": 3,
        "manager": "kubectl-edit",
        "operation": "Update",
        "time": "2026-11-28T09:30:00Z",
        "cause": "cluster",
        "op": "changed",
    }
    assert dep["cause"] == "both" and dep["changes"][1]["cause"] == "git"
    assert data["intervals"] is None and data["deployments"] is None


def test_history_json_intervals_are_plain() -> None:
    data = json.loads(to_json(history_report()))
    assert [o["open"] for o in data["objects"]] == [True, True, False]
    rows = data["intervals"]
    dep = next(r for r in rows if r["kind"] == "Deployment")
    assert dep["first_seen"] == "2026-11-28T11:00:00Z"
    assert dep["resolved_at"] == "2026-11-28T14:00:00Z"
    assert dep["duration"] == 3 * 3600.0 and dep["open"] is False
    cm = next(r for r in rows if r["kind"] == "ConfigMap")
    assert cm["resolved_at"] is None and cm["duration"] is None
    assert data["metrics"]["success_rate"] == 0.8
    assert [d["commit"][:2] for d in data["deployments"]] == ["c0", "c1", "c2", "c3", "c4"]
    # the story's commits change none of its objects (every difference is a hand change):
    # only c4, which ended the replicas episode (Git adopted the value), is a deployment
    assert [d["effective"] for d in data["deployments"]] == [False] * 4 + [True]
    assert data["metrics"]["deployments"] == 1
    assert data["period"] == ["2026-11-28T10:00:00Z", "2026-11-28T14:00:36Z"]
