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

    .venv/bin/python benchmarks/bench_follow.py --commits 5000 [--sample 40] [--out DIR]

Results: ``benchmarks/results/follow.{json,md}`` (machine, load, commit, every figure);
``--commits`` below 5,000 writes ``follow-<N>.{json,md}`` instead, so a smoke run does not
overwrite the published numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

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


RESULTS = Path(__file__).resolve().parent / "results"
PUBLISHED = 5_000


def _context() -> dict[str, Any]:
    """What the numbers depend on: when, where, at which commit, how loaded the machine was."""
    head = subprocess.run(
        ["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "gitops_nb_commit": head,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _markdown(r: dict[str, Any]) -> str:
    effects = ", ".join(f"{k} {v}" for k, v in r["effects"].items())
    return (
        f"# History of one Kustomize overlay over shared bases ({r['commits']} commits)\n\n"
        f"{r['date']}, gitops-nb {r['gitops_nb_commit']}, {r['machine']}, "
        f"load {r['load_average_1m']} at the start, {r['load_average_1m_end']} at the end.\n\n"
        "| measure | result |\n|---|---|\n"
        f"| closure of `{r['app']}` | {r['closure_paths']} paths |\n"
        f"| commits touching it | {r['commits_touching']} ({effects}) |\n"
        f"| `history.commits` | **{r['history_s']} s** |\n"
        f"| floor: `git log --raw -- <closure>` | {r['git_log_s']} s |\n"
        f"| floor: one `git archive` + `kubectl kustomize` per effective commit | "
        f"{r['effective_commits']} x {r['render_ms']} ms (sample of {r['sample']}) |\n"
        f"| floor total | {r['floor_s']} s |\n"
        f"| ratio | **{r['ratio']}x** (target <= 5x) |\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commits", type=int, default=PUBLISHED)
    ap.add_argument("--sample", type=int, default=40, help="renders timed for the floor")
    ap.add_argument("--out", type=Path, default=RESULTS, help="directory for the results")
    args = ap.parse_args()
    context = _context()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        t0 = time.perf_counter()
        generate(root, args.commits)
        generate_s = time.perf_counter() - t0
        print(f"generated {args.commits} commits in {generate_s:.1f}s")

        t0 = time.perf_counter()
        df = commits(root, "main", APP)
        ours_s = time.perf_counter() - t0
        r = _open(root)
        try:
            paths = AppHistory(r, "main", APP).paths()  # the closure's union, no render
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
        result = {
            **context,
            "commits": args.commits,
            "app": APP,
            "generate_s": round(generate_s, 1),
            "closure_paths": len(paths),
            "commits_touching": len(df),
            "effects": {str(k): int(v) for k, v in counts.items()},
            "history_s": round(ours_s, 1),
            "git_log_s": round(log_s, 3),
            "effective_commits": len(effective),
            "sample": len(sample),
            "render_ms": round(per_render * 1000),
            "floor_s": round(floor_s, 1),
            "ratio": round(ours_s / floor_s, 2),
            "target_ratio": 5.0,
            "load_average_1m_end": round(os.getloadavg()[0], 2),
        }
    name = "follow" if args.commits == PUBLISHED else f"follow-{args.commits}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"{name}.md").write_text(_markdown(result))
    print(f"wrote {args.out / name}.json and .md")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
