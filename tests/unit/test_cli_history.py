"""`gitops-nb history` and `gitops-nb report` on real repos and record files (no cluster)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from gitops_nb.cli import main
from gitops_nb.history import resource_changes
from gitops_nb.history.gitrender import kustomize_renderer
from gitops_nb.records.files import write_run

from .test_timeline import change, drifted, in_sync, run


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.name", "Ann")
    git(r, "config", "user.email", "ann@example.com")

    def commit(msg: str) -> str:
        git(r, "add", "-A")
        git(r, "commit", "-q", "-m", msg)
        return git(r, "rev-parse", "HEAD")

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


@pytest.mark.parametrize("what", ["runs", "drift", "timeline"])
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
    assert [(r["path"], r["managers"], r["open"]) for r in rows] == [
        ("spec.replicas", "kubectl-scale", False),
        ("spec.template.spec.containers[name=app].image", "kubectl-set", True),
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
