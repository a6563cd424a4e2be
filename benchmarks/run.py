"""Side-by-side benchmark: gitops-nb against kubectl on the same local control plane.

For each size N: generate N objects twice (namespaces ``bench-g-*`` for gitops-nb,
``bench-k-*`` for kubectl) in one Git repository, start one fresh LocalCluster, and time

1. the first apply,
2. a no-op reconcile of the unchanged cluster (and a no-op diff),
3. drift detection after 1 % of the objects were changed with kubectl, then after another
   1 % were given a label Git does not set (an addition ``kubectl diff`` cannot see),
4. an apply that prunes the 10 % of objects removed from Git (and corrects the drift).

Each row: wall time, API requests sent, peak RSS of the tool process. Every step checks exit
codes and output, so a number is only reported for a run that did what it should.

    .venv/bin/python benchmarks/run.py [--sizes 1000,5000] [--quick]

Results: benchmarks/results/latest.{md,json} (``--quick``: quick.{md,json}).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generate import (
    Obj,
    addition_set,
    drift_set,
    generate,
    prune_set,
    with_prefix,
    write_tree,
)
from measure import (
    BenchError,
    Completed,
    Measurement,
    count_gitops_requests,
    count_kubectl_requests,
    count_kubectl_throttled,
    json_lines,
    kubectl_diff_objects,
    kubectl_output_counts,
    run_measured,
)

from gitops_nb.engine.applyset import applyset_id
from gitops_nb.localcluster import LocalCluster, find_binary

RESULTS = Path(__file__).resolve().parent / "results"
G, K = "bench-g", "bench-k"  # namespace prefixes of the two copies
APP = "bench"
# kubectl only accepts a namespaced ApplySet parent together with -n, and -n then rejects
# objects in other namespaces. A cluster-scoped custom parent type (allowed by KEP-3659 when
# its CRD carries the is-parent-type label) lets one kubectl apply span all ten namespaces.
PARENT_GROUP, PARENT_KIND, PARENT_PLURAL = "bench.gitops-nb.io", "ApplySet", "applysets"
PARENT_CRD = f"""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {PARENT_PLURAL}.{PARENT_GROUP}
  labels: {{applyset.kubernetes.io/is-parent-type: "true"}}
spec:
  group: {PARENT_GROUP}
  names: {{kind: {PARENT_KIND}, plural: {PARENT_PLURAL}, singular: applyset}}
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
"""
PARENT = f"""
apiVersion: {PARENT_GROUP}/v1
kind: {PARENT_KIND}
metadata:
  name: "{{name}}"
  labels: {{{{applyset.kubernetes.io/id: "{{id}}"}}}}
  annotations:
    applyset.kubernetes.io/tooling: "{{tooling}}"
    applyset.kubernetes.io/contains-group-kinds: ""
