"""Fleet benchmark: N apps in the flux-benchmark shape, one gitops-nb fleet process against a
loop of one ``kubectl apply --server-side`` per app directory, on one fresh local cluster.

    .venv/bin/python benchmarks/fleet.py --sizes 100 [500 1000] [--kubectl-sizes 100 500]

Each app (fluxcd/flux-benchmark shape) is a Deployment scaled to 0, a ServiceAccount, a
Service and an Ingress, in ``apps/app-NNNN/``. gitops-nb reconciles them into namespace
``bench-fleet`` (one fleet config, a directory generator); kubectl applies the same
directories into ``bench-kubectl``. Steps: first full sync, steady-state no-op, 1 % of the
apps drifted by ``kubectl scale`` (both tools must put them back). Wall time and peak RSS
come from ``os.wait4`` on each tool's process (for the loop: the shell and its kubectls);
gitops-nb's API requests from ``GITOPS_NB_REQUEST_LOG``; each row notes the machine's
1-minute load average. ``--kubectl-sizes`` limits the (slow) loop to some sizes.
Results: ``benchmarks/results/fleet-latest.{md,json}`` (``--name`` for another name),
rewritten after each size. ``--records configmap`` keeps the records in ConfigMaps (the
in-cluster default) instead of a ``historyDir``; every gitops-nb row also has its requests
and HTTP body bytes (sent + received) per app, from the request tally. ``--from-json``
re-renders the Markdown of an earlier run. ``make bench`` runs it at ``FLEET_SIZES``
(default 100). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from measure import BenchError, Completed, json_lines, run_measured

from gitops_nb.localcluster import LocalCluster, find_binary

HERE = Path(__file__).resolve().parent
FLUX = "Flux v2.9.0 (published): 1,000 Kustomizations in 4 min 13 s, 223 MiB, 16-core runner"
FLUX_ROW = (
    "| 1000 | Flux v2.9.0, published: first full sync of 1,000 Kustomizations "
    "(16-core runner; not rerun here) | 253 | — | — | — | not run | "
    "Flux/gitops-nb = {ratio} | 223 MiB | — | — |"
)


# The local cluster's Services get ClusterIPs from 127.200.0.0/24 (loopback only): 254
# addresses. Beyond that, Services are headless so that N = 500 and 1,000 can run.
MAX_CLUSTER_IPS = 250
STEPS = ("first-sync", "no-op", "drift-1%")


def app_objects(name: str, headless: bool = False) -> dict[str, str]:
    labels = {"app": name}
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    "containers": [{"name": "app", "image": "ghcr.io/stefanprodan/podinfo:6.7.0"}],
                },
            },
        },
    }
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
    svc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 9898}]},
    }
    if headless:
        svc["spec"]["clusterIP"] = "None"
    ing = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name},
        "spec": {
            "rules": [
                {
                    "host": f"{name}.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": name, "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    }
    return {
        "deployment.yaml": yaml.safe_dump(deploy),
        "serviceaccount.yaml": yaml.safe_dump(sa),
        "service.yaml": yaml.safe_dump(svc),
        "ingress.yaml": yaml.safe_dump(ing),
    }


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


class Fleet:
    def __init__(
        self, n: int, work: Path, kubectl: bool = True, records: str = "directory"
    ) -> None:
        self.n = n
        self.records = records
        self.with_kubectl = kubectl
        self.work = work
        self.names = [f"app-{i:04d}" for i in range(n)]
        self.repo = work / "repo"
        self.kubectl = str(find_binary("kubectl"))
        self.kubeconfig = ""
        self.rows: list[dict[str, Any]] = []

    def prepare(self) -> None:
        for name in self.names:
            d = self.repo / "apps" / name
            d.mkdir(parents=True)
            for file, text in app_objects(name, self.n > MAX_CLUSTER_IPS).items():
                (d / file).write_text(text)
        git(self.repo, "init", "-q", "-b", "main")
        git(self.repo, "add", "-A")
        git(self.repo, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "fleet")
        store = {"historyDir": str(self.work / "history")} if self.records == "directory" else {}
        (self.work / "fleet.yaml").write_text(
            yaml.safe_dump(
                {
                    "repo": str(self.repo),
                    "ref": "main",
                    "namespace": "bench-fleet",
                    **store,
                    "cacheDir": str(self.work / "cache"),
                    "concurrency": 8,
                    "generators": [{"directories": "apps/*", "namespace": "bench-fleet"}],
                }
            )
        )
        loop = "\n".join(
            f'"$K" --kubeconfig "$KC" apply --server-side --force-conflicts -n bench-kubectl '
            f"-f {self.repo / 'apps' / name} >/dev/null || exit 1"
            for name in self.names
        )
        (self.work / "loop.sh").write_text(loop + "\n")

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITOPS_NB_", "KUBE"))}
        return {
            **env,
            "KUBECONFIG": self.kubeconfig,
            "K": self.kubectl,
            "KC": self.kubeconfig,
            "GITOPS_NB_REQUEST_LOG": "1",
        }

    def gitops(self, step: str, expect: int = 0) -> Completed:
        argv = [sys.executable, "-m", "gitops_nb.cli", "reconcile", "--config"]
        done = run_measured([*argv, str(self.work / "fleet.yaml")], env=self._env(), timeout=3600)
        if done.returncode != expect:
            errors = [
                f"{ln.get('app')}: {ln.get('event')}: {ln.get('error')}"
                for ln in json_lines(done.stdout)
                if ln.get("level") == "error"
            ]
            raise BenchError(
                f"{step}: gitops-nb exit {done.returncode}: {errors[:5]} {done.stderr[-2000:]}"
            )
        self._row(step, "gitops-nb fleet", done, _requests(done.stderr), _tally(done.stderr))
        return done

    def loop(self, step: str) -> Completed | None:
        if not self.with_kubectl:
            return None
        done = run_measured(["bash", str(self.work / "loop.sh")], env=self._env(), timeout=3600)
        if done.returncode != 0:
            raise BenchError(f"{step}: kubectl loop exit {done.returncode}: {done.stderr[-2000:]}")
        self._row(step, "kubectl apply loop", done)
        return done

    def _row(
        self,
        step: str,
        tool: str,
        done: Completed,
        requests: int | None = None,
        tally: dict[str, Any] | None = None,
    ) -> None:
        load = round(os.getloadavg()[0], 2)
        row = {
            "n": self.n,
            "step": step,
            "tool": tool,
            "wall_s": round(done.wall_s, 2),
            "peak_mb": round(done.peak_mb, 1),
            "requests": requests,
            "loadavg": load,
            **({"records": self.records} if tool == "gitops-nb fleet" else {}),
            **(tally or {}),
        }
        self.rows.append(row)
        print(
            f"  N={self.n} {step:<12} {tool:<20} {done.wall_s:8.2f} s {done.peak_mb:7.1f} MB "
            f"{requests if requests is not None else '-':>6} req  load {load}",
            flush=True,
        )

    def k(self, *args: str) -> None:
        subprocess.run(
            [self.kubectl, "--kubeconfig", self.kubeconfig, *args], check=True, capture_output=True
        )

    def run(self) -> list[dict[str, Any]]:
        self.prepare()
        cluster = LocalCluster(workdir=self.work / "cluster", controller_manager=True)
        cluster.start()
        try:
            self.kubeconfig = str(cluster.kubeconfig)
            for ns in ("bench-fleet", "bench-kubectl"):
                self.k("create", "namespace", ns)
            done = self.gitops("first-sync")
            finished = _finished(done)
            if set(finished["apps"]) != set(self.names):
                raise BenchError("first-sync: not every app was reconciled")
            self.loop("first-sync")
            self.gitops("settle")  # records the fingerprints of what the first run created
            self.rows.pop()
            done = self.gitops("no-op")
            if any(ln["event"] == "rendered" for ln in json_lines(done.stdout)):
                raise BenchError("no-op: an app rendered although nothing changed")
            self.loop("no-op")
            drifted = self.names[::100][: max(1, self.n // 100)]
            for name in drifted:
                for ns in ("bench-fleet", "bench-kubectl")[: 2 if self.with_kubectl else 1]:
                    self.k("-n", ns, "scale", "deployment", name, "--replicas=1")
            done = self.gitops("drift-1%")
            seen = sorted({ln["app"] for ln in json_lines(done.stdout) if ln["event"] == "drift"})
            if seen != drifted:
                raise BenchError(f"drift-1%: reported {seen}, expected {drifted}")
            self.loop("drift-1%")
        finally:
            cluster.stop()
        return self.rows


def _requests(stderr: str) -> int | None:
    counts = [json.loads(ln)["count"] for ln in stderr.splitlines() if '"requests"' in ln]
    return counts[-1] if counts else None


def _tally(stderr: str) -> dict[str, Any]:
    """Body bytes and requests by verb and resource, from the request log's last line."""
    lines = [json.loads(ln) for ln in stderr.splitlines() if '"event": "requests"' in ln]
    if not lines:
        return {}
    last = lines[-1]
    return {k: last[k] for k in ("bytes_sent", "bytes_received", "by") if k in last}


