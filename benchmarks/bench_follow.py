"""Benchmark: the history of one Kustomize overlay over shared bases.

Generates a repository of N commits (default 5,000) with three overlays (prod, staging,
dev) over three shared bases, then times ``history.commits`` for ``overlays/prod`` (which
follows the overlay's closure, renders each commit whose closure changed, and marks each
with its effect) against the floor a careful script would need:

- ``git log --raw -- <every path in prod's closure>`` (git's own cost), plus
- one ``git archive`` + ``kubectl kustomize`` per *effective* commit (a commit that changed
  prod's rendered objects), timed on a sample and extrapolated.

The ratio target is 5x. What bounds us: one Kustomize build per distinct closure state,
including commits that touch the closure without effect (comments, no-op edits), which the
floor does not pay for because it already knows which commits matter.

    .venv/bin/python benchmarks/bench_follow.py --commits 5000 [--sample 40]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from gitops_nb.binaries import find_binary
from gitops_nb.history.appchanges import commits
from gitops_nb.history.follow import AppHistory
from gitops_nb.history.gitlog import _open

BASES = ("web", "db", "cache")
OVERLAYS = ("prod", "staging", "dev")
APP = "overlays/prod"


def _deployment(base: str, image: str, comment: str = "") -> bytes:
    return (
        f"{comment}apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {base}\nspec:\n"
        f"  selector:\n    matchLabels: {{app: {base}}}\n  template:\n"
        f"    metadata:\n      labels: {{app: {base}}}\n"
        f"    spec:\n      containers:\n      - name: {base}\n        image: {image}\n"
    ).encode()


def _overlay(name: str, replicas: int) -> bytes:
    resources = ", ".join(f"../../bases/{b}" for b in BASES)
    return (
        f"namespace: {name}\nresources: [{resources}]\n"
        f"replicas:\n- name: web\n  count: {replicas}\n"
    ).encode()


def generate(root: Path, n: int) -> None:
    """Commit i: by i mod 10, a base image bump, a base comment (no effect), an overlay
    change (prod, staging or dev), a generator file, docs, or an unreferenced base file."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=root, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    w = proc.stdin.write

    def put(path: str, content: bytes) -> None:
        w(f"M 100644 inline {path}\n".encode())
        w(b"data %d\n" % len(content) + content + b"\n")

    image = {b: f"{b}:1" for b in BASES}
    for i in range(1, n + 1):
        w(b"commit refs/heads/main\nmark :%d\n" % i)
        w(b"committer Dev <dev@example.com> %d +0000\n" % (1_700_000_000 + i * 60))
        msg = b"change %d\n" % i
        w(b"data %d\n" % len(msg) + msg + b"\n")
        if i == 1:
            for b in BASES:
                put(
                    f"bases/{b}/kustomization.yaml",
                    b"resources: [deployment.yaml]\n"
                    b"configMapGenerator:\n- name: %s-config\n  files: [app.properties]\n"
                    % b.encode(),
                )
                put(f"bases/{b}/deployment.yaml", _deployment(b, f"{b}:1"))
                put(f"bases/{b}/app.properties", b"mode=1\n")
            for k, o in enumerate(OVERLAYS):
                put(f"overlays/{o}/kustomization.yaml", _overlay(o, k + 1))
            continue
        w(b"from :%d\n" % (i - 1))
        base, kind = BASES[i % 3], i % 10
        if kind in (0, 1):
            image[base] = f"{base}:{i}"
            put(f"bases/{base}/deployment.yaml", _deployment(base, image[base]))
        elif kind == 2:  # a comment: the rendered objects stay the same
            put(
                f"bases/{base}/deployment.yaml",
                _deployment(base, image[base], comment=f"# note {i}\n"),
            )
        elif kind in (3, 4, 5):
            overlay = OVERLAYS[kind - 3]
            put(f"overlays/{overlay}/kustomization.yaml", _overlay(overlay, i % 7 + 1))
        elif kind == 6:
            put(f"bases/{base}/app.properties", b"mode=%d\n" % i)
        elif kind == 7:
            put("docs/README.md", b"docs %d\n" % i)
        else:
            put(f"bases/{base}/NOTES.md", b"notes %d\n" % i)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")


def _render_whole(root: Path, commit: str) -> None:
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", commit], capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        subprocess.run(
            [str(find_binary("kubectl")), "kustomize", str(Path(tmp) / APP)],
            capture_output=True,
            check=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commits", type=int, default=5_000)
    ap.add_argument("--sample", type=int, default=40, help="renders timed for the floor")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        t0 = time.perf_counter()
        generate(root, args.commits)
        print(f"generated {args.commits} commits in {time.perf_counter() - t0:.1f}s")

        t0 = time.perf_counter()
        df = commits(root, "main", APP)
        ours_s = time.perf_counter() - t0
        r = _open(root)
        try:
            history = AppHistory(r, "main", APP)
            paths = history.paths()
        finally:
            r.close()
        effective = df[df["effect"] != "none"]["commit"].tolist()

        t0 = time.perf_counter()
        subprocess.run(
            ["git", "log", "--raw", "main", "--", *paths], cwd=root, capture_output=True, check=True
        )
        log_s = time.perf_counter() - t0
        sample = effective[:: max(1, len(effective) // args.sample)][: args.sample]
        t0 = time.perf_counter()
        for sha in sample:
            _render_whole(root, sha)
        per_render = (time.perf_counter() - t0) / max(1, len(sample))
        floor_s = log_s + per_render * len(effective)

        counts = df["effect"].value_counts().to_dict()
        print(f"closure of {APP}: {len(paths)} paths; {len(df)} commits touched it {counts}")
        print(f"history.commits({APP}): {ours_s:.1f}s")
        print(
            f"floor: git log --raw -- <closure> {log_s:.2f}s + {len(effective)} renders x "
            f"{per_render * 1000:.0f} ms = {floor_s:.1f}s"
        )
        print(f"ratio: {ours_s / floor_s:.2f}x (target <= 5x)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
