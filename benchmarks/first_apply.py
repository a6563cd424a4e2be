"""Benchmark: the first apply of N generated objects under client rate limits, against kubectl.

One local control plane; each run applies its own copy of the same objects (another
namespace prefix), so every run is a true first apply:

    .venv/bin/python benchmarks/first_apply.py [--objects 5000] [--limits 300:600 300:2000 0:0]

A limit is ``QPS:BURST`` (``GITOPS_NB_QPS``/``GITOPS_NB_BURST``; ``0:0`` = no client limit,
API Priority and Fairness decides). kubectl runs last, ``apply --server-side -R``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import generate, write_tree
from gitops_nb.localcluster import LocalCluster, find_binary

VENV = Path(sys.executable).parent


def _commit(repo: Path) -> None:
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    who = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "-C", str(repo), *who, "commit", "-qm", "objects"], check=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", type=int, default=5000)
    p.add_argument("--limits", nargs="+", default=["300:600", "300:2000", "0:0"])
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gitops-nb-first-apply-"))
    cluster = LocalCluster(workdir=work / "cluster")
    cluster.start()
    try:
        for i, limit in enumerate(args.limits):
            qps, burst = limit.split(":")
            repo = work / f"repo{i}"
            write_tree(repo / "k", generate(args.objects, f"fa{i}"))
            _commit(repo)
            env = {**os.environ, "GITOPS_NB_QPS": qps, "GITOPS_NB_BURST": burst}
            argv = [str(VENV / "gitops-nb"), "apply", "--repo", str(repo), "--path", "k"]
            argv += ["--app", f"fa{i}", "--kubeconfig", str(cluster.kubeconfig), "-o", "json"]
            argv += ["--cache-dir", str(work / "cache")]
            t = time.monotonic()
            done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            print(f"gitops-nb apply  limit {limit:>9}: {time.monotonic() - t:6.2f} s  "
                  f"(exit {done.returncode})", flush=True)  # fmt: skip
        objects = work / "kubectl"
        write_tree(objects, generate(args.objects, "kc"))
        kubectl = [str(find_binary("kubectl")), "--kubeconfig", str(cluster.kubeconfig)]
        t = time.monotonic()
        done = subprocess.run(
            [*kubectl, "apply", "--server-side", "-R", "-f", str(objects)],
            capture_output=True,
            text=True,
            check=False,
        )
        print(f"kubectl apply --server-side: {time.monotonic() - t:6.2f} s  "
              f"(exit {done.returncode})", flush=True)  # fmt: skip
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