"""
APPLYSET_FLAG = f"--applyset={PARENT_PLURAL}.{PARENT_GROUP}/{K}"
DRIFT_STATUSES = {"Drifted", "Missing", "Extraneous"}
# Pairs compared in the ratio table: (step, kubectl row, gitops-nb row).
PAIRS = (
    ("1 first apply", "kubectl apply", "gitops-nb apply"),
    ("2 no-op", "kubectl apply", "gitops-nb reconcile"),
    ("2 no-op", "kubectl diff", "gitops-nb diff"),
    ("3 drift 1%", "kubectl diff", "gitops-nb diff"),
    ("3b +1% added", "kubectl diff", "gitops-nb diff"),
    ("4 prune 10%", "kubectl apply", "gitops-nb apply"),
)


@dataclass
class SizeResult:
    n: int
    measurements: list[Measurement] = field(default_factory=list)
    drifted: int = 0
    added: int = 0
    pruned: int = 0
    cluster: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "objects": self.n,
            "drifted": self.drifted,
            "added": self.added,
            "pruned": self.pruned,
            "cluster": self.cluster,
            "error": self.error,
            "measurements": [m.to_dict() for m in self.measurements],
            "ratios": ratios(self.measurements),
        }


class SizeBench:
    """All four steps for one N on one fresh cluster."""

    def __init__(self, n: int, workdir: Path, seed: int, deadline: float) -> None:
        self.n = n
        self.workdir = workdir
        self.seed = seed
        self.deadline = deadline
        self.kubectl = str(find_binary("kubectl"))
        beside = Path(sys.executable).with_name("gitops-nb")  # the venv's console script
        self.gitops = str(beside) if beside.exists() else shutil.which("gitops-nb") or ""
        if not self.gitops:
            raise BenchError("gitops-nb is not installed: pip install -e . first")
        self.repo = workdir / "repo"
        self.logs = workdir / "logs"  # each measured run's stdout/stderr (kept with --keep)
        self.kubeconfig = ""
        self.result = SizeResult(n)
        self._changed: set[tuple[str, str, str]] = set()

    # -- plumbing ------------------------------------------------------------------------

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BenchError("the overall time limit was reached")
        return left

    def _kubectl_plain(self, *args: str, input_text: str | None = None) -> str:
        """An untimed kubectl call for set-up; raises on failure."""
        argv = [self.kubectl, f"--kubeconfig={self.kubeconfig}", *self._cache(), *args]
        p = subprocess.run(
            argv, input=input_text, capture_output=True, text=True, timeout=self._left()
        )
        if p.returncode != 0:
            raise BenchError(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:500]}")
        return p.stdout

    def _cache(self) -> list[str]:
        return [f"--cache-dir={self.workdir / 'kubectl-cache'}"]

    def _git(self, *args: str) -> None:
        subprocess.run(["git", "-C", str(self.repo), *args], check=True, capture_output=True)

    def _gitops(self, step: str, label: str, *args: str, expect: int) -> Completed:
        common = {
            "--repo": str(self.repo),
            "--path": "g",
            "--app": APP,
            "--namespace": f"{G}-00",
            "--kubeconfig": self.kubeconfig,
            "--cache-dir": str(self.workdir / "git-cache"),
        }
        argv = [self.gitops, *args, *(x for pair in common.items() for x in pair)]
        env = {**os.environ, "GITOPS_NB_REQUEST_LOG": "1"}
        done = run_measured(argv, env=env, timeout=self._left())
        self._expect(step, label, done, expect)
        return done

    def _kubectl(
        self, step: str, label: str, *args: str, expect: int, applyset: bool = False
    ) -> Completed:
        argv = [self.kubectl, f"--kubeconfig={self.kubeconfig}", *self._cache(), "-v=6", *args]
        env = {**os.environ, **({"KUBECTL_APPLYSET": "true"} if applyset else {})}
        done = run_measured(argv, env=env, timeout=self._left())
        self._expect(step, label, done, expect)
        return done

    def _expect(self, step: str, label: str, done: Completed, code: int) -> None:
        if done.returncode != code:
            tail = "\n".join(
                line for line in done.stderr.splitlines()[-40:] if "round_trippers" not in line
            )
            raise BenchError(
                f"{step} / {label}: exit {done.returncode}, expected {code}\n{tail[-2000:]}"
            )

    def _record(self, step: str, label: str, done: Completed, check: str) -> None:
        kubectl = label.startswith("kubectl")
        requests = (
            count_kubectl_requests(done.stderr) if kubectl else count_gitops_requests(done.stderr)
        )
        throttled = count_kubectl_throttled(done.stderr) if kubectl else 0
        if throttled:
            check += f"; {throttled} requests throttled client-side"
        m = Measurement(
            step=step,
            tool=label,
            command=" ".join([Path(done.argv[0]).name, *done.argv[1:]]),
            wall_s=round(done.wall_s, 3),
            requests=requests,
            peak_mb=round(done.peak_mb, 1),
            exit_code=done.returncode,
            check=check,
        )
        self.result.measurements.append(m)
        stem = f"{len(self.result.measurements):02d}-{label.replace(' ', '-')}"
        self.logs.mkdir(exist_ok=True)
        (self.logs / f"{stem}.stdout").write_text(done.stdout)
        (self.logs / f"{stem}.stderr").write_text(done.stderr)
        req = "n/a" if requests is None else str(requests)
        print(
            f"  N={self.n:<6} {step:<13} {label:<20} {m.wall_s:8.2f}s  req {req:>6}  "
            f"{m.peak_mb:7.1f} MB  [{m.check}]",
            flush=True,
        )

    def settle(self, timeout: float = 90.0) -> None:
        """Wait until the controllers stop creating/deleting ReplicaSets and Pods, so one
        tool's aftermath does not load the API server while the next one is timed."""
        end = time.monotonic() + min(timeout, self._left())
        last: tuple[int, int] | None = None
        while time.monotonic() < end:
            now = (self._count("/apis/apps/v1/replicasets"), self._count("/api/v1/pods"))
            if now == last:
                return
            last = now
            time.sleep(1.0)

    def _count(self, path: str) -> int:
        doc = json.loads(self._kubectl_plain("get", "--raw", f"{path}?limit=1"))
        return len(doc.get("items") or []) + int(doc["metadata"].get("remainingItemCount") or 0)

    # -- set-up --------------------------------------------------------------------------

    def prepare(self) -> tuple[list[Obj], list[Obj]]:
        g, k = generate(self.n, G, self.seed), generate(self.n, K, self.seed)
        self.repo.mkdir(parents=True)
        self._git("init", "-q", "-b", "main")
        self._git("config", "user.name", "bench")
        self._git("config", "user.email", "bench@example.com")
        write_tree(self.repo / "g", g)
        write_tree(self.repo / "k", k)
        self._git("add", "-A")
        self._git("commit", "-q", "-m", f"{self.n} objects")
        return g, k

    def cluster_setup(self) -> None:
        """Home namespaces of both tools and kubectl's ApplySet parent, created untimed."""
        for ns in (f"{G}-00", f"{K}-00"):
            self._kubectl_plain("create", "namespace", ns)
        self._kubectl_plain("apply", "--server-side", "-f", "-", input_text=PARENT_CRD)
        self._kubectl_plain(
            "wait", "--for=condition=Established", f"crd/{PARENT_PLURAL}.{PARENT_GROUP}"
        )
        version = self._kubectl_plain("version", "--client", "-o", "json")
        parent = PARENT.format(
            name=K,
            id=applyset_id(K, "", PARENT_KIND, PARENT_GROUP),
            tooling="kubectl/" + json.loads(version)["clientVersion"]["gitVersion"],
        )
        # kubectl's own ApplySet field manager, so its first update is not a conflict.
        manager = "--field-manager=kubectl-applyset"
        self._kubectl_plain("apply", "--server-side", manager, "-f", "-", input_text=parent)

    # -- the steps -----------------------------------------------------------------------

    def kubectl_apply(self, step: str, *, force: bool = False) -> Completed:
        args = ["apply", "--server-side", "--prune", APPLYSET_FLAG, "-f", str(self.repo / "k")]
        if force:
            args.append("--force-conflicts")
        return self._kubectl(step, "kubectl apply", *args, "-R", expect=0, applyset=True)

    def kubectl_diff(self, step: str, expect: int) -> Completed:
        # Own field manager: as "kubectl" the dry-run would drop the ApplySet label kubectl
        # apply added (diff has no --applyset) and every object would differ. Forcing lets
        # the dry-run take back fields the drift's managers (kubectl-label, …) now own.
        args = ["diff", "--server-side", "--field-manager=kubectl-diff", "--force-conflicts"]
        return self._kubectl(
            step, "kubectl diff", *args, "-f", str(self.repo / "k"), "-R", expect=expect
        )

    def step1(self) -> None:
        s = "1 first apply"
        done = self._gitops(s, "gitops-nb apply", "apply", "-o", "json", expect=0)
        counts = json.loads(done.stdout)["counts"]
        applied = counts["created"] + counts["configured"]
        _check(s, counts["failed"] == 0 and applied == self.n, f"counts {counts}")
        self._record(s, "gitops-nb apply", done, f"{applied} applied")
        self.settle()
        done = self.kubectl_apply(s)
        n = kubectl_output_counts(done.stdout).get("serverside-applied", 0)
        _check(s, n == self.n, f"kubectl applied {n} of {self.n}")
        self._record(s, "kubectl apply", done, f"{n} applied")
        self.settle()

    def step2(self) -> None:
        s = "2 no-op"
        history = self.workdir / "history"
        # The first reconcile after a one-off apply dry-runs every object and records the
        # fingerprints; every later run of the CronJob is the steady state measured next.
        for tool in ("gitops-nb reconcile (first)", "gitops-nb reconcile"):
            done = self._gitops(s, tool, "reconcile", "--history-dir", str(history), expect=0)
            finished = [e for e in json_lines(done.stdout) if e.get("event") == "run-finished"]
            _check(s, len(finished) == 1, "no run-finished event in reconcile output")
            c = finished[0].get("counts") or {}
            writes = sum(int(c.get(k, 0)) for k in ("created", "configured", "pruned", "failed"))
            ok = (
                finished[0].get("outcome") == "succeeded" and writes == 0 and c["in_sync"] == self.n
            )
            _check(s, ok, f"reconcile of an unchanged cluster: {finished[0]}")
            self._record(s, tool, done, f"{c['in_sync']} in sync, 0 writes")
        done = self.kubectl_apply(s)
        counts = kubectl_output_counts(done.stdout)
        _check(s, "pruned" not in counts, f"kubectl no-op apply pruned: {counts}")
        self._record(s, "kubectl apply", done, f"{counts.get('serverside-applied', 0)} patched")
        done = self._gitops(s, "gitops-nb diff", "diff", "-o", "json", expect=0)
        self._record(s, "gitops-nb diff", done, f"{self._diff_check(s, done, set())} drifted")
        done = self.kubectl_diff(s, expect=0)
        self._record(s, "kubectl diff", done, "no diff")

    def step3(self, g: list[Obj], avoid: set[int]) -> None:
        s = "3 drift 1%"
        drifts = drift_set(g, avoid=avoid)
        for d in drifts:
            self._kubectl_plain(*d.args)
            self._kubectl_plain(*with_prefix(d, G, K).args)
        self.result.drifted = len(drifts)
        self.settle()
        want = {(d.namespace, d.name) for d in drifts}
        done = self._gitops(s, "gitops-nb diff", "diff", "-o", "json", expect=1)
        self._record(s, "gitops-nb diff", done, f"{self._diff_check(s, done, want)} drifted")
        done = self.kubectl_diff(s, expect=1)
        n = kubectl_diff_objects(done.stdout)
        _check(s, n == len(drifts), f"kubectl diff shows {n} objects, {len(drifts)} drifted")
        self._record(s, "kubectl diff", done, f"{n} differ")
        self._changed = {(d.kind, d.namespace, d.name) for d in drifts}

    def step3b(self, g: list[Obj], avoid: set[int]) -> None:
        s = "3b +1% added"
        taken = {o.index for o in g if (o.kind, o.namespace, o.name) in self._changed}
        adds = addition_set(g, avoid=avoid | taken)
        for d in adds:
            self._kubectl_plain(*d.args)
            self._kubectl_plain(*with_prefix(d, G, K).args)
        self.result.added = len(adds)
        self.settle()
        want = {(ns, name) for _k, ns, name in self._changed} | {
            (d.namespace, d.name) for d in adds
        }
        done = self._gitops(s, "gitops-nb diff", "diff", "-o", "json", expect=1)
        self._record(s, "gitops-nb diff", done, f"{self._diff_check(s, done, want)} drifted")
        done = self.kubectl_diff(s, expect=1)
        n = kubectl_diff_objects(done.stdout)
        _check(s, n == len(self._changed), f"kubectl diff shows {n}, {len(self._changed)} changed")
        self._record(s, "kubectl diff", done, f"{n} differ; sees none of the {len(adds)} added")

    def step4(self, g: list[Obj], k: list[Obj], drop: set[int]) -> None:
        s = "4 prune 10%"
        write_tree(self.repo / "g", [o for o in g if o.index not in drop])
        write_tree(self.repo / "k", [o for o in k if o.index not in drop])
        self._git("add", "-A")
        self._git("commit", "-q", "-m", f"remove {len(drop)} objects")
        self.result.pruned = len(drop)
        # --force-conflicts on both: step 3's kubectl edits now own the drifted fields.
        flags = ("--prune", "--allow-mass-prune", "--force-conflicts", "-o", "json")
        done = self._gitops(s, "gitops-nb apply", "apply", *flags, expect=0)
        counts = json.loads(done.stdout)["counts"]
        ok = counts["failed"] == 0 and counts["pruned"] == len(drop)
        fixed = self.result.drifted + self.result.added
        _check(s, ok and counts["configured"] >= fixed, f"counts {counts}")
        self._record(s, "gitops-nb apply", done, f"{counts['pruned']} pruned")
        self.settle()
        done = self.kubectl_apply(s, force=True)
        n = kubectl_output_counts(done.stdout).get("pruned", 0)
        _check(s, n == len(drop), f"kubectl pruned {n}, expected {len(drop)}")
        self._record(s, "kubectl apply", done, f"{n} pruned")

    def _diff_check(self, step: str, done: Completed, want: set[tuple[str, str]]) -> int:
        """gitops-nb diff JSON must name exactly the drifted objects (no Secret values)."""
        doc = json.loads(done.stdout)
        got = {
            (r["namespace"], r["name"]) for r in doc["resources"] if r["status"] in DRIFT_STATUSES
        }
        errors = [r for r in doc["resources"] if r["status"] == "Error"]
        _check(step, not errors and got == want, f"drifted {sorted(got)}, expected {sorted(want)}")
        return len(got)

    def run(self) -> SizeResult:
        g, k = self.prepare()
        drop = prune_set(g)
        cluster = LocalCluster(workdir=self.workdir / "cluster", controller_manager=True)
        t0 = time.monotonic()
        cluster.start()
        try:
            self.kubeconfig = str(cluster.kubeconfig)
            self.result.cluster["start_s"] = round(time.monotonic() - t0, 1)
            self.cluster_setup()
            self.step1()
            self.step2()
            self.step3(g, drop)
            self.step3b(g, drop)
            self.step4(g, k, drop)
        except BenchError as e:
            self.result.error = str(e)
            print(f"  N={self.n}: FAILED: {e}", file=sys.stderr, flush=True)
        finally:
            for name, mb in cluster.peak_memory_mb().items():
                self.result.cluster[f"{name}_peak_mb"] = round(mb, 1)
            cluster.stop()
        del k
        return self.result


