"""`diff` and `apply` output for many objects (issue 14): a summary line, only what matters
by default (`--only-drifted`, changed objects), everything with `-v`, and no progress noise
when stderr is not a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.localcluster import LocalCluster
from tests.gitrepo import GitRepo

from .helpers import kubectl

pytestmark = pytest.mark.cluster

N = 60


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def many(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    for i in range(N):
        r.write(
            f"app/cm-{i:02d}.yaml",
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:02d}\ndata: {{i: '{i}'}}\n",
        )
    r.commit("sixty config maps")
    return r


def test_diff_and_apply_at_scale_say_what_matters(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    namespace: str,
    many: GitRepo,
    tmp_path: Path,
) -> None:
    f = [
        "--repo",
        str(many.path),
        "--path",
        "app",
        "--app",
        "many",
        "-n",
        namespace,
        "--kubeconfig",
        str(cluster.kubeconfig),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    code, out, err = run(capsys, "apply", *f)
    assert code == 0 and err == ""  # no progress bar off a terminal
    assert out.count("created") == N + 1  # N rows and the summary
    assert out.rstrip().endswith(f"{N} objects: {N} created")

    code, out, err = run(capsys, "apply", *f)
    assert code == 0 and err == ""
    assert "cm-" not in out  # 60 unchanged rows are not listed
    assert out.strip() == f"{N} objects: {N} unchanged"
    code, out, _ = run(capsys, "apply", *f, "-v")
    assert out.count("unchanged") == N + 1 and "cm-59" in out

    kubectl(cluster, "label", "configmap/cm-07", "team=red", "-n", namespace)
    kubectl(cluster, "delete", "configmap/cm-08", "-n", namespace)
    code, out, err = run(capsys, "diff", *f)
    assert code == 1 and err == ""
    assert out.rstrip().splitlines()[-1] == f"{N - 2} in sync, 1 drifted, 1 missing"
    assert "cm-59" in out  # the full table by default
    code, out, _ = run(capsys, "diff", *f, "--only-drifted")
    assert code == 1
    assert "cm-07" in out and "cm-08" in out and "cm-59" not in out and "InSync" not in out
    assert out.rstrip().splitlines()[-1] == f"{N - 2} in sync, 1 drifted, 1 missing"

    code, out, _ = run(capsys, "apply", *f, "--force-conflicts", "--dry-run")
    assert code == 0
    assert "cm-07" in out and "cm-08" in out and "cm-59" not in out
    assert out.rstrip().splitlines()[-1] == (
        f"{N} objects (dry run: nothing written): 1 created, 1 configured, {N - 2} unchanged"
    )
