"""`gitops-nb history` and `gitops-nb report` on real repos and record files (no cluster)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from gitops_nb.cli import main
from gitops_nb.history import resource_changes
from gitops_nb.history.gitrender import kustomize_renderer
from gitops_nb.records.files import write_run
from tests.factories import change, drifted, in_sync, run
from tests.gitrepo import GitRepo, git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = GitRepo(tmp_path / "repo", name="Ann", email="ann@example.com")
    r, commit = repo.path, repo.commit
    (r / "app").mkdir()
    (r / "app" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {k: '1'}\n"
    )
    commit("add a")
    (r / "other.txt").write_text("not the app\n")
    commit("outside the app")
    git(r, "mv", "app/cm.yaml", "app/renamed.yaml")
    commit("rename")
    (r / "app" / "renamed.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {k: '2'}\n"
    )
    bad = commit("change a")
    git(r, "revert", "--no-edit", bad)
    (r / "app" / "kustomization.yaml").write_text("resources: [renamed.yaml]\nnamePrefix: x-\n")
    commit("kustomize")
    git(r, "rm", "-q", "app/renamed.yaml")
    (r / "app" / "kustomization.yaml").write_text("resources: []\n")
    commit("delete a")
    return r


def test_history_commits_lists_exactly_git_log(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "commits", "--repo", str(repo), "--path", "app", "-o", "json"]) == 0
    listed = [c["commit"] for c in json.loads(capsys.readouterr().out)]
    assert listed == git(repo, "log", "--format=%H", "main", "--", "app").split()
    assert len(listed) == 6  # the commit outside app/ is not there


def test_history_commits_effect_and_changes_with_fields(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "commits", "--repo", str(repo), "--path", "app", "-o", "json"]) == 0
    effects = {c["subject"]: c["effect"] for c in json.loads(capsys.readouterr().out)}
    assert effects["rename"] == "none"  # the file moved, the object did not change
    assert effects["change a"] == effects["kustomize"] == effects["delete a"] == "changed"
    args = ["history", "changes", "--repo", str(repo), "--path", "app", "-o", "json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    change_a = git(repo, "log", "--format=%H", "--grep", "^change a", "main")
    modified = [r for r in rows if r["commit"] == change_a]
    assert [(r["object"], r["change"], r["fields"]) for r in modified] == [
        ("ConfigMap/a", "modified", ["data.k"])
    ]
    assert main([*args[:-2], "--kind", "ConfigMap", "--name", "x-a", "-o", "csv"]) == 0
    csv = capsys.readouterr().out.splitlines()
    assert len(csv) == 3 and all("x-a" in line for line in csv[1:])  # added, then removed


@pytest.mark.parametrize("what", ["commits", "changes"])
def test_git_history_as_parquet_and_tables(
    what: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["history", what, "--repo", str(repo), "--path", "app"]
    assert main([*args, "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    out = tmp_path / f"{what}.parquet"
    assert main([*args, "-o", "parquet", "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert list(df["commit"]) == [r["commit"] for r in rows]
    if what == "commits":
        assert list(df["effect"]) == [r["effect"] for r in rows]
        assert list(df["files"].map(list)) == [r["files"] for r in rows]
    else:
        assert list(df["object"]) == [r["object"] for r in rows]
        assert list(df["fields"].map(list)) == [r["fields"] for r in rows]
    # -o table: the key columns, one line per row; -o wide: every column
    assert main(args) == 0
    table = capsys.readouterr().out.splitlines()
    if what == "commits":
        assert table[0].split() == ["short", "time", "author", "subject", "n_files", "effect"]
        assert [line.split()[0] for line in table[1:]] == [r["short"] for r in rows]
        assert table[1].split()[-1] == rows[0]["effect"]
    else:
        assert table[0].split() == [
            "commit",
            "time",
            "author",
            "object",
            "change",
            "file",
            "fields",
        ]
        assert [line.split()[0] for line in table[1:]] == [r["commit"][:12] for r in rows]
        modified = next(line for line in table if " modified " in line)
        assert modified.rstrip().endswith("data.k")
    assert main([*args, "-o", "wide"]) == 0
    wide = capsys.readouterr().out.splitlines()
    every = ("email", "message", "is_revert") if what == "commits" else ("api_version", "error")
    assert len(wide) == len(rows) + 1 and set(every) <= set(wide[0].split())


def test_resource_changes_with_kustomize_renderer(repo: Path) -> None:
    df = resource_changes(repo, "main", "app", renderer=kustomize_renderer(repo, "app"))
    by_commit = df.groupby("commit")["change"].apply(list)
    assert "error" not in df["change"].tolist()
    kust = git(repo, "log", "--format=%H", "-1", "main", "--", "app/kustomization.yaml")
    # turning on kustomize's namePrefix renames the object: x-a added, a removed
    first_kust = git(
        repo, "log", "--format=%H", "--reverse", "main", "--", "app/kustomization.yaml"
    ).split()[0]
    assert sorted(by_commit[first_kust]) == ["added", "removed"]
    names = df[df["commit"] == first_kust].set_index("change")["name"].to_dict()
    assert names == {"added": "x-a", "removed": "a"}
    assert by_commit[kust] == ["removed"]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    d = tmp_path / "history"
    records = [
        run(0, in_sync()),
        run(1, drifted(change(manager="kubectl-scale"))),
        run(2, drifted(change(manager="kubectl-scale"))),
        run(3, in_sync()),
        run(
            4,
            drifted(
                change(
                    live="evil",
                    desired="good",
                    manager="kubectl-set",
                    path="spec.template.spec.containers[name=app].image",
                )
            ),
        ),
    ]
    for r in records:
        write_run(d, r)
    return d


@pytest.mark.parametrize("what", ["runs", "drift", "timeline", "deployments"])
def test_history_tables_in_every_format(
    what: str, history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", what, "--history-dir", str(history), "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows
    assert main(["history", what, "--history-dir", str(history), "-o", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split(",")[0]
    assert main(["history", what, "--history-dir", str(history)]) == 0
    assert capsys.readouterr().out.strip()
    out = tmp_path / f"{what}.parquet"
    assert (
        main(["history", what, "--history-dir", str(history), "-o", "parquet", "--out", str(out)])
        == 0
    )
    assert len(pd.read_parquet(out)) == len(rows)


def test_history_timeline_rows_and_filters(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "timeline", "--history-dir", str(history), "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["path"], r["managers"], r["open"]) for r in rows] == [  # open drift first
        ("spec.template.spec.containers[name=app].image", "kubectl-set", True),
        ("spec.replicas", "kubectl-scale", False),
    ]
    assert (
        main(
            [
                "history",
                "timeline",
                "--history-dir",
                str(history),
                "--kind",
                "ConfigMap",
                "-o",
                "json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out) == []
    assert (
        main(
            [
                "history",
                "runs",
                "--history-dir",
                str(history),
                "--since",
                "2026-11-28T12:30:00Z",
                "-o",
                "json",
            ]
        )
        == 0
    )
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_parquet_needs_an_output_file(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "runs", "--history-dir", str(history), "-o", "parquet"]) == 2
    assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["html", "markdown", "json", "csv"])
def test_report_from_history(
    fmt: str, history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"report.{fmt}"
    assert main(["report", "--history-dir", str(history), "--format", fmt, "-o", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["objects"] >= 1
    text = out.read_text()
    assert "kubectl-set" in text


def test_missing_history_directory_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "runs", "--history-dir", str(tmp_path / "nope")]) == 2
    assert "no such history directory" in capsys.readouterr().err


def test_relative_since_filters_runs(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["history", "runs", "--history-dir", str(history), "-o", "json"]
    assert main(args) == 0
    everything = json.loads(capsys.readouterr().out)
    assert main([*args, "--since", "1h"]) == 0  # the fixture's runs are years old
    assert everything and json.loads(capsys.readouterr().out) == []


def test_report_to_stdout(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["report", "--history-dir", str(history), "--format", "markdown", "-o", "-"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("# ") and "kubectl-scale" in out


FORMULAS = ('=HYPERLINK("http://evil.example","x")', "@SUM(A1:A9)", "+cmd|' /C calc'!A0")


def csv_cells(text: str) -> list[str]:
    return [c for row in list(csv.reader(io.StringIO(text)))[1:] for c in row]


def starts_a_formula(cells: list[str]) -> list[str]:
    return [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


@pytest.mark.parametrize("what", ["drift", "timeline"])
def test_history_csv_neutralises_formulas_like_the_report(
    what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "evil-history"
    hostile = change(live=FORMULAS[0], desired=FORMULAS[2], manager=FORMULAS[1])
    write_run(d, run(0, drifted(hostile)))
    write_run(d, run(1, drifted(change(live="\t=1+1", desired="-2+3", manager="\tx"))))
    assert main(["history", what, "--history-dir", str(d), "-o", "csv"]) == 0
    cells = csv_cells(capsys.readouterr().out)
    assert cells and not starts_a_formula(cells)
    if what == "drift":  # one cell per value
        assert {"'" + v for v in (*FORMULAS, "\t=1+1", "-2+3", "\tx")} <= set(cells)
    else:  # the episode's desired value and last manager
        assert {"'" + FORMULAS[2], "'\tx"} <= set(cells)

    out = tmp_path / "report.csv"
    assert main(["report", "--history-dir", str(d), "--format", "csv", "-o", str(out)]) == 0
    report_cells = csv_cells(out.read_text())
    assert {"'\t=1+1", "'-2+3", "'\tx"} <= set(report_cells)
    assert not starts_a_formula(report_cells)


def test_history_csv_keeps_a_carriage_return_inside_its_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CR is no line end for the csv module, so it went out unquoted and a spreadsheet
    started a new row there: with ``=...`` after it, a formula."""
    d = tmp_path / "cr-history"
    write_run(d, run(0, drifted(change(live='ok\r=HYPERLINK("http://evil.example")'))))
    assert main(["history", "drift", "--history-dir", str(d), "-o", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out, newline="")))
    assert len(rows) == 2  # the header and one drift: the CR started no row
    assert 'ok\n=HYPERLINK("http://evil.example")' in rows[1]
    assert not starts_a_formula([c for row in rows[1:] for c in row])