def _per_app(row: dict[str, Any]) -> tuple[str, str]:
    """Requests and KiB (sent + received bodies) per app, or dashes."""
    n = row["n"]
    req = f"{row['requests'] / n:.1f}" if row.get("requests") else "—"
    if "bytes_sent" not in row:
        return req, "—"
    return req, f"{(row['bytes_sent'] + row['bytes_received']) / n / 1024:.1f}"


def _finished(done: Completed) -> dict[str, Any]:
    return next(ln for ln in json_lines(done.stdout) if ln["event"] == "fleet-finished")


def markdown(rows: Sequence[dict[str, Any]], title: str | None = None) -> str:
    out = [
        title
        or f"# Fleet benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} cores)",
        "",
        "| N apps | step (records) | gitops-nb fleet s | requests | requests / app | "
        "KiB / app | kubectl loop s | ratio | gitops-nb peak MB | kubectl peak MB | "
        "load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    by = {(r["n"], r["step"], r["tool"]): r for r in rows}
    for n, step in dict.fromkeys((r["n"], r["step"]) for r in rows):
        g = by.get((n, step, "gitops-nb fleet"))
        k = by.get((n, step, "kubectl apply loop"))
        if not g:
            continue
        ratio = (
            f"kubectl/gitops-nb = {k['wall_s'] / g['wall_s']:.1f}×" if k and g["wall_s"] else "—"
        )
        loads = " / ".join(str(r["loadavg"]) for r in (g, k) if r and "loadavg" in r)
        req, kib = _per_app(g)
        out.append(
            f"| {n} | {step} ({g.get('records', 'directory')}) | {g['wall_s']} | "
            f"{g.get('requests') or '—'} | {req} | {kib} | "
            f"{k['wall_s'] if k else 'not run'} | {ratio} | {g['peak_mb']} | "
            f"{k['peak_mb'] if k else '—'} | {loads} |"
        )
    first = by.get((1000, "first-sync", "gitops-nb fleet"))
    out.append(FLUX_ROW.format(ratio=f"{253 / first['wall_s']:.1f}×" if first else "—"))
    reused = sorted({r["reused_from"] for r in rows if r.get("reused_from")})
    if reused:
        out += ["", f"kubectl loop rows reused from an earlier run ({', '.join(reused)})."]
    out += ["", FLUX, ""]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100])
    p.add_argument("--kubectl-sizes", type=int, nargs="*", default=None, help="default: every size")
    p.add_argument(
        "--kubectl-from",
        type=Path,
        help="take the kubectl loop's rows from this earlier results JSON (same sizes) "
        "instead of running the loop again (it takes ~25 min at 1,000 apps on 2 cores)",
    )
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--name", default="fleet-latest", help="results file name (no suffix)")
    p.add_argument("--records", choices=("directory", "configmap"), default="directory")
    p.add_argument("--from-json", type=Path, help="only re-render this results JSON as Markdown")
    args = p.parse_args(argv)
    if args.from_json:  # keeps the title (the time of the run) of the existing Markdown
        md = args.out / f"{args.name}.md"
        title = md.read_text().splitlines()[0] if md.exists() else None
        md.write_text(markdown(json.loads(args.from_json.read_text()), title))
        return 0
    kubectl_sizes = set(args.sizes if args.kubectl_sizes is None else args.kubectl_sizes)
    rows: list[dict[str, Any]] = []
    if args.kubectl_from:
        earlier = json.loads(args.kubectl_from.read_text())
        reused = [r for r in earlier if r["tool"] == "kubectl apply loop" and r["n"] in args.sizes]
        rows += [{**r, "reused_from": str(args.kubectl_from.name)} for r in reused]
        kubectl_sizes -= {r["n"] for r in reused}
    code = 0
    args.out.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"fleet-{n}-") as tmp:
            fleet = Fleet(n, Path(tmp), kubectl=n in kubectl_sizes, records=args.records)
            try:
                fleet.run()
            except BenchError as e:
                print(f"N={n}: FAILED: {e}", file=sys.stderr)
                code = 1
            rows.extend(fleet.rows)
        rows.sort(key=lambda r: (r["n"], STEPS.index(r["step"]), r["tool"] != "gitops-nb fleet"))
        (args.out / f"{args.name}.json").write_text(json.dumps(rows, indent=2) + "\n")
        (args.out / f"{args.name}.md").write_text(markdown(rows))
    print(markdown(rows))
    return code


if __name__ == "__main__":
    sys.exit(main())
