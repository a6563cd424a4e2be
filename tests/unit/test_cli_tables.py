"""History tables that fit a terminal (`-o table`) and everything with `-o wide`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.cli.tables import CELL_CHARS, MAX_WIDTH, NARROW, narrow
from gitops_nb.history import deployments, drift_intervals, runs
from gitops_nb.model import (
    Health,
    HealthStatus,
    Mode,
    ObjectRef,
    ObjectResult,
    RunHealth,
    SyncRun,
)
from gitops_nb.records.files import write_run
from tests.factories import change, drifted, history_runs, in_sync, revision, sync_run


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


LONG_DEP = ObjectRef("apps/v1", "Deployment", "payments-production", "checkout-api-" + "x" * 30)
LONG_CM = ObjectRef("v1", "ConfigMap", "payments-production", "feature-flags-" + "y" * 30)
LONG_PATH = 'spec.template.metadata.annotations["example.com/a-very-long-annotation-key"]'


def _wide_story() -> list[SyncRun]:
    """Long names, paths, values and messages; a kubectl scale without a time; a bad
    rollout that ends Degraded and is restored: every history view has wide rows."""
    sick = Health(HealthStatus.FAILED, "ProgressDeadlineExceeded", "rollout stuck " * 10)
    fine = Health(HealthStatus.CURRENT)
    message = "web: a long subject that explains the change in far too many words\n\nbody"

    def at_run(i: int, *objs: ObjectResult, health: RunHealth = RunHealth.HEALTHY) -> SyncRun:
        r = sync_run(
            f"{i:032x}",
            f"2026-11-28T1{i}:00:00Z",
            *objs,
            mode=Mode.CORRECT,
            revision=revision(
                f"{i:040x}", f"2026-11-28T0{i}:00:00Z", "A. Person <a@example.com>", message
            ),
        )
        return replace(r, health=health, healthy_at=f"2026-11-28T1{i}:05:00Z")

    long_live = "live-" + "z" * 80
    return [
        at_run(0, in_sync(LONG_DEP), in_sync(LONG_CM)),
        at_run(
            1,
            drifted(change(manager="kubectl", time=None), ref=LONG_DEP),
            drifted(
                change(LONG_PATH, long_live, "git-" + "w" * 80, "kubectl-annotate-long"),
                ref=LONG_CM,
            ),
        ),
        at_run(
            2,
            replace(in_sync(LONG_DEP), health=sick),
            in_sync(LONG_CM),
            health=RunHealth.DEGRADED,
        ),
        at_run(3, replace(in_sync(LONG_DEP), health=fine), in_sync(LONG_CM)),
    ]


VIEWS = ["runs", "drift", "timeline", "deployments", "health", "dora", "fleet"]


@pytest.mark.parametrize("view", VIEWS)
def test_every_history_view_fits_160_columns_and_wide_shows_more(
    view: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for r in _wide_story():
        write_run(tmp_path, r)
    assert main(["history", view, "--history-dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert main(["history", view, "--history-dir", str(tmp_path), "-o", "wide"]) == 0
    wide = capsys.readouterr().out
    assert "(no rows)" not in table.split("\n\n")[0]  # the first (or only) table has rows
    assert max(len(line) for line in table.splitlines()) <= MAX_WIDTH
    assert "NaT" not in table and "None" not in table
    assert len(wide.splitlines()[1].split()) >= len(table.splitlines()[1].split())
    if view not in ("dora", "fleet"):  # one row per app: nothing to cut
        assert max(len(line) for line in wide.splitlines()) > MAX_WIDTH


def test_a_manager_without_a_time_reads_time_unknown_in_drift_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for r in _wide_story():
        write_run(tmp_path, r)
    for view in ("drift", "timeline"):
        for fmt in ("table", "wide"):
            assert main(["history", view, "--history-dir", str(tmp_path), "-o", fmt]) == 0
            out = capsys.readouterr().out
            assert "time unknown" in out, (view, fmt)
            if view == "drift":  # its only time columns: the run's start and the write
                assert "NaT" not in out.split("Deployments")[0], fmt


def test_health_tables_are_narrowed_too() -> None:
    from gitops_nb.history import dora, time_to_healthy

    tth = narrow(time_to_healthy(_wide_story()), "time_to_healthy")
    assert list(tth.columns) == list(NARROW["time_to_healthy"])
    assert tth["lead_time"].iloc[0] == "10h00m" and "<" not in "".join(tth["message"])
    d = narrow(dora(_wide_story()), "dora")
    assert d["change_failure_rate"].iloc[0].endswith("%")


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
