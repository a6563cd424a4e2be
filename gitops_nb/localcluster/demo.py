"""The audit demo: a Git repo with a realistic history, reconciled on a local control plane
with kubectl-made drift and a ``git revert`` in between, then reports and a history export.

With simulated nodes (``LocalCluster(nodes=2)``, as ``make demo`` starts it) the Pods run
and every correct-mode run waits for health: one rollout is bad (kwok makes its Pods
crash-loop), the run records it Degraded, and a ``git revert`` restores it.

    python examples/demo.py          # what `make demo` runs

The story spans about nine hours of simulated time (:class:`StoryClock`): the run records'
``started``/``finished`` and the commits' dates follow it, so restore times, lead times and the
sync frequency are realistic and the same on every run. Only the ``managedFields`` times of
the hand changes are real: the API server stamps them and no client can set them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gitops_nb.config import AppConfig
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import NAMESPACES
from gitops_nb.localcluster import LocalCluster, find_binary
from gitops_nb.localcluster.nodes import SIMULATE_LABEL
from gitops_nb.model import Mode, SyncRun, parse_time
from gitops_nb.records.files import export_jsonl, read_dir
from gitops_nb.source import default_cache_dir
from gitops_nb.usecases.jsonlog import json_logger
from gitops_nb.usecases.reconcile import reconcile_app

APP = "shop"
NAMESPACE = "prod"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_COLUMNS = ["started", "mode", "outcome", "health", "commit", "drifted", "configured", "created"]
"""What the demo prints per run."""
STORY_MINUTES = 555  # the last run's offset from the first commit (9 h 15 min)


class StoryClock:
    """The demo's simulated time, injected into the reconciler as its clock.

    ``at(minutes)`` moves the story to ``start + minutes``. From its first reading a moment
    runs in real time, so a run's ``started`` is exactly its moment (reruns give the same
    numbers) and ``finished - started`` is what the run really took.
    """

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self._moment = start
        self._since: float | None = None

    def at(self, minutes: float) -> dt.datetime:
        moment = self.start + dt.timedelta(minutes=minutes)
        if moment < self._moment:
            raise ValueError(f"the story moves forward only: {moment} < {self._moment}")
        self._moment, self._since = moment, None
        return moment

    def __call__(self) -> dt.datetime:
        if self._since is None:
            self._since = time.monotonic()
            return self._moment
        return self._moment + dt.timedelta(seconds=time.monotonic() - self._since)


def story_start(now: dt.datetime | None = None) -> dt.datetime:
    """The first commit's time: the story's last run falls on the current minute."""
    end = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
    return end - dt.timedelta(minutes=STORY_MINUTES)


@dataclass
class DemoResult:
    """Where the demo left everything."""

    workdir: Path
    repo: Path
    history_dir: Path
    kubeconfig: Path
    runs: list[SyncRun] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    app: str = APP
    namespace: str = NAMESPACE


class _Repo:
    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str, author: str | None = None, when: dt.datetime | None = None) -> str:
        env = None
        if author:
            name, email = author.split("|")
            env = {
                "GIT_AUTHOR_NAME": name,
                "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email,
                "PATH": "/usr/bin:/bin",
            }
            if when is not None:
                env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
        out = subprocess.run(
            ["git", "-C", str(self.path), *args],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        return out.stdout.strip()

    def edit(self, rel: str, old: str, new: str) -> None:
        p = self.path / rel
        text = p.read_text()
        if old not in text:
            raise ValueError(f"{rel}: {old!r} not found")
        p.write_text(text.replace(old, new))

    def commit(self, message: str, author: str, when: dt.datetime) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, author=author, when=when)
        return self.git("rev-parse", "HEAD")


ALICE = "Alice Ops|alice@example.com"
BOB = "Bob Dev|bob@example.com"
CAROL = "Carol SRE|carol@example.com"


def _init_repo(path: Path) -> _Repo:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    repo = _Repo(path)
    repo.git("init", "-q", "-b", "main")
    for item in ("kustomization.yaml", "namespaces", "apps"):
        src = EXAMPLES / item
        if src.is_dir():
            shutil.copytree(src, path / item)
        else:
            shutil.copy(src, path / item)
    # The first commit has no ingress; Bob adds it later.
    repo.edit("kustomization.yaml", "  - apps/web/ingress.yaml\n", "")
    # A bad rollout should be called Failed in seconds, not after the default 10 minutes.
    repo.edit("apps/web/deployment.yaml", "  replicas: 2\n", f"  replicas: 2\n{DEADLINE}")
    return repo


DEADLINE = "  progressDeadlineSeconds: 4\n"
BAD_LABEL = f"        {SIMULATE_LABEL}: crash-loop\n"
"""What makes the bad rollout bad: kwok's Stage crash-loops Pods with this label."""


