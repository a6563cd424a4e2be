"""The README's fleet examples run, as written, on the seed layout of ``examples/``."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_nb.fleet import apps as fleet_apps
from gitops_nb.source.credentials import Credentials
from gitops_nb.source.render import render
from gitops_nb.usecases.fleet import resolve_apps
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[2]


def fleet_examples() -> list[dict[str, Any]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Fleets", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    return [yaml.safe_load(b) for b in blocks if "generators:" in b]


def test_both_generators_are_shown() -> None:
    docs = fleet_examples()
    kinds = {next(iter(g)) for d in docs for g in d["generators"]}
    assert kinds == {"directories", "list"}


@pytest.mark.parametrize("doc", fleet_examples(), ids=["directories", "list"])
def test_readme_fleet_example_runs_on_the_seed_layout(doc: dict[str, Any], tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    shutil.copytree(ROOT / "examples", repo.path, dirs_exist_ok=True)
    repo.commit("the seed layout")
    cfg = tmp_path / "fleet.yaml"
    cfg.write_text(yaml.safe_dump({**doc, "repo": str(repo.path), "cacheDir": str(tmp_path / "c")}))
    apps = {a.config.app: a for a in resolve_apps(fleet_apps.load(cfg, {}), Credentials())}
    # The two apps of the seed; the top-level kustomization.yaml is not one of them.
    assert {n: (a.config.path, a.config.namespace) for n, a in apps.items()} == {
        "namespaces": ("namespaces", "prod"),
        "web": ("apps/web", "prod"),
    }
    rendered = {}
    for name, app in apps.items():
        assert app.checkout is not None, name
        ms = render(app.checkout.root, app.config.path)
        rendered[name] = {(m.obj["kind"], m.obj["metadata"]["name"]) for m in ms}
    assert rendered == {
        "namespaces": {("Namespace", "prod")},
        "web": {
            ("Deployment", "web"),
            ("Service", "web"),
            ("Ingress", "web"),
            ("ConfigMap", "web-config"),
        },
    }
    # Every object of the seed belongs to exactly one app: nothing is claimed twice.
    assert len(set().union(*rendered.values())) == sum(map(len, rendered.values()))
    whole = {(m.obj["kind"], m.obj["metadata"]["name"]) for m in render(repo.path)}
    assert whole == set().union(*rendered.values())