@pytest.mark.parametrize("what", ["drift", "timeline"])
def test_history_tables_show_drift_then_deployments(
    what: str, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", what, "--history-dir", str(history)]) == 0
    out = capsys.readouterr().out
    assert out.index("Drift (open first):") < out.index("Deployments (Git changes):")
    drift_part = out.split("Deployments (Git changes):")[0]
    assert "gitops-nb" not in drift_part


def test_history_drift_shows_episodes_then_deployments_with_commit_and_author(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Episodes (with their resolution), not per-run rows; Git's changes as deployments
    naming commit and author, never our field manager."""
    from gitops_nb.model import Cause

    d = tmp_path / "h"
    hand = change(manager="kubectl-edit")
    image = "spec.template.spec.containers[name=api].image"
    ours = replace(change(image, "api:1", "api:2", "gitops-nb"), cause=Cause.GIT)
    write_run(d, run(0, drifted(hand)))
    write_run(d, run(1, drifted(hand)))
    write_run(d, run(2, drifted(ours), commit="c2"))
    assert main(["history", "drift", "--history-dir", str(d)]) == 0
    out = capsys.readouterr().out
    drift_part, deploy_part = out.split("Deployments (Git changes):")
    assert "resolution" in drift_part and "changed in git" in drift_part  # no "adopted": old rule
    assert drift_part.count("kubectl-edit") == 1  # one episode, not a row per run
    assert "gitops-nb" not in out
    assert "author" in deploy_part and " dev " in f" {deploy_part} ".replace("\n", " ")