def build_demo(
    workdir: Path,
    cluster: LocalCluster,
    *,
    quiet: bool = True,
    start: dt.datetime | None = None,
    cache_dir: Path | None = None,
) -> DemoResult:
    """Make the repo, run the reconcile story on ``cluster``, write reports and export.

    ``start`` is the first commit's time (default :func:`story_start`); ``cache_dir`` the Git
    cache (default: the CLI's and the notebooks', ``~/.cache/gitops-nb/git``).
    """
    from gitops_nb import report as reports

    workdir.mkdir(parents=True, exist_ok=True)
    repo = _init_repo(workdir / "repo")
    history = workdir / "history"
    shutil.rmtree(history, ignore_errors=True)
    result = DemoResult(workdir, repo.path, history, cluster.kubeconfig)
    clock = StoryClock(start or story_start())
    cache = cache_dir or default_cache_dir()
    kube = Kube.from_kubeconfig(cluster.kubeconfig)
    kubectl = [
        str(find_binary("kubectl")),
        "--kubeconfig",
        str(cluster.kubeconfig),
        "-n",
        NAMESPACE,
    ]
    log = json_logger("gitops_nb.demo", io.StringIO() if quiet else sys.stderr)

    def run(minute: int, mode: Mode = Mode.CORRECT, trigger: str = "schedule") -> SyncRun:
        clock.at(minute)
        cfg = AppConfig(
            wait=cluster.nodes > 0,  # without nodes nothing becomes healthy: look once
            wait_timeout="30s",
            app=APP,
            repo=str(repo.path),
            ref="main",
            path=".",
            namespace=NAMESPACE,
            mode=mode,
            history_dir=str(history),
            cache_dir=str(cache),
        ).validate()
        r = reconcile_app(cfg, log, trigger=trigger, kube=kube, clock=clock)
        assert r.run is not None
        result.runs.append(r.run)
        return r.run

    def commit(minute: int, message: str, author: str) -> str:
        return repo.commit(message, author, clock.at(minute))

    def drift(minute: int, *args: str) -> None:
        clock.at(minute)  # the story's moment; the API server stamps the real time
        subprocess.run([*kubectl, *args], check=True, capture_output=True)

    # The install step creates the app's namespace (it holds the Lease and the records).
    if kube.get_or_none(NAMESPACES.object_path("", NAMESPACE)) is None:
        kube.create(
            NAMESPACES.collection_path(),
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        )

    # Minutes from the first commit; the reconciler's schedule is irregular on purpose.
    commit(0, "shop: namespace, web deployment, service and config", ALICE)
    run(5, trigger="manual")  # a deployment: every object is new
    drift(40, "scale", "deployment/web", "--replicas=5")  # someone scales by hand
    run(45, Mode.DETECT)
    run(75)  # drift corrected by the reconciler after 30 min
    repo.edit(
        "kustomization.yaml",
        "  - apps/web/service.yaml\n",
        "  - apps/web/service.yaml\n  - apps/web/ingress.yaml\n",
    )
    commit(130, "web: expose shop.example.com through an ingress", BOB)
    run(135)  # a deployment: a new object
    drift(180, "set", "image", "deployment/web", "web=nginx:1.27.3-hotfix")  # a hand hotfix
    drift(
        181,
        "label",
        "deployment/web",
        "owner=carol",
        "app.kubernetes.io/part-of=hotfix",
        "--overwrite",
    )
    run(195, Mode.DETECT)
    repo.edit("apps/web/deployment.yaml", "image: nginx:1.27.3", "image: nginx:1.27.4")
    commit(230, "web: nginx 1.27.4", ALICE)
    run(240)  # the Git bump supersedes the hotfix (and corrects the label)
    repo.edit("apps/web/configmap.yaml", "LOG_LEVEL: info", "LOG_LEVEL: debug")
    bad = commit(270, "web: debug logging", BOB)
    run(285)  # a deployment, never drift
    repo.git("revert", "--no-edit", bad, author=CAROL, when=clock.at(310))  # rollback
    run(315)  # a deployment marked as a revert
    drift(340, "delete", "service/web")  # a deleted object is drift
    run(345, Mode.DETECT)
    run(350)  # recreated: corrected by the reconciler
    drift(390, "scale", "deployment/web", "--replicas=3")  # a hand scale Git then adopts
    run(405, Mode.DETECT)
    repo.edit("apps/web/deployment.yaml", "replicas: 2", "replicas: 3")
    commit(500, "web: 3 replicas, as scaled during the sale", CAROL)
    run(510)  # changed in Git: the commit adopted the live value
    repo.edit(
        "apps/web/deployment.yaml",
        "        app.kubernetes.io/name: web\n    spec:",
        f"        app.kubernetes.io/name: web\n{BAD_LABEL}    spec:",
    )
    bad = commit(515, "web: checkout worker v2", BOB)
    run(520)  # a bad rollout: the new Pods crash-loop, the run is Degraded
    repo.git("revert", "--no-edit", bad, author=CAROL, when=clock.at(530))
    run(535)  # restored by a git revert: Healthy again
    drift(
        550,
        "patch",
        "configmap/web-config",
        "--type=merge",
        "-p",
        '{"data":{"FEATURE_CHECKOUT":"off"}}',
    )
    run(STORY_MINUTES, Mode.DETECT)  # left open: the reports show an open episode

    runs = read_dir(history, APP)
    export_jsonl(runs, workdir / "history.jsonl")
    result.outputs["history.jsonl"] = workdir / "history.jsonl"
    rep = reports.from_history(runs, app=APP)
    for fmt, name in (("html", "drift-report.html"), ("markdown", "drift-report.md")):
        result.outputs[name] = reports.write(rep, fmt, workdir / name)
    kube.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("demo-output"))
    parser.add_argument(
        "--stop",
        action="store_true",
        help="stop the local control plane at the end (default: leave it up "
        "for the live-audit notebook)",
    )
    parser.add_argument(
        "--start",
        type=parse_time,
        default=None,
        help="the story's first commit time, ISO 8601 (default: the story ends this minute)",
    )
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    from gitops_nb.localcluster import stop_detached

    stop_detached(workdir / "cluster")
    # A fresh etcd per demo: nothing from an earlier run (or made by hand) survives.
    shutil.rmtree(workdir / "cluster", ignore_errors=True)
    cluster = LocalCluster(workdir=workdir / "cluster", detach=not args.stop, nodes=2)
    cluster.start()
    print(f"local control plane ready in {cluster.started_in_s:.1f}s ({cluster.server})")
    try:
        result = build_demo(workdir, cluster, start=args.start)
        from gitops_nb.history import deployments, drift_intervals, summary
        from gitops_nb.history import runs as runs_frame
        from gitops_nb.history.metrics import METRIC_DEFINITIONS
        from gitops_nb.report.fmt import duration_text

        table = runs_frame(result.runs)
        print(
            table[RUN_COLUMNS]
            .assign(
                started=table["started"].dt.strftime("%Y-%m-%d %H:%M"),
                commit=table["commit"].str[:12],
            )
            .to_string(index=False)
        )
        iv = drift_intervals(result.runs)
        deps = deployments(result.runs, iv)
        numbers = summary(runs_frame(result.runs), iv, deployments_df=deps)
        print(
            f"\n{numbers['runs']} runs, {numbers['sync_frequency']:.1f} runs/hour; "
            f"mean time to restore {duration_text(numbers['mean_time_to_restore_s'])}; "
            f"mean lead time {duration_text(numbers['mean_lead_time_s'])}"
        )
        for key in ("sync_frequency", "mean_time_to_restore_s", "mean_lead_time_s"):
            label = key.removesuffix("_s").replace("_", " ")
            print(f"  {label}: {METRIC_DEFINITIONS[key]}")
        print(f"\n{len(iv)} drift episodes, {int(iv['open'].sum())} still open:")
        print(
            iv[["object", "path", "live", "manager", "resolved_by"]]
            .assign(
                path=iv["path"].replace("", "(whole object)"),
                live=iv["live"].fillna(""),
                manager=iv["manager"].fillna("(unknown)"),
                resolved_by=iv["resolved_by"].fillna("(still open)"),
            )
            .to_string(index=False)
        )
        print(f"\n{len(deps)} deployments:")
        print(
            deps[["commit", "author", "message", "is_revert", "n_objects"]]
            .assign(commit=deps["commit"].str[:12])
            .to_string(index=False)
        )
        from gitops_nb.history import restores, time_to_healthy

        tth = time_to_healthy(result.runs)
        print("\nTime to healthy per commit (commit → applied → healthy):")
        print(
            tth[["commit", "message", "lead_time", "time_to_healthy", "degraded"]]
            .assign(commit=tth["commit"].str[:12])
            .to_string(index=False)
        )
        rest = restores(result.runs)
        print(f"\n{len(rest)} degraded period(s) (a run Degraded until the next Healthy one):")
        print(rest[["degraded_at", "restored_at", "time_to_restore"]].to_string(index=False))
        from gitops_nb.cli import main as cli

        source = [
            "--repo",
            str(result.repo),
            "--path",
            ".",
            "--app",
            APP,
            "--namespace",
            NAMESPACE,
            "--kubeconfig",
            str(cluster.kubeconfig),
        ]
        print("\nWhat the next correct-mode run would do (apply --dry-run --force-conflicts):")
        cli(["apply", *source, "--dry-run", "--force-conflicts"])
        print("\nLive diff now (the open episode):")
        cli(["diff", *source])
        print("\nOutputs:")
        for name, path in result.outputs.items():
            print(f"  {name}: {path}")
        print(f"  history records: {result.history_dir}")
        print(f"  demo Git repo: {result.repo}")
        print("\nOpen the notebooks with: make notebooks")
        if not args.stop:
            print(
                f"The control plane keeps running (KUBECONFIG={cluster.kubeconfig}); stop it "
                f"with: .venv/bin/gitops-nb local-cluster down --workdir {workdir / 'cluster'}"
            )
    finally:
        if args.stop:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
