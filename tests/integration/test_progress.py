"""Progress fed by the engine against a real API server (issue 14): every phase's bar ends
at N/N and never passes it: the diff's dry-runs, an apply's dry-runs and writes (prunes
included) and ``--wait``."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from gitops_nb.cli.progress import Progress
from gitops_nb.engine import SyncOptions
from gitops_nb.localcluster import LocalCluster
from gitops_nb.source import SourceSpec
from gitops_nb.usecases.sync import apply_app, diff_app
from tests.gitrepo import GitRepo

pytestmark = pytest.mark.cluster

N = 30
PRUNED = 4


class Recorded(Progress):
    """The CLI's own bar on a forced terminal, noting where each phase's count ended."""

    def __init__(self) -> None:
        super().__init__(Console(file=io.StringIO(), force_terminal=True, width=120), "x")
        self.phases: list[tuple[str, int]] = []
        self.ended: list[tuple[str, float, float | None]] = []
        self.steps = 0
        self.lock = threading.Lock()

    def _note_end(self) -> None:
        if self.phases:
            task = self._bar.tasks[0]
            self.ended.append((self.phases[-1][0], task.completed, task.total))

    def phase(self, name: str, total: int) -> None:
        self._note_end()
        self.phases.append((name, total))
        super().phase(name, total)

    def step(self, n: int = 1) -> None:
        with self.lock:
            self.steps += n
        super().step(n)

    def finish(self) -> list[tuple[str, float, float | None]]:
        self._note_end()
        return self.ended


def configmaps(repo: GitRepo, count: int) -> str:
    if (repo.path / "app").exists():
        repo.remove("app")
    for i in range(count):
        repo.write(
            f"app/cm-{i:02d}.yaml",
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:02d}\ndata: {{i: '{i}'}}\n",
        )
    return repo.commit(f"{count} config maps")


def test_bars_advance_to_n_of_n_and_never_past(
    cluster: LocalCluster, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    configmaps(repo, N)
    spec = SourceSpec(str(repo.path), "main", "app")
    opts = SyncOptions(app="bars", namespace=namespace)
    kw: dict[str, Any] = {"kubeconfig": cluster.kubeconfig, "cache_dir": tmp_path / "cache"}

    with Recorded() as p:
        diff_app(spec, opts, on_rendered=p.rendered, progress=p, **kw)
    assert p.finish()[-1] == ("dry-running", N, N)  # it stayed at 0/N before

    with Recorded() as p:
        result = apply_app(spec, opts, on_rendered=p.rendered, progress=p, wait_s=30, **kw)
    assert result.exit_code == 0
    assert p.finish() == [
        ("x", 0, N),  # rendered: the objects are known, nothing done yet
        ("dry-running", N, N),
        ("applying", N, N),
        ("waiting for Current", N, N),
    ]

    configmaps(repo, N - PRUNED)  # Git drops four: the apply prunes them
    with Recorded() as p:
        pruning = SyncOptions(app="bars", namespace=namespace, prune=True)
        result = apply_app(spec, pruning, progress=p, **kw)
    assert result.exit_code == 0
    assert sum(e.action.value == "pruned" for e in result.changes.entries) == PRUNED
    ended = p.finish()
    assert ended == [("dry-running", N - PRUNED, N - PRUNED), ("applying", N, N)]
    assert p.steps == (N - PRUNED) + N  # each object counted once per phase: never past 100 %


def test_dry_run_apply_names_its_phase(
    cluster: LocalCluster, namespace: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    configmaps(repo, N)
    with Recorded() as p:
        apply_app(
            SourceSpec(str(repo.path), "main", "app"),
            SyncOptions(app="dry", namespace=namespace, dry_run=True),
            kubeconfig=cluster.kubeconfig,
            cache_dir=tmp_path / "cache",
            progress=p,
        )
    assert p.finish() == [("dry-running", N, N), ("applying (dry run)", N, N)]
