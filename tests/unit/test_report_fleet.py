"""The fleet report (`report --fleet`) on a hand-made three-app history, in all formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from gitops_nb.cli import main
from gitops_nb.model import Outcome
from gitops_nb.records.coalesce import coalesce
from gitops_nb.records.store import DirectoryStore
from gitops_nb.report import from_fleet, render_fleet
from tests.factories import CM, XSS, at, change, drifted, in_sync, run

NOW = pd.Timestamp("2026-12-01T00:00:00Z")
FORMULA = "=HYPERLINK(1)"


def history() -> list:  # type: ignore[type-arg]
    web = [
        *[run(h, in_sync(), app="web") for h in range(0, 24)],
        *[run(h, drifted(change(manager=XSS)), app="web") for h in range(24, 30)],
        *[run(h, in_sync(), app="web") for h in range(30, 52)],
    ]
    shop = [
        *[run(h, drifted(change(manager=FORMULA), ref=CM), app="shop") for h in range(0, 51)],
        run(51, in_sync(CM), app="shop", outcome=Outcome.FAILED),
    ]
    quiet = [run(h, in_sync(), app="quiet") for h in range(0, 52)]
    return coalesce(sorted([*web, *shop, *quiet], key=lambda r: r.order))


def test_fleet_report_orders_apps_and_names_the_failing_ones() -> None:
    rep = from_fleet(history(), now=NOW)
    assert list(rep.apps["app"]) == ["shop", "web", "quiet"]
    assert rep.failing == ["shop"]
    assert rep.generated_at == "2026-12-01T00:00:00Z"
    doc = json.loads(render_fleet(rep, "json"))
    assert [(a["app"], a["runs"], a["episodes"]) for a in doc["apps"]] == [
        ("shop", 52, 1),
        ("web", 52, 1),
        ("quiet", 52, 0),
    ]
    assert doc["failing_now"] == ["shop"]
    assert sorted(m["manager"] for m in doc["managers"]) == sorted([XSS, FORMULA])
    day1 = pd.Timestamp(at(24)).strftime("%Y-%m-%d")
    assert doc["open_episodes_per_day"]["web"] == {day1: 1}


def test_fleet_report_escapes_hostile_manager_names_in_every_format() -> None:
    rep = from_fleet(history(), now=NOW)
    html = render_fleet(rep, "html")
    assert XSS not in html and "&lt;script&gt;" in html
    assert "Content-Security-Policy" in html and "<script" not in html
    md = render_fleet(rep, "markdown")
    assert XSS not in md and "\\<script\\>" in md
    rows = list(csv.DictReader(io.StringIO(render_fleet(rep, "csv"))))
    assert [r["app"] for r in rows] == ["shop", "web", "quiet"]
    assert rows[0]["top_manager"] == "'" + FORMULA  # a formula is neutralised


@pytest.mark.parametrize("fmt", ["html", "markdown", "json", "csv"])
def test_report_fleet_command_writes_each_format(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = DirectoryStore(tmp_path / "h")
    for r in history():
        store.write(r)
    out = tmp_path / f"fleet.{fmt}"
    args = ["report", "--fleet", "--history-dir", str(tmp_path / "h"), "--format", fmt]
    assert main([*args, "-o", str(out)]) == 0
    assert json.loads(capsys.readouterr().out) == {"report": str(out), "format": fmt, "apps": 3}
    assert "shop" in out.read_text()
