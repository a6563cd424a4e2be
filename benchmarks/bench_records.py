"""Benchmark: durable history — coalesced records against raw runs, and PostgreSQL reads.

Generates A apps × D days of five-minute runs (1,000 × 30 = 8.64 million runs) with
realistic drift: each app drifts on a given day with probability 2 %, an episode lasts
5 minutes to 3 days (log-uniform), and each app gets a new commit on a given day with
probability 30 %. Apps run in ``detect`` mode (drift is recorded, not corrected, so an
episode lasts until someone reverts it); every app has 10 objects. Every run is built as a
:class:`SyncRun` and passed through the coalescing rule (:mod:`gitops_nb.records.coalesce`)
exactly as a store's ``write`` does. Then, on a real PostgreSQL server started for the
benchmark (tests/postgres.py), it measures:

- records and bytes (record JSON) stored, coalesced against raw;
- write cost per run through ``PostgresStore.write`` (a steady run folds, a changed one
  inserts) and through the directory store;
- time to load one app's drift timeline for the whole period into pandas (the app with the
  most records; ``load_runs`` with the app filter in SQL, then ``drift_intervals``);
- time to compute the fleet summary (every record of every app, ``drift_intervals``,
  ``summary``), the fleet views of notebook 05 and ``report --fleet`` (``history.fleet``,
  ``drift_days``, ``managers`` over the same frames), and to query the last quarter of the
  period (``since`` in SQL);
- what PostgreSQL really stores: ``pg_total_relation_size`` of the three tables (rows,
  indexes and TOAST), beside the record JSON.

Targets (issue 16): timeline < 1 s, fleet summary < 10 s, ≥ 50× fewer records than runs.

    .venv/bin/python benchmarks/bench_records.py [--apps 1000] [--days 30] [--seed 1] \
        [--out benchmarks/results/records.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/postgres.py

from gitops_nb.history.fleetview import drift_days, managers
from gitops_nb.history.fleetview import fleet as fleet_view
from gitops_nb.history.frames import runs as runs_frame
from gitops_nb.history.metrics import summary
from gitops_nb.history.timeline import drift_intervals
from gitops_nb.model import (
    Action,
    Cause,
    DiffStatus,
    FieldChange,
    Mode,
    ObjectRef,
    ObjectResult,
    Outcome,
    Revision,
    SyncRun,
)
from gitops_nb.records.coalesce import can_fold
from gitops_nb.records.load import load_runs
from gitops_nb.records.postgres import PostgresStore
from gitops_nb.records.store import DirectoryStore
from tests.postgres import PostgresServer

T0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
STEP = dt.timedelta(minutes=5)
OBJECTS = 10


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def plan(app: int, days: int, rng: random.Random) -> tuple[list[tuple[int, int]], list[int]]:
    """(start step, end step) of each drift episode and the steps of new commits."""
    per_day = 288
    episodes, commits = [], []
    for day in range(days):
        if rng.random() < 0.02:
            start = day * per_day + rng.randrange(per_day)
            minutes = math.exp(rng.uniform(math.log(5), math.log(3 * 24 * 60)))
            episodes.append((start, start + max(1, round(minutes / 5))))
        if rng.random() < 0.30:
            commits.append(day * per_day + rng.randrange(per_day))
    return episodes, sorted(commits)


def app_runs(app: int, days: int, rng: random.Random) -> Iterator[SyncRun]:
    """Every five-minute run of one app, oldest first."""
    name = f"app-{app:04d}"
    refs = [ObjectRef("v1", "ConfigMap", name, f"cm-{k}") for k in range(OBJECTS)]
    clean = tuple(ObjectResult(r, Action.UNCHANGED, DiffStatus.IN_SYNC) for r in refs)
    episodes, commits = plan(app, days, rng)
    drifted: dict[int, ObjectResult] = {}
    for n, (start, _) in enumerate(episodes):
        t = iso(T0 + start * STEP)
        change = FieldChange("data.k", f"hand-{n}", "git", "kubectl-edit", "Update", t)
        drifted[n] = ObjectResult(
            refs[n % OBJECTS],
            Action.UNCHANGED,
            DiffStatus.DRIFTED,
            (change,),
            cause=Cause.CLUSTER,
        )
    revision = Revision("c0" * 20, iso(T0), "dev", "initial")
    states: dict[frozenset[int], tuple[ObjectResult, ...]] = {}
    next_commit = 0
    for step in range(days * 288):
        while next_commit < len(commits) and commits[next_commit] <= step:
            next_commit += 1
            revision = Revision(f"{next_commit:040x}", iso(T0 + step * STEP), "dev", "deploy")
        active = frozenset(n for n, (s, e) in enumerate(episodes) if s <= step < e)
        objects = states.get(active)
        if objects is None:
            objs = list(clean)
            for n in sorted(active):
                objs[n % OBJECTS] = drifted[n]
            objects = states[active] = tuple(objs)
        started = T0 + step * STEP
        n_drift = sum(1 for o in objects if o.status is DiffStatus.DRIFTED)
        yield SyncRun(
            run_id=f"{name}-{step:06d}",
            app=name,
            started=iso(started),
            finished=iso(started + dt.timedelta(seconds=4)),
            duration_s=4.0,
            trigger="schedule",
            mode=Mode.DETECT,
            revision=revision,
            outcome=Outcome.SUCCEEDED,
            counts={"desired": OBJECTS, "in_sync": OBJECTS - n_drift, "drifted": n_drift},
            objects=objects,
        )


def coalesced_fleet(apps: int, days: int, seed: int) -> tuple[list[SyncRun], dict[str, Any]]:
    """The fleet's records after coalescing, and raw counts (runs, bytes)."""
    records: list[SyncRun] = []
    raw_runs = raw_bytes = 0
    size_of: dict[int, int] = {}  # JSON size per distinct state (times have fixed width)
    t = time.perf_counter()
    for app in range(apps):
        rng = random.Random(seed * 100_003 + app)
        head: SyncRun | None = None
        last: SyncRun | None = None
        n = 0
        for run in app_runs(app, days, rng):
            raw_runs += 1
            key = id(run.objects) ^ hash(run.revision)
            if key not in size_of:
                size_of[key] = len(json.dumps(run.to_dict(), separators=(",", ":")))
            raw_bytes += size_of[key]
            if head is not None and can_fold(head, run):
                n, last = n + 1, run
                continue
            if head is not None:
                records.append(_folded(head, last, n, replace))
            head, last, n = run, run, 1
        assert head is not None
        records.append(_folded(head, last, n, replace))
    seconds = time.perf_counter() - t
    stored = sum(len(json.dumps(r.to_dict(), separators=(",", ":"))) for r in records)
    return records, {
        "runs": raw_runs,
        "records": len(records),
        "raw_bytes": raw_bytes,
        "coalesced_bytes": stored,
        "generate_and_coalesce_s": round(seconds, 1),
    }


