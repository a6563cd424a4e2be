"""The PostgreSQL record store against a real PostgreSQL 15 server the suite starts itself
(tests/postgres.py): round trips, coalescing, SQL filters, migrations, errors, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from gitops_nb.cli import main
from gitops_nb.config import load
from gitops_nb.errors import ExitCode, GitOpsError, RecordStoreError, RecordStoreUnavailableError
from gitops_nb.history.timeline import drift_intervals
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import (
    Action,
    DiffStatus,
    FieldChange,
    Health,
    HealthStatus,
    ObjectResult,
    Outcome,
    RunHealth,
    SyncRun,
)
from gitops_nb.records.coalesce import coalesce
from gitops_nb.records.configmaps import KIND_LABEL
from gitops_nb.records.load import load_runs
from gitops_nb.records.postgres import LATEST, MIGRATIONS, PostgresStore, migrate
from gitops_nb.records.store import DirectoryStore, open_store
from gitops_nb.usecases.jsonlog import json_logger
from gitops_nb.usecases.reconcile import reconcile_app
from tests.factories import CM, DEP, at, change, drifted, in_sync, run
from tests.gitrepo import GitRepo
from tests.postgres import PASSWORD, PostgresServer, free_port


@pytest.fixture
def dsn_file(pg_dsn: str, tmp_path: Path) -> Path:
    path = tmp_path / "dsn"
    path.write_text(pg_dsn + "\n")
    return path


@pytest.fixture
def store(dsn_file: Path) -> PostgresStore:
    s = PostgresStore.from_dsn_file(dsn_file)
    yield s  # type: ignore[misc]
    s.close()


def rows(dsn: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.encode()).fetchall()


def test_a_record_round_trips_with_objects_and_changes(store: PostgresStore) -> None:
    odd = FieldChange(
        "data.k", {"nested": [1, 2.5, None]}, "", "kubectl", "Apply", None, op="added"
    )
    r = run(
        0,
        drifted(change(), odd),
        ObjectResult(CM, Action.FAILED, DiffStatus.ERROR, error="timeout"),
        in_sync(DEP.__class__("v1", "Service", "web", "api")),
    )
    sick = Health(HealthStatus.FAILED, "ProgressDeadlineExceeded", "Progress deadline exceeded")
    settled = replace(r.objects[2], adopted=(("spec.replicas", True), ("data.x", False)))
    r = replace(
        r,
        objects=(replace(r.objects[0], health=sick), r.objects[1], settled),
        health=RunHealth.DEGRADED,
    )
    assert store.write(r) == f"runs/{r.run_id}"
    [back] = store.read("web")
    assert back == r
    assert store.read("other") == []


def test_steady_runs_coalesce_into_one_row_and_retries_never_duplicate(
    store: PostgresStore, pg_dsn: str
) -> None:
    raw = [
        *[run(h, in_sync(), in_sync(CM)) for h in range(0, 30)],
        *[run(h, drifted(change()), in_sync(CM)) for h in range(30, 40)],
        *[run(h, in_sync(), in_sync(CM)) for h in range(40, 50)],
    ]
    for r in raw:
        store.write(r)
        store.write(r)  # a retry after a lost reply
    assert rows(pg_dsn, "SELECT count(*) FROM runs") == [(3,)]
    assert rows(pg_dsn, "SELECT count(*) FROM objects") == [(6,)]
    assert rows(pg_dsn, "SELECT repeats FROM runs ORDER BY started") == [(30,), (10,), (10,)]
    got = store.read()
    assert got == coalesce(raw)
    ep = drift_intervals(got).iloc[0]
    assert (ep["first_seen"], ep["resolved_at"]) == (pd.Timestamp(at(30)), pd.Timestamp(at(40)))
    pd.testing.assert_frame_equal(drift_intervals(got), drift_intervals(raw))


def test_filters_run_in_sql_and_count_a_coalesced_record_that_runs_into_the_range(
    store: PostgresStore,
) -> None:
    for h in range(0, 10):
        store.write(run(h, in_sync(), app="web"))
    store.write(run(10, in_sync(), app="web", outcome=Outcome.FAILED))
    for h in range(0, 3):
        store.write(run(h, drifted(change()), app="shop"))
    since = pd.Timestamp(at(5)).to_pydatetime()
    web = store.query(app="web", since=since)
    assert [(r.started, r.repeats) for r in web] == [(at(0), 10), (at(10), 1)]
    assert [r.app for r in store.query(since=since)] == ["web", "web"]
    assert [r.started for r in store.query(outcome="failed")] == [at(10)]
    until = pd.Timestamp(at(1)).to_pydatetime()
    assert sorted(r.app for r in store.query(until=until)) == ["shop", "web"]


def test_read_through_the_store_interface_gives_what_a_directory_gives(
    store: PostgresStore, tmp_path: Path
) -> None:
    directory = DirectoryStore(tmp_path / "history")
    for r in [
        *[run(h, in_sync(), app="web") for h in range(0, 10)],
        run(10, in_sync(), app="web", outcome=Outcome.FAILED),
        *[run(h, drifted(change()), app="shop") for h in range(0, 3)],
    ]:
        store.write(r)
        directory.write(r)
    since = pd.Timestamp(at(5)).to_pydatetime()
    until = pd.Timestamp(at(1)).to_pydatetime()
    for app in (None, "web", "shop"):
        for filters in ({"since": since}, {"until": until}, {"outcome": "failed"}, {}):
            got = store.read(app, **filters)
            assert got == store.query(app=app, **filters)
            assert got == directory.read(app, **filters)


def test_retention_by_count_and_by_age(store: PostgresStore, pg_dsn: str) -> None:
    for h in range(5):
        store.write(run(h, in_sync(), commit=f"c{h}"))
    assert store.trim("web", 3) == 2
    assert [r.started for r in store.read()] == [at(2), at(3), at(4)]
    assert store.trim_before("web", pd.Timestamp(at(4)).to_pydatetime()) == 2
    assert rows(pg_dsn, "SELECT count(*) FROM objects") == [(1,)]  # cascaded


def test_migrations_are_idempotent_and_safe_when_started_concurrently(
    dsn_file: Path, pg_dsn: str
) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            PostgresStore.from_dsn_file(dsn_file).close()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert rows(pg_dsn, "SELECT version FROM schema_migrations ORDER BY 1") == [
        (v,) for v, _ in MIGRATIONS
    ]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert migrate(conn) == []


def test_a_database_at_an_older_schema_version_is_migrated_and_keeps_its_runs(
    dsn_file: Path, pg_dsn: str
) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert migrate(conn, upto=1) == [1]
        doc = {k: v for k, v in run(0, in_sync()).to_dict().items() if k != "objects"}
        doc = {**doc, "schema": 2}
        for k in ("repeats", "first_started", "last_started", "last_finished", "last_run_id"):
            del doc[k]
        conn.execute(
            "INSERT INTO runs (run_id, app, started, finished, outcome, mode, trigger, schema,"
            " doc) VALUES ('old-1', 'web', %s, %s, 'succeeded', 'detect', 'schedule', 2, %s)",
            (at(0), at(0.01), psycopg.types.json.Jsonb({**doc, "run_id": "old-1"})),
        )
    store = PostgresStore.from_dsn_file(dsn_file)
    try:
        [old] = store.read("web")
        assert (old.run_id, old.schema, old.repeats, old.last_started) == ("old-1", 2, 1, at(0))
        store.write(run(1, in_sync()))  # never folded into a schema 2 record
        store.write(run(2, in_sync()))
        assert [r.repeats for r in store.read("web")] == [1, 2]
    finally:
        store.close()
    assert rows(pg_dsn, "SELECT max(version) FROM schema_migrations") == [(LATEST,)]


def test_unreachable_database_is_transient_and_names_no_password(tmp_path: Path) -> None:
    dsn = tmp_path / "dsn"
    dsn.write_text(f"postgresql://gitops:{PASSWORD}@127.0.0.1:{free_port()}/records")
    with pytest.raises(RecordStoreUnavailableError) as info:
        open_store(store="postgres", dsn_file=dsn)
    e = info.value
    assert e.transient and e.exit_code == ExitCode.TRANSIENT
    assert "unreachable" in str(e) and str(dsn) in str(e)
    assert PASSWORD not in str(e) and e.__cause__ is None


def test_wrong_password_is_a_clear_permanent_error_without_the_password(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    dsn = tmp_path / "dsn"
    wrong = "not-the-Passw0rd-xyz"
    dsn.write_text(pg_server.dsn(password=wrong))
    with pytest.raises(RecordStoreError) as info:
        PostgresStore.from_dsn_file(dsn)
    e = info.value
    assert not e.transient and e.exit_code == ExitCode.ERROR
    assert "rejected the credentials" in str(e)
    assert wrong not in str(e) and PASSWORD not in str(e)


def test_missing_or_empty_dsn_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RecordStoreError, match=r"nope: cannot read the records DSN file"):
        open_store(store="postgres", dsn_file=tmp_path / "nope")
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(RecordStoreError, match=r"empty: the records DSN file is empty"):
        open_store(store="postgres", dsn_file=tmp_path / "empty")
    with pytest.raises(GitOpsError, match=r"records\.dsnFile"):
        open_store(store="postgres")


def test_history_and_report_read_from_the_database(
    store: PostgresStore, dsn_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for h in range(6):
        store.write(run(h, drifted(change()) if 2 <= h < 4 else in_sync(), app="web"))
    store.write(run(0, in_sync(), app="shop"))
    loaded = load_runs(dsn_file=dsn_file, app="web")
    assert [r.repeats for r in loaded] == [2, 2, 2]
    with pytest.raises(GitOpsError, match="one record source"):
        load_runs(dsn_file=dsn_file, history_dir=tmp_path)

    assert main(["history", "runs", "--records-dsn-file", str(dsn_file), "-o", "json"]) == 0
    fleet = json.loads(capsys.readouterr().out)
    assert sorted((r["app"], r["repeats"]) for r in fleet) == [
        ("shop", 1),
        ("web", 2),
        ("web", 2),
        ("web", 2),
    ]
    args = [
        "history",
        "timeline",
        "--records-dsn-file",
        str(dsn_file),
        "--app",
        "web",
        "-o",
        "json",
    ]
    assert main(args) == 0
    [ep] = json.loads(capsys.readouterr().out)
    assert ep["first_seen"].startswith(at(2)[:19]) and ep["resolved_at"].startswith(at(4)[:19])
    out = tmp_path / "r.json"
    args = ["report", "--records-dsn-file", str(dsn_file), "--format", "json", "-o", str(out)]
    assert main(args) == 0
    assert PASSWORD not in capsys.readouterr().out + out.read_text()


def test_reconcile_exits_transient_when_the_database_is_unreachable(tmp_path: Path) -> None:
    dsn = tmp_path / "dsn"
    dsn.write_text(f"host=127.0.0.1 port={free_port()} user=x password={PASSWORD} dbname=x")
    kubeconfig = tmp_path / "kubeconfig"  # never reached: the records check comes first
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
    )
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"app: web\nrepo: {tmp_path}\nkubeconfig: {kubeconfig}\n"
        f"records: {{store: postgres, dsnFile: {dsn}}}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "gitops_nb.cli", "reconcile", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == ExitCode.TRANSIENT, proc.stderr
    events = [json.loads(line) for line in (proc.stdout + proc.stderr).splitlines() if line]
    [ev] = [e for e in events if e.get("event") == "records-unavailable"]
    assert "unreachable" in ev["error"]
    assert PASSWORD not in proc.stdout + proc.stderr


def test_times_come_back_verbatim(store: PostgresStore) -> None:
    r = SyncRun.from_dict({**run(0, in_sync()).to_dict(), "started": "2026-11-28T10:00:00.123Z"})
    store.write(r)
    assert store.read()[0].started == "2026-11-28T10:00:00.123Z"
    assert isinstance(dt.datetime.now(dt.UTC), dt.datetime)


def test_reconciles_record_into_postgres_and_steady_runs_fold(
    cluster: LocalCluster, kube: Kube, namespace: str, dsn_file: Path, pg_dsn: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.add_fixture("shop", "shop")
    repo.commit("shop")
    log = json_logger("test.pg", open(tmp_path / "log.jsonl", "w"))  # noqa: SIM115
    cfg = load(
        None,
        {},
        {
            "app": "shop",
            "repo": str(repo.path),
            "path": "shop/overlays/prod",
            "namespace": namespace,
            "cache_dir": str(tmp_path / "cache"),
            "records_store": "postgres",
            "records_dsn_file": str(dsn_file),
            "history_retention": "400d",
        },
    )
    assert cfg.history_max_age == "400d"
    codes = [reconcile_app(cfg, log, kube=kube).exit_code for _ in range(4)]
    assert codes == [0, 0, 0, 0]
    got = load_runs(dsn_file=dsn_file, app="shop")
    assert [r.repeats for r in got] == [1, 3]  # the create, then three identical in-sync runs
    assert got[0].counts["created"] > 0 and got[1].counts["created"] == 0
    assert rows(pg_dsn, "SELECT count(*) FROM runs") == [(2,)]
    # the records live in the database, not in the cluster
    assert (
        kube.list(f"/api/v1/namespaces/{namespace}/configmaps", label_selector=f"{KIND_LABEL}")
        == []
    )


def test_a_dropped_connection_is_transient_and_the_retry_reconnects(
    store: PostgresStore, pg_dsn: str
) -> None:
    store.write(run(0, in_sync()))
    pid = store.conn.info.backend_pid
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(RecordStoreUnavailableError) as info:
        store.write(run(1, in_sync(), commit="c2"))
    assert info.value.exit_code == ExitCode.TRANSIENT and PASSWORD not in str(info.value)
    store.write(run(1, in_sync(), commit="c2"))  # the reconciler's retry
    assert [r.started for r in store.read()] == [at(0), at(1)]


def dead_kubeconfig(tmp_path: Path) -> Path:
    """A kubeconfig whose API server refuses every connection."""
    path = tmp_path / "dead-kubeconfig"
    path.write_text(
        f"apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: "
        f"'https://127.0.0.1:{free_port()}'}}}}]\nusers: [{{name: u, user: {{token: t}}}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
    )
    return path


@pytest.mark.parametrize("where", ["postgres", "directory"])
def test_a_run_gets_its_record_when_the_api_server_is_down(
    where: str, dsn_file: Path, tmp_path: Path
) -> None:
    """Issue 16: the records do not live in the cluster, so an outage is recorded."""
    store = (
        {"records_store": "postgres", "records_dsn_file": str(dsn_file)}
        if where == "postgres"
        else {"history_dir": str(tmp_path / "history")}
    )
    cfg = load(
        None,
        {},
        {"app": "down", "repo": str(tmp_path), "kubeconfig": str(dead_kubeconfig(tmp_path))}
        | store,
    )
    result = reconcile_app(cfg, json_logger("test.down", open(tmp_path / "log", "w")))  # noqa: SIM115
    assert result.exit_code == ExitCode.TRANSIENT
    source = (
        {"dsn_file": dsn_file} if where == "postgres" else {"history_dir": tmp_path / "history"}
    )
    [rec] = load_runs(app="down", **source)  # type: ignore[arg-type]
    assert rec.outcome is Outcome.FAILED and rec.revision is None and rec.objects == ()
    assert rec.error is not None and rec.error.startswith("could not start:")
    assert result.run is not None and result.run.run_id == rec.run_id
