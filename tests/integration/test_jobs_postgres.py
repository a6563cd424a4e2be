"""``jobs/components/postgres-records``: records in PostgreSQL, kept by age, for one app or a fleet.

Rendered with Kustomize like ``kubectl apply -k``: the component enabled in ``jobs/`` and, for
a fleet, in ``jobs/overlays/fleet/`` too (that overlay ships its own CronJob).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from gitops_nb.config import load
from gitops_nb.fleet import apps as fleet_apps
from gitops_nb.model import Manifest
from gitops_nb.source.render import render

from .helpers import REPO
from .jobskit import INSTALL_NS, PLACEHOLDER, one

RETENTION = "400d"


def _with_component(jobs: Path, kustomization: str, component: str) -> None:
    file = jobs / kustomization
    file.write_text(file.read_text() + f"components:\n  - {component}\n")


def _pod(ms: list[Manifest]) -> dict[str, Any]:
    spec: dict[str, Any] = one(ms, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def _env(ms: list[Manifest]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in _pod(ms)["containers"][0]["env"]}


def _assert_mounts_the_dsn_secret(ms: list[Manifest]) -> None:
    pod = _pod(ms)
    env = _env(ms)
    assert env["GITOPS_NB_RECORDS_STORE"] == "postgres"
    assert env["GITOPS_NB_RECORDS_DSN_FILE"] == "/etc/gitops-nb/db/dsn"
    assert env["GITOPS_NB_HISTORY_RETENTION"] == RETENTION  # a database keeps months
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["records-db"]["mountPath"] == "/etc/gitops-nb/db"
    assert mounts["records-db"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["records-db"]["secret"]["secretName"] == "gitops-nb-records-db"
    secret = next(m.obj for m in ms if m.obj["metadata"]["name"] == "gitops-nb-records-db")
    assert secret["metadata"]["namespace"] == INSTALL_NS
    assert all(PLACEHOLDER.match(v) for v in secret["stringData"].values())


def test_postgres_records_component_mounts_the_dsn_secret_and_selects_the_store(
    tmp_path: Path,
) -> None:
    jobs = tmp_path / "jobs"
    shutil.copytree(REPO / "jobs", jobs)
    _with_component(jobs, "kustomization.yaml", "components/postgres-records")
    ms = render(jobs)
    _assert_mounts_the_dsn_secret(ms)
    env = _env(ms)
    cfg = load(
        None,
        {k: str(v) for k, v in env.items()} | {"GITOPS_NB_APP": "x", "GITOPS_NB_REPO": "/r"},
    )
    assert cfg.records_store == "postgres"
    # The age wins over the config file's count of 50 (ConfigMap-sized history).
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(one(ms, "ConfigMap")["data"]["config.yaml"])
    assert yaml.safe_load(cfg_file.read_text())["historyRetention"] == 50
    from_file = load(cfg_file, {k: str(v) for k, v in env.items()})
    assert from_file.history_max_age == RETENTION


def test_postgres_records_component_combines_with_the_fleet_overlay(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    shutil.copytree(REPO / "jobs", jobs)
    _with_component(jobs, "kustomization.yaml", "components/postgres-records")
    _with_component(jobs, "overlays/fleet/kustomization.yaml", "../../components/postgres-records")
    fleet = render(jobs, "overlays/fleet")
    _assert_mounts_the_dsn_secret(fleet)
    job = one(fleet, "CronJob")["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"  # still the fleet's CronJob
    # Applied after jobs/, the fleet's CronJob keeps what jobs/ patched in: the same pod.
    single = render(jobs)
    assert _pod(fleet) == _pod(single)
    # Every app of the fleet keeps its records in the database for 400 days.
    cfg_file = tmp_path / "fleet.yaml"
    cfg_file.write_text(one(fleet, "ConfigMap")["data"]["config.yaml"])
    config = fleet_apps.load(cfg_file, _env(fleet))
    entry = fleet_apps.AppEntry("web", "test", {"path": "apps/web"})
    app = config.app_config(entry)
    assert (app.records_store, app.history_max_age) == ("postgres", RETENTION)
