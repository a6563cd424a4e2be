"""PostgreSQL records: the outcome filter reaches SQL through ``gitops_nb.history`` and the
CLI, and no Secret value lands in any stored column (a real server, tests/postgres.py)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import psycopg
import pytest

from gitops_nb import history
from gitops_nb.cli import main
from gitops_nb.config import load
from gitops_nb.errors import ConfigError, ExitCode
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Outcome
from gitops_nb.records.postgres import PostgresStore
from gitops_nb.usecases.jsonlog import json_logger
from gitops_nb.usecases.reconcile import reconcile_app
from tests.factories import at, in_sync, run
from tests.gitrepo import GitRepo
from tests.postgres import PostgresServer

from .helpers import kubectl


def statements_since(server: PostgresServer, offset: int) -> list[str]:
    """The statements the server logged after ``offset``, each with its parameters."""
    out: list[str] = []
    for line in (server.root / "log").read_text()[offset:].splitlines():
        if m := re.search(r"LOG:  (?:statement|execute [^:]*): (.*)", line):
            out.append(m.group(1))
        elif "DETAIL:  parameters:" in line and out:
            out[-1] += " | " + line.split("DETAIL:  ", 1)[1]
    return out


def test_outcome_filter_is_pushed_into_sql_by_history_and_the_cli(
    pg_server: PostgresServer,
    pg_dsn: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plain = tmp_path / "dsn"
    plain.write_text(pg_dsn)
    store = PostgresStore.from_dsn_file(plain)
    outcomes = [Outcome.SUCCEEDED, Outcome.FAILED, Outcome.REFUSED, Outcome.FAILED]
    for h, outcome in enumerate(outcomes):
        store.write(run(h, in_sync(), app="web", commit=f"c{h}", outcome=outcome))
        store.write(run(h, in_sync(), app="shop", commit=f"c{h}", outcome=outcome))
    store.close()
    # The same database; this client's statements are logged by the server.
    logged = tmp_path / "dsn-logged"
    logged.write_text(pg_dsn + " options='-c log_statement=all'")
    offset = len((pg_server.root / "log").read_text())

    got = history.load_runs(dsn_file=logged, app="web", outcome="failed")
    assert [(r.app, r.started, r.outcome) for r in got] == [
        ("web", at(1), Outcome.FAILED),
        ("web", at(3), Outcome.FAILED),
    ]
    [select] = [s for s in statements_since(pg_server, offset) if "FROM runs WHERE" in s]
    assert "app = $1" in select and "outcome = ANY($2)" in select, select
    assert "$2 = '{failed}'" in select, select  # the database, not Python, picks the rows

    offset = len((pg_server.root / "log").read_text())
    args = ["history", "runs", "--records-dsn-file", str(logged), "-o", "json"]
    assert main([*args, "--outcome", "failed,refused"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted((r["app"], r["outcome"]) for r in rows) == sorted(
        [(a, o) for a in ("shop", "web") for o in ("failed", "refused", "failed")]
    )
    [select] = [s for s in statements_since(pg_server, offset) if "FROM runs WHERE" in s]
    assert "outcome = ANY($1)" in select and "$1 = '{failed,refused}'" in select, select

    # Other stores filter the same way (in Python); a typo is refused, naming the choices.
    hist = tmp_path / "hist"
    hist.mkdir()
    with pytest.raises(ConfigError, match="outcome faild: not one of succeeded, failed"):
        history.load_runs(history_dir=hist, outcome="faild")
    # Episodes need every run: the timeline refuses an outcome filter (exit 2).
    timeline = ["history", "timeline", "--records-dsn-file", str(plain), "--outcome", "failed"]
    assert main(timeline) == ExitCode.ERROR
    assert "only `history runs` filters by outcome" in capsys.readouterr().err


GOOD, HAND, ECHO = "S3CR3T-in-g1t-41", "S3CR3T-by-h4nd-42", "S3CR3T-3ch0-43"
APP = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  token: {GOOD}
---
# The label repeats the value and is not a valid label value: the API server refuses the
# Secret and echoes the label, so the error text holds the Secret's value.
apiVersion: v1
kind: Secret
metadata:
  name: echo
  labels:
    copy: "{ECHO}!!"
stringData:
  key: {ECHO}
"""


def forms(value: str) -> tuple[str, ...]:
    return (value, base64.b64encode(value.encode()).decode())


def test_no_secret_value_in_any_postgres_column(
    cluster: LocalCluster, kube: Kube, namespace: str, pg_dsn: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/secrets.yaml", APP)
    repo.commit("a Secret, and one the server refuses with its value echoed")
    dsn_file = tmp_path / "dsn"
    dsn_file.write_text(pg_dsn)
    cfg = load(
        None,
        {},
        {
            "app": "vault",
            "repo": str(repo.path),
            "path": "app",
            "namespace": namespace,
            "cache_dir": str(tmp_path / "cache"),
            "records_store": "postgres",
            "records_dsn_file": str(dsn_file),
        },
    )
    log = json_logger("test.pg.secrets", open(tmp_path / "log.jsonl", "w"))  # noqa: SIM115
    assert reconcile_app(cfg, log, kube=kube).exit_code == ExitCode.ERROR  # echo failed
    hand = base64.b64encode(HAND.encode()).decode()
    kubectl(
        cluster,
        "-n",
        namespace,
        "patch",
        "secret",
        "creds",
        "-p",
        f'{{"data":{{"token":"{hand}"}}}}',
    )
    assert reconcile_app(cfg, log, kube=kube).exit_code == ExitCode.ERROR  # drift corrected
    assert kube.get(f"/api/v1/namespaces/{namespace}/secrets/creds")["data"]["token"] == (
        base64.b64encode(GOOD.encode()).decode()
    )

    with psycopg.connect(pg_dsn) as conn:
        tables = {
            t: conn.execute(f"SELECT t::text FROM {t} t".encode()).fetchall()
            for t in ("runs", "objects", "changes")
        }
        [(echo_error,)] = conn.execute(
            b"SELECT DISTINCT error FROM objects WHERE name = 'echo' AND error IS NOT NULL"
        ).fetchall()
        drift = conn.execute(
            b"SELECT live, desired FROM changes c JOIN objects o"
            b" ON (o.run_id, o.seq) = (c.run_id, c.object_seq) WHERE o.name = 'creds'"
        ).fetchall()
    # Not vacuous: the refusal and the drift are on the record …
    assert "labels" in echo_error and "Invalid value" in echo_error, echo_error
    assert drift, "the hand change of Secret creds was not recorded"
    # … and no column of any table holds a value, plain or base64.
    stored = "\n".join(str(row) for rows in tables.values() for row in rows)
    for value in (GOOD, HAND, ECHO):
        for form in forms(value):
            assert form not in stored, f"{value} stored as {form!r}"
