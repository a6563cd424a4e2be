"""CSV export: parses with the csv module, one row per object × change."""

from __future__ import annotations

import csv
import io

from gitops_nb.escaping import csv_cell as cell
from gitops_nb.report import to_csv
from gitops_nb.report.csvexport import COLUMNS
from tests.factories import XSS, history_report, live_report


def rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_live_csv_rows() -> None:
    out = rows(to_csv(live_report()))
    # Deployment 2 changes, Secret 1, ConfigMap 2, Ingress/Service/broken 1 row each
    assert [(r["object"], r["path"]) for r in out] == [
        ("Deployment/web/api", "spec.replicas"),
        ("Deployment/web/api", "spec.template.spec.containers[name=web].image"),
        ("Secret/web/db", "data.password"),
        ("ConfigMap/web/settings", "data.note"),
        ("ConfigMap/web/settings", "data.added"),
        ("Ingress/web/www", ""),
        ("Service/web/old", ""),
        ("ConfigMap/web/broken", ""),
    ]
    assert [r["cause"] for r in out] == [
        "cluster", "git", "cluster", "cluster", "cluster", "git", "git", ""
    ]  # fmt: skip
    first = out[0]
    assert first == {
        "app": "web",
        "object": "Deployment/web/api",
        "kind": "Deployment",
        "namespace": "web",
        "name": "api",
        "status": "Drifted",
        "open": "true",
        "cause": "cluster",
        "path": "spec.replicas",
        "live": "5",
        "desired": "3",
        "manager": "kubectl-edit",
        "operation": "Update",
        "time": "2026-11-28T09:30:00Z",
        "first_seen": "",
        "resolved_at": "",
        "op": "changed",
    }
    assert out[3]["live"] == XSS and out[3]["desired"] == "a | b `c`"
    assert out[4]["live"] == '{"k":[1,2]}' and out[4]["desired"] == ""
    assert out[7]["open"] == "false" and out[7]["status"] == "Error"


def test_history_csv_has_episode_times() -> None:
    out = rows(to_csv(history_report()))
    dep = next(r for r in out if r["kind"] == "Deployment")
    assert dep["first_seen"] == "2026-11-28T11:00:00Z"
    assert dep["resolved_at"] == "2026-11-28T14:00:00Z" and dep["open"] == "false"
    assert [r["open"] for r in out] == ["true", "true", "false"]


def test_formula_cells_are_neutralised_numbers_kept() -> None:
    assert cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("-5") == "-5" and cell("+1.5") == "+1.5" and cell("plain") == "plain"
