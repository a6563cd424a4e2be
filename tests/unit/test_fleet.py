"""Fleet config, generators and shards: pure logic, no cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gitops_nb.errors import ConfigError, ExitCode
from gitops_nb.fleet import apps as fleet_apps
from gitops_nb.fleet.generators import expand
from gitops_nb.fleet.shards import shard_index, shard_of
from gitops_nb.model import Mode
from gitops_nb.usecases.fleet import fleet_exit_code


def write(tmp: Path, doc: object) -> Path:
    p = tmp / "fleet.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for d in ("apps/web", "apps/api", "apps/.hidden", "namespaces"):
        (root / d).mkdir(parents=True)
    (root / "apps/README.md").write_text("not an app")
    return root


def test_directory_and_list_generators_and_explicit_apps(tmp_path: Path, tree: Path) -> None:
    cfg = write(
        tmp_path,
        {
            "repo": "https://git.example.com/deploy.git",
            "ref": "main",
            "mode": "detect",
            "apps": [{"name": "base", "path": "namespaces", "namespace": "kube-system"}],
            "generators": [
                {"directories": "apps/*"},
                {
                    "list": [{"name": "cache"}, {"name": "queue", "namespace": "ops", "ref": "v2"}],
                    "path": "shared/{name}",
                    "namespace": "team-{name}",
                },
            ],
        },
    )
    fleet = fleet_apps.load(cfg, {})
    entries = expand(fleet, lambda repo, ref: tree)
    configs = {e.name: fleet.app_config(e) for e in entries}
    assert list(configs) == ["base", "api", "web", "cache", "queue"]  # .hidden, files skipped
    assert (configs["web"].path, configs["web"].namespace) == ("apps/web", "web")
    assert configs["web"].mode is Mode.DETECT and configs["web"].ref == "main"  # defaults
    assert (configs["cache"].path, configs["cache"].namespace) == ("shared/cache", "team-cache")
    assert (configs["queue"].namespace, configs["queue"].ref) == ("ops", "v2")
    assert configs["base"].namespace == "kube-system"
    # flags win over everything
    assert fleet.app_config(entries[0], {"mode": Mode.CORRECT}).mode is Mode.CORRECT


def test_environment_is_a_default_an_app_key_still_wins(tmp_path: Path, tree: Path) -> None:
    cfg = write(tmp_path, {"repo": "r", "apps": [{"name": "a", "mode": "correct"}, {"name": "b"}]})
    fleet = fleet_apps.load(cfg, {"GITOPS_NB_MODE": "detect"})
    a, b = (fleet.app_config(e) for e in expand(fleet, lambda repo, ref: tree))
    assert (a.mode, b.mode) == (Mode.CORRECT, Mode.DETECT)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"repo": "r", "app": "x", "apps": []}, "app: a fleet config"),
        ({"repo": "r", "apps": [{"path": "x"}]}, "apps[0]: an app is a mapping"),
        ({"repo": "r", "apps": [{"name": "Bad_Name"}]}, "apps[0]: name 'Bad_Name'"),
        ({"repo": "r", "apps": [{"name": "a", "colour": 1}]}, "apps[0]: unknown key 'colour'"),
        ({"repo": "r", "generators": [{"directories": "../x"}]}, "must be a glob inside"),
        ({"repo": "r", "generators": [{"directories": "a", "list": []}]}, "exactly one of"),
        ({"repo": "r", "generators": [{"list": [{"name": "a"}]}]}, "needs path:"),
        ({"repo": "r", "generators": [{"list": [{"name": "a"}], "path": "{app}"}]}, "placeholder"),
        ({"repo": "r", "apps": [], "shards": 0}, "shards: 0"),
        ({"repo": "r", "apps": [], "pruneRemovedApps": "yes"}, "pruneRemovedApps: 'yes'"),
    ],
)
def test_bad_fleet_configs_name_file_and_key(tmp_path: Path, doc: object, message: str) -> None:
    cfg = write(tmp_path, doc)
    with pytest.raises(ConfigError, match=r".*") as e:
        fleet = fleet_apps.load(cfg, {})
        expand(fleet, lambda repo, ref: tmp_path)
    assert message in str(e.value)
    assert str(cfg) in str(e.value)


def test_a_name_made_twice_names_both_sources(tmp_path: Path, tree: Path) -> None:
    cfg = write(
        tmp_path,
        {"repo": "r", "apps": [{"name": "web"}], "generators": [{"directories": "apps/*"}]},
    )
    fleet = fleet_apps.load(cfg, {})
    with pytest.raises(
        ConfigError, match=r"'web' is made twice: by apps\[0\] and by generators\[0\]"
    ):
        expand(fleet, lambda repo, ref: tree)


def test_directory_names_that_are_not_dns_labels_are_refused(tmp_path: Path, tree: Path) -> None:
    (tree / "apps" / "My_App").mkdir()
    cfg = write(tmp_path, {"repo": "r", "generators": [{"directories": "apps/*"}]})
    with pytest.raises(
        ConfigError, match="apps/My_App: directory name 'My_App' is not a DNS label"
    ):
        expand(fleet_apps.load(cfg, {}), lambda repo, ref: tree)


def test_is_fleet(tmp_path: Path) -> None:
    assert fleet_apps.is_fleet(write(tmp_path, {"repo": "r", "generators": []}))
    assert not fleet_apps.is_fleet(write(tmp_path, {"repo": "r", "app": "web"}))
    assert not fleet_apps.is_fleet(None)


def test_shards_are_stable_balanced_and_need_an_index() -> None:
    names = [f"app-{i}" for i in range(1000)]
    assert shard_of("web", 7) == shard_of("web", 7)  # no per-process salt (unlike hash())
    sizes = [sum(1 for n in names if shard_of(n, 4) == s) for s in range(4)]
    assert all(200 <= size <= 300 for size in sizes), sizes
    assert shard_index(1, {}) is None
    assert shard_index(3, {"JOB_COMPLETION_INDEX": "2"}) == 2
    for env, msg in (
        ({}, "needs JOB_COMPLETION_INDEX"),
        ({"JOB_COMPLETION_INDEX": "3"}, "outside"),
    ):
        with pytest.raises(ConfigError, match=msg):
            shard_index(3, env)


def test_fleet_exit_code_is_the_most_severe() -> None:
    assert fleet_exit_code([]) == ExitCode.OK
    assert fleet_exit_code([0, 1, 0]) == ExitCode.DRIFT
    assert fleet_exit_code([1, 4, 3]) == ExitCode.TRANSIENT
    assert fleet_exit_code([3, 2, 4]) == ExitCode.ERROR
    assert fleet_exit_code([2, 5]) == ExitCode.INTERRUPTED
    # a refused commit is a security signal: an ordinary error never hides it
    assert fleet_exit_code([2, 6, 0]) == ExitCode.VERIFY_FAILED
    assert fleet_exit_code([7, 3, 1]) == ExitCode.NOT_HEALTHY
    assert fleet_exit_code([7, 2]) == ExitCode.ERROR
    assert fleet_exit_code([0, 1, 42]) == 42  # a code from a newer version ranks as an error
    assert fleet_exit_code([42, 5]) == ExitCode.INTERRUPTED


def test_prune_removed_apps_guard(tmp_path: Path) -> None:
    from gitops_nb.usecases.fleetprune import guard

    fleet = fleet_apps.load(write(tmp_path, {"repo": "r", "apps": []}), {})
    assert guard(fleet, current=9, known=10, orphans=1) is None
    assert "no app at all" in (guard(fleet, current=0, known=10, orphans=10) or "")
    assert "6 of 10" in (guard(fleet, current=4, known=10, orphans=6) or "")
    lifted = fleet_apps.load(write(tmp_path, {"repo": "r", "apps": [], "allowMassPrune": True}), {})
    assert guard(lifted, current=0, known=10, orphans=10) is None


def test_reconcile_flags_apply_to_every_app_as_typed_values(tmp_path: Path) -> None:
    from gitops_nb.cli.fleet_cmds import _overrides
    from gitops_nb.cli.main import build_parser

    cfg = write(tmp_path, {"repo": "r", "apps": [{"name": "a", "mode": "correct"}]})
    args = build_parser().parse_args(
        ["reconcile", "--config", str(cfg), "--mode", "detect", "--no-prune", "--adopt"]
    )
    fleet = fleet_apps.load(cfg, {})
    app = fleet.app_config(fleet.apps[0], _overrides(args))
    assert (app.mode, app.prune, app.adopt) == (Mode.DETECT, False, True)


def test_removal_verdict_says_whether_a_run_would_prune_and_whether_the_guard_refuses(
    tmp_path: Path,
) -> None:
    from gitops_nb.usecases.fleetprune import verdict

    kept = fleet_apps.load(write(tmp_path, {"repo": "r", "apps": []}), {})
    v = verdict(kept, correct=True, current=9, known=10, orphans=1)
    assert (v.prune, v.guard, v.refused) == (False, None, False)
    assert "pruneRemovedApps: false" in v.why
    # The guard is stated even while pruning is off: what enabling it would meet.
    v = verdict(kept, correct=True, current=4, known=10, orphans=6)
    assert not v.prune and "6 of 10" in (v.guard or "") and not v.refused
    on = fleet_apps.load(write(tmp_path, {"repo": "r", "apps": [], "pruneRemovedApps": True}), {})
    v = verdict(on, correct=True, current=9, known=10, orphans=1)
    assert (v.prune, v.guard, v.refused) == (True, None, False)
    v = verdict(on, correct=True, current=4, known=10, orphans=6)
    assert (v.prune, v.refused) == (False, True) and "mass-prune guard" in v.why
    v = verdict(on, correct=False, current=9, known=10, orphans=1)
    assert (v.prune, v.refused, v.why) == (False, False, "detect mode: nothing is pruned")


def test_cache_dir_flag_serves_the_generators_too(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from tests.gitrepo import GitRepo

    repo = GitRepo(tmp_path / "repo")
    repo.write("apps/web/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    repo.commit("one app")
    in_file, flag = tmp_path / "file-cache", tmp_path / "flag-cache"
    cfg = write(
        tmp_path,
        {
            "repo": str(repo.path),
            "cacheDir": str(in_file),
            "generators": [{"directories": "apps/*"}],
        },
    )
    flags = ("--cache-dir", str(flag), "-o", "json")
    out = subprocess.run(
        [sys.executable, "-m", "gitops_nb.cli", "apps", "--config", str(cfg), *flags],
        capture_output=True,
        text=True,
        check=True,
    )
    [app] = json.loads(out.stdout)
    assert app["name"] == "web" and app["commit"] == repo.git("rev-parse", "HEAD")
    assert any(flag.iterdir())
    assert not in_file.exists()  # one fetch, into the cache the flag names
