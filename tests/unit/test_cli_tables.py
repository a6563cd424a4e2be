"""History tables that fit a terminal (`-o table`) and everything with `-o wide`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.cli.tables import CELL_CHARS, NARROW, narrow
from gitops_nb.history import deployments, drift_intervals, runs
from gitops_nb.model import RunHealth
from gitops_nb.records.files import write_run
from tests.factories import history_runs


def test_runs_keep_key_columns_short_ids_and_seconds() -> None:
    df = narrow(runs(history_runs()), "runs")
    assert list(df.columns) == [c for c in NARROW["runs"] if c in df.columns]
    assert "run_id" not in df.columns and "message" not in df.columns
    assert df["started"].iloc[0] == "2026-11-28 10:00:00"
    assert list(df["commit"]) == [r.revision.commit[:12] for r in history_runs() if r.revision]


def test_cells_are_one_line_and_bounded() -> None:
    df = deployments(history_runs())
    df.loc[0, "message"] = "first line\n\nbody " + "x" * 200
    out = narrow(df, "deployments")
    assert out["message"].iloc[0] == "first line"
    for col in out.columns:
        assert all("\n" not in str(v) and len(str(v)) <= CELL_CHARS for v in out[col])


def test_timeline_durations_read_as_hours_and_minutes() -> None:
    out = narrow(drift_intervals(history_runs()), "timeline")
    assert list(out.columns)[:4] == ["object", "path", "live", "manager"]
    # the replicas episode: seen at 11:00, the 13:00 run failed, resolved by the 14:00 run
    assert set(out["duration"]) == {"3h00m", ""}


@pytest.fixture
def history_dir(tmp_path: Path) -> Path:
    for run in history_runs():
        write_run(tmp_path, run)
    return tmp_path


def test_history_table_is_narrow_and_wide_has_everything(
    history_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "runs", "--history-dir", str(history_dir)]) == 0
    table = capsys.readouterr().out
    assert main(["history", "runs", "--history-dir", str(history_dir), "-o", "wide"]) == 0
    wide = capsys.readouterr().out
    header, wide_header = table.splitlines()[0].split(), wide.splitlines()[0].split()
    assert "run_id" not in header and "run_id" in wide_header and "finished" in wide_header
    assert len(header) < len(wide_header)
    assert max(len(line) for line in table.splitlines()) <= 160


def test_history_runs_table_shows_run_health(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    healths = [RunHealth.HEALTHY, RunHealth.DEGRADED, None, None, RunHealth.PROGRESSING]
    for run, h in zip(history_runs(), healths, strict=True):
        write_run(tmp_path, replace(run, health=h))
    assert main(["history", "runs", "--history-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[header.index("outcome") + 1] == "health"
    body = "\n".join(lines[1:])
    for h in ("Healthy", "Degraded", "Progressing"):
        assert h in body
