"""AppConfig from file, environment and flags; validation names the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitops_nb.config import AppConfig, load, max_age_seconds
from gitops_nb.errors import ConfigError
from gitops_nb.model import Mode


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(text)
    return p


def test_file_env_and_flags_in_precedence_order(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "app: web\nrepo: https://git.example.com/deploy.git\nref: main\n"
        "path: apps/web\nnamespace: prod\nmode: detect\nprune: false\n"
        "maxPruneRatio: 0.2\nhistoryRetention: 10\nleaseDurationSeconds: 30\n",
    )
    cfg = load(f, {"GITOPS_NB_REF": "release", "GITOPS_NB_PRUNE": "true"}, {"mode": "correct"})
    assert cfg == AppConfig(
        app="web",
        repo="https://git.example.com/deploy.git",
        ref="release",
        path="apps/web",
        namespace="prod",
        mode=Mode.CORRECT,
        prune=True,
        max_prune_ratio=0.2,
        history_retention=10,
        lease_duration_s=30,
    )


def test_defaults_are_the_reconciler_defaults() -> None:
    cfg = load(None, {"GITOPS_NB_APP": "a", "GITOPS_NB_REPO": "/r"})
    assert cfg.mode is Mode.CORRECT and cfg.prune and cfg.max_prune_ratio == 0.5


@pytest.mark.parametrize(
    "text,needle",
    [
        ("repo: /r\n", "app:"),
        ("app: Web_App\nrepo: /r\n", "app:"),
        ("app: a\n", "repo:"),
        ("app: a\nrepo: /r\nmode: fix\n", "mode"),
        ("app: a\nrepo: /r\nprune: maybe\n", "prune"),
        ("app: a\nrepo: /r\nmaxPruneRatio: 2\n", "maxPruneRatio"),
        ("app: a\nrepo: /r\nhistoryRetention: 0\n", "historyRetention"),
        ("app: a\nrepo: /r\ninterval: soon\n", "interval"),
        ("app: a\nrepo: /r\nwaitTimeout: soon\n", "waitTimeout"),
        ("app: a\nrepo: /r\nwaitTimeout: 0s\n", "waitTimeout"),
        ("app: a\nrepo: /r\nwait: maybe\n", "wait"),
        ("app: a\nrepo: /r\ncolour: blue\n", "unknown key 'colour'"),
        ("- a\n- b\n", "mapping"),
        ("app: [unclosed\n", "cannot read config"),
    ],
)
def test_invalid_config_fails_fast_naming_the_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        load(write(tmp_path, text), {})
    assert needle in str(err.value)


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load(None, {"GITOPS_NB_APP": "a", "GITOPS_NB_REPO": "/r", "GITOPS_NB_WORKERS": "lots"})
    assert "GITOPS_NB_WORKERS" in str(err.value)


def test_records_mapping_selects_the_store(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(
        "app: web\nrepo: /r\nrecords:\n  store: postgres\n  dsnFile: /etc/gitops-nb/db/dsn\n"
    )
    cfg = load(f)
    assert (cfg.records_store, cfg.records_dsn_file) == ("postgres", "/etc/gitops-nb/db/dsn")
    env = {"GITOPS_NB_RECORDS_STORE": "configmap"}
    assert load(f, env).records_store == "configmap"


@pytest.mark.parametrize(
    ("records", "needle"),
    [
        ("{store: mysql}", "records.store: 'mysql' must be configmap, directory or postgres"),
        ("{store: postgres}", "records.dsnFile: required with records.store: postgres"),
        ("{store: directory}", "historyDir: required with records.store: directory"),
        ("{dsn: x}", "unknown key records.dsn"),
    ],
)
def test_bad_records_settings_name_the_key(tmp_path: Path, records: str, needle: str) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(f"app: web\nrepo: /r\nrecords: {records}\n")
    with pytest.raises(ConfigError, match=re.escape(needle)):
        load(f)


def test_history_retention_takes_a_count_or_an_age(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("app: web\nrepo: /r\nhistoryRetention: 400d\n")
    cfg = load(f)
    assert (cfg.history_max_age, max_age_seconds(cfg.history_max_age)) == ("400d", 400 * 86400)
    assert load(f, {"GITOPS_NB_HISTORY_RETENTION": "72h"}).history_max_age == "72h"
    by_count = load(f, {"GITOPS_NB_HISTORY_RETENTION": "20"})  # the environment wins
    assert (by_count.history_retention, by_count.history_max_age) == (20, "")
    f.write_text("app: web\nrepo: /r\nhistoryRetention: 20\n")
    assert (load(f).history_retention, load(f).history_max_age) == (20, "")
    f.write_text("app: web\nrepo: /r\nhistoryRetention: 4w\n")
    with pytest.raises(ConfigError, match="historyRetention"):
        load(f)


def test_verify_and_helm_sections(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "app: web\nrepo: ./deploy\n"
        "verify: {mode: ssh, keys: [keys/a.pub, keys/b.pub], ref: tag}\n"
        "helm:\n  releaseName: rel\n  valuesFiles: [values-prod.yaml]\n"
        "  values: {replicaCount: 3, image: {tag: '1.2'}}\n  includeCRDs: false\n",
    )
    cfg = load(f)
    assert (cfg.verify.mode, cfg.verify.keys, cfg.verify.ref) == (
        "ssh",
        ("keys/a.pub", "keys/b.pub"),
        "tag",
    )
    assert cfg.verify.enabled and not AppConfig().verify.enabled
    assert cfg.helm.release_name == "rel" and cfg.helm.values_files == ("values-prod.yaml",)
    assert "replicaCount: 3" in cfg.helm.values and cfg.helm.include_crds is False
    env = load(None, {"GITOPS_NB_APP": "a", "GITOPS_NB_REPO": "r", "GITOPS_NB_VERIFY": "keys: [k]"})
    assert env.verify.keys == ("k",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("verify: {mode: x509, keys: [k]}", "verify.mode: 'x509' must be gpg or ssh"),
        ("verify: {keys: [k], ref: branch}", "verify.ref: 'branch' must be commit or tag"),
        ("verify: {key: k}", "unknown keys ['key']"),
        ("verify: [k]", "must be a mapping"),
        ("helm: {values: [1]}", "values: must be a mapping"),
        ("helm: {includeCRDs: maybe}", "includeCRDs: 'maybe' must be true or false"),
        ("helm: {valuesFiles: [1]}", "must be a list of strings"),
    ],
)
def test_bad_verify_and_helm_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    f = write(tmp_path, f"app: web\nrepo: ./deploy\n{text}\n")
    with pytest.raises(ConfigError) as info:
        load(f)
    assert message in str(info.value)


def test_wait_settings_and_durations(tmp_path: Path) -> None:
    from gitops_nb.config import parse_duration

    cfg = load(write(tmp_path, "app: a\nrepo: /r\nwait: true\nwaitTimeout: 2m\n"), {})
    assert cfg.wait is True and parse_duration(cfg.wait_timeout) == 120
    assert load(write(tmp_path, "app: a\nrepo: /r\n"), {}).wait is False
    assert [parse_duration(t) for t in ("90", "90s", "5m", "1h")] == [90, 90, 300, 3600]
    for bad in ("", "0", "-1s", "5d", "m", "inf"):
        with pytest.raises(ValueError):
            parse_duration(bad)
