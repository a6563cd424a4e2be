"""CSV export: parses with the csv module, one row per object × change."""

from __future__ import annotations

import csv
import io
from pathlib import Path

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


def test_a_history_csv_report_writes_its_deployments_next_to_it(tmp_path: Path) -> None:
    from dataclasses import replace as _replace

    from gitops_nb.model import Cause
    from gitops_nb.report import deployments_path, from_history, write
    from tests.factories import change, drifted, run

    bump = _replace(change("spec.image", "a", "=HYPERLINK(1)", "gitops-nb"), cause=Cause.GIT)
    runs = [run(0, _replace(drifted(bump), cause=Cause.GIT), commit="c2")]
    out = write(from_history(runs), "csv", tmp_path / "drift.csv")
    side = deployments_path(out)
    assert side == tmp_path / "drift-deployments.csv"
    rows = list(csv.DictReader(io.StringIO(side.read_text())))
    assert [(r["commit"], r["author"]) for r in rows] == [("c2", "dev")]
    assert rows[0]["fields"] == "Deployment/web/api spec.image"
    live = write(from_history([]), "csv", tmp_path / "empty.csv")
    assert deployments_path(live).read_text().startswith("app,commit,author")