def _folded(
    head: SyncRun, last: SyncRun | None, n: int, replace: Callable[..., SyncRun]
) -> SyncRun:
    if n == 1 or last is None:
        return head
    return replace(
        head,
        repeats=n,
        last_started=last.started,
        last_finished=last.finished,
        last_run_id=last.run_id,
    )


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def write_costs(dsn_file: Path, tmp: Path) -> dict[str, float]:
    """Mean ms per write: steady runs (fold) and changed runs (insert), PostgreSQL and files."""
    rng = random.Random(0)
    runs = list(app_runs(9999, 2, rng))[:400]
    steady = runs
    changed = [
        SyncRun.from_dict(
            {**r.to_dict(), "revision": {**r.to_dict()["revision"], "commit": r.run_id}}
        )
        for r in runs[:200]
    ]
    out: dict[str, float] = {}
    pg = PostgresStore.from_dsn_file(dsn_file)
    try:
        for label, batch, app in (("fold", steady, "w-fold"), ("insert", changed, "w-insert")):
            batch = [SyncRun.from_dict({**r.to_dict(), "app": app}) for r in batch]
            t = time.perf_counter()
            for r in batch:
                pg.write(r)
            out[f"postgres_{label}_ms"] = round((time.perf_counter() - t) * 1000 / len(batch), 2)
    finally:
        pg.close()
    for label, batch in (("fold", steady), ("insert", changed)):
        d = DirectoryStore(tmp / f"dir-{label}")
        t = time.perf_counter()
        for r in batch[:200]:
            d.write(r)
        out[f"directory_{label}_ms"] = round((time.perf_counter() - t) * 1000 / 200, 2)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--apps", type=int, default=1000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=None, help="also write the JSON result here")
    args = p.parse_args()

    records, result = coalesced_fleet(args.apps, args.days, args.seed)
    result["ratio_runs_per_record"] = round(result["runs"] / result["records"], 1)
    print(json.dumps(result), flush=True)

    server = PostgresServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp_s:
            tmp = Path(tmp_s)
            dsn_file = tmp / "dsn"
            dsn_file.write_text(server.create_database("bench"))
            store = PostgresStore.from_dsn_file(dsn_file)
            t = time.perf_counter()
            for r in records:
                store.write(r)
            result["load_records_into_postgres_s"] = round(time.perf_counter() - t, 1)
            store.close()
            with psycopg.connect(dsn_file.read_text().strip()) as conn:
                sizes = conn.execute(
                    "SELECT sum(pg_total_relation_size(t::regclass))"
                    " FROM unnest(ARRAY['runs', 'objects', 'changes']) AS t"
                ).fetchone()
            result["postgres_bytes"] = int(sizes[0]) if sizes and sizes[0] is not None else None

            per_app: dict[str, int] = {}
            for r in records:
                per_app[r.app] = per_app.get(r.app, 0) + 1
            busiest = max(per_app, key=lambda a: per_app[a])  # the app with the most records
            result["one_app_records"] = per_app[busiest]
            secs, iv = timed(lambda: drift_intervals(load_runs(dsn_file=dsn_file, app=busiest)))
            result["one_app_timeline_s"] = round(secs, 3)
            result["one_app_episodes"] = len(iv)

            def fleet() -> dict[str, Any]:
                runs = load_runs(dsn_file=dsn_file)
                return summary(runs_frame(runs), drift_intervals(runs))

            secs, s = timed(fleet, repeat=1)
            result["fleet_summary_s"] = round(secs, 2)
            result["fleet_runs_counted"] = s["runs"]
            result["fleet_drift_episodes"] = s["drift_episodes"]

            def views() -> int:
                runs = load_runs(dsn_file=dsn_file)
                intervals = drift_intervals(runs)
                table = fleet_view(runs_frame(runs), intervals)
                drift_days(intervals)
                managers(intervals)
                return len(table)

            secs, n_apps = timed(views, repeat=1)
            result["fleet_views_s"] = round(secs, 2)  # notebook 05 / report --fleet
            result["fleet_views_apps"] = n_apps
            since = T0 + dt.timedelta(days=args.days * 3 / 4)
            secs, q = timed(lambda: load_runs(dsn_file=dsn_file, since=since))
            result["last_quarter_query_s"] = round(secs, 3)
            result["last_quarter_records"] = len(q)
            result.update(write_costs(dsn_file, tmp))
    finally:
        server.stop()
    result["targets_met"] = {
        "timeline_under_1s": result["one_app_timeline_s"] < 1,
        "fleet_summary_under_10s": result["fleet_summary_s"] < 10,
        "fleet_views_under_10s": result["fleet_views_s"] < 10,
        "coalescing_at_least_50x": result["ratio_runs_per_record"] >= 50,
    }
    result["args"] = vars(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
