"""Benchmark: iter_commits (one streaming git log, parsed in Python) against raw `git log`.

Generates a repository of N commits touching manifests with `git fast-import`, then times

- ``git log --raw -- PATH`` in a subprocess, output captured (the floor: git's own cost),
- the same with the exact arguments iter_commits passes (``-z --no-abbrev -M`` + format),
- ``iter_commits`` consumed without keeping the commits (streaming parse),

and reports the ratio (target: within 3x) and peak memory (tracemalloc for Python
allocations while iterating; ru_maxrss for the whole process).

    .venv/bin/python benchmarks/bench_gitlog.py --commits 10000 [--changes]
    .venv/bin/python benchmarks/bench_gitlog.py --repo PATH [--ref main] [--path DIR]

With ``--repo`` it measures an existing clone instead (any real repository's history).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from gitops_nb.history.appchanges import resource_changes
from gitops_nb.history.gitlog import _FORMAT, iter_commits

FILES = 50
PATH = "apps/web"


def manifest(i: int, k: int) -> bytes:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{k}\n  namespace: web\n"
        f"data:\n  revision: '{i}'\n"
    ).encode()


def generate(root: Path, n: int) -> None:
    """N commits on main; commit i rewrites one of FILES manifests (every 10th also a README)."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=root, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    w = proc.stdin.write

    def data(b: bytes) -> None:
        w(b"data %d\n" % len(b) + b + b"\n")

    for i in range(1, n + 1):
        w(b"commit refs/heads/main\nmark :%d\n" % i)
        w(b"committer Dev <dev@example.com> %d +0000\n" % (1_700_000_000 + i * 60))
        data(b"change %d\n\nbumps cm-%d to revision %d\n" % (i, i % FILES, i))
        if i > 1:
            w(b"from :%d\n" % (i - 1))
        w(f"M 100644 inline {PATH}/cm-{i % FILES}.yaml\n".encode())
        data(manifest(i, i % FILES))
        if i % 10 == 0:
            w(b"M 100644 inline README.md\n")
            data(b"readme %d\n" % i)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def best_of(rounds: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commits", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--changes", action="store_true", help="also time resource_changes")
    ap.add_argument("--repo", type=Path, default=None, help="measure this clone instead")
    ap.add_argument("--ref", default="HEAD", help="with --repo: ref to walk from")
    ap.add_argument("--path", default=".", help="with --repo: app path to follow")
    args = ap.parse_args()

    if args.repo is not None:
        n = int(
            subprocess.run(
                ["git", "-C", str(args.repo), "rev-list", "--count", args.ref],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        print(f"repository {args.repo} at {args.ref}: {n} commits, path {args.path}")
        measure(args.repo, args.ref, args.path, args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "repo"
            t0 = time.perf_counter()
            generate(root, args.commits)
            print(f"generated {args.commits} commits in {time.perf_counter() - t0:.1f}s")
            measure(root, "HEAD", PATH, args)
    sys.stdout.flush()


def measure(root: Path, ref: str, path: str, args: argparse.Namespace) -> None:
    def git_log(*extra: str) -> int:
        out = subprocess.run(
            ["git", "log", *extra, ref, "--", path],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
        return len(out)

    def ours() -> int:
        return sum(1 for _ in iter_commits(root, ref, path))

    plain_s, plain_bytes = best_of(args.rounds, lambda: git_log("--raw"))
    same = ("-z", "--raw", "--no-abbrev", "-M", "--root", _FORMAT)
    same_s, same_bytes = best_of(args.rounds, lambda: git_log(*same))
    ours_s, count = best_of(args.rounds, ours)

    tracemalloc.start()
    ours()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    print(f"git log --raw (subprocess, captured): {plain_s:.3f}s, {plain_bytes} bytes")
    print(f"git log, iter_commits' arguments:     {same_s:.3f}s, {same_bytes} bytes")
    print(f"iter_commits (streamed, {count} commits): {ours_s:.3f}s")
    print(f"ratio vs git log --raw: {ours_s / plain_s:.2f}x (target <= 3x)")
    print(f"ratio vs same arguments: {ours_s / same_s:.2f}x")
    print(f"peak Python allocations while iterating: {peak / 1024:.0f} KiB")
    print(f"process max RSS: {maxrss_kib / 1024:.1f} MiB")

    if args.changes:
        t0 = time.perf_counter()
        df = resource_changes(root, ref, path)
        print(f"resource_changes: {len(df)} rows in {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