def _check(step: str, ok: bool, what: str) -> None:
    if not ok:
        raise BenchError(f"{step}: {what}")


def ratios(ms: Sequence[Measurement]) -> list[dict[str, Any]]:
    """kubectl / gitops-nb for wall time and requests, per compared pair."""
    by = {(m.step, m.tool): m for m in ms}
    out = []
    for step, kube, ours in PAIRS:
        a, b = by.get((step, kube)), by.get((step, ours))
        if a is None or b is None:
            continue
        req = (
            round(a.requests / b.requests, 2)
            if a.requests is not None and b.requests  # None or 0: no ratio
            else None
        )
        wall = round(a.wall_s / b.wall_s, 2) if b.wall_s else None
        out.append(
            {"step": step, "kubectl": kube, "gitops_nb": ours, "wall": wall, "requests": req}
        )
    return out


# -- report ------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    kubectl = find_binary("kubectl")
    version = subprocess.run(
        [str(kubectl), "version", "--client", "-o", "json"], capture_output=True, text=True
    )
    try:
        kv = json.loads(version.stdout)["clientVersion"]["gitVersion"]
    except (ValueError, KeyError):
        kv = "?"
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    here = str(Path(__file__).resolve().parent)
    commit = subprocess.run(
        ["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", here, "status", "--porcelain", "--", "../gitops_nb"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    commit += "+dirty" if commit and dirty else ""  # the package measured had local edits
    from gitops_nb import __version__

    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "kubectl": kv,
        "gitops_nb": __version__,
        "commit": commit or "?",
        # Other work on the machine skews wall times; the 1-minute load says how much.
        "loadavg_start": round(os.getloadavg()[0], 2),
    }


def _fmt_req(r: int | None) -> str:
    return "n/a" if r is None else str(r)


def markdown(info: dict[str, Any], results: Sequence[SizeResult]) -> str:
    lines = [
        "# gitops-nb vs kubectl: same objects, same control plane",
        "",
        f"{info['date']} · {info['nproc']} CPU ({info['cpu']}) · {info['memory_gb']} GB · "
        f"Python {info['python']} · kubectl {info['kubectl']} · gitops-nb {info['gitops_nb']} "
        f"({info['commit']}) · load {info['loadavg_start']} → {info.get('loadavg_end', '?')}",
        "",
    ]
    for r in results:
        lines += [
            f"## N = {r.n} objects ({r.drifted} drifted, {r.added} added, {r.pruned} pruned)",
            "",
            "| step | tool | wall s | requests | peak MB | verified |",
            "|---|---|---:|---:|---:|---|",
        ]
        for m in r.measurements:
            lines.append(
                f"| {m.step} | {m.tool} | {m.wall_s:.2f} | {_fmt_req(m.requests)} | "
                f"{m.peak_mb:.0f} | {m.check} |"
            )
        rows = ratios(r.measurements)
        if rows:
            lines += [
                "",
                "| step | kubectl / gitops-nb | wall ratio | requests ratio |",
                "|---|---|---:|---:|",
            ]
            for x in rows:
                req = "n/a" if x["requests"] is None else f"{x['requests']:.2f}x"
                wall = "n/a" if x["wall"] is None else f"{x['wall']:.2f}x"
                lines.append(
                    f"| {x['step']} | {x['kubectl']} / {x['gitops_nb']} | {wall} | {req} |"
                )
        if r.added:
            lines += [
                "",
                "Step 3b: `kubectl diff --server-side` does not see added fields at all (the "
                "dry-run keeps what other managers own); its row counts only step 3's changes.",
            ]
        apiserver = r.cluster.get("kube-apiserver_peak_mb")
        lines += [
            "",
            f"Cluster start {r.cluster.get('start_s', '?')} s; kube-apiserver peak {apiserver} MB.",
        ]
        if r.error:
            lines += ["", f"**Incomplete:** {r.error.splitlines()[0]}"]
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--sizes", default="1000,5000", help="comma-separated object counts")
    p.add_argument("--quick", action="store_true", help="one smoke run with 200 objects")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=1800.0, help="overall limit in seconds")
    p.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    p.add_argument("--name", default=None, help="result file name (default latest / quick)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args(argv)
    sizes = [200] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    name = args.name or ("quick" if args.quick else "latest")
    deadline = time.monotonic() + args.timeout
    info = machine_info()
    print(f"benchmark sizes {sizes}; kubectl {info['kubectl']}; {info['nproc']} CPU", flush=True)
    work = Path(tempfile.mkdtemp(prefix="gitops-nb-bench-"))
    results: list[SizeResult] = []
    try:
        for n in sizes:
            results.append(SizeBench(n, work / f"n{n}", args.seed, deadline).run())
            if results[-1].error:
                break
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    info["loadavg_end"] = round(os.getloadavg()[0], 2)
    md = markdown(info, results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.md").write_text(md)
    doc = {"machine": info, "sizes": [r.to_dict() for r in results]}
    (args.out / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    print()
    print(md)
    print(f"written: {args.out / (name + '.md')}, {args.out / (name + '.json')}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
