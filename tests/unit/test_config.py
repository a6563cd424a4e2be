"""AppConfig from file, environment and flags; validation names the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_nb.config import AppConfig, load
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


def test_wait_settings_and_durations(tmp_path: Path) -> None:
    from gitops_nb.config import parse_duration

    cfg = load(write(tmp_path, "app: a\nrepo: /r\nwait: true\nwaitTimeout: 2m\n"), {})
    assert cfg.wait is True and parse_duration(cfg.wait_timeout) == 120
    assert load(write(tmp_path, "app: a\nrepo: /r\n"), {}).wait is False
    assert [parse_duration(t) for t in ("90", "90s", "5m", "1h")] == [90, 90, 300, 3600]
    for bad in ("", "0", "-1s", "5d", "m", "inf"):
        with pytest.raises(ValueError):
            parse_duration(bad)
