"""Generators: apps made from the repository (``directories:``) or from a list (``list:``).

Expansion is pure given the checked-out tree: the use case fetches each repository and
commit once and hands the tree's root here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops_nb.config import AppConfig, from_mapping
from gitops_nb.errors import ConfigError
from gitops_nb.fleet.apps import NAME, AppEntry, FleetConfig, Generator, template

RootFor = Callable[[str, str], Path]
"""(repo, ref) → the checked-out tree of that commit."""


def source_of(fleet: FleetConfig, values: dict[str, object]) -> tuple[str, str]:
    """The (repo, ref) an app or generator reads: its own keys, else the fleet's."""
    merged = {**fleet.defaults, **values}
    return str(merged.get("repo", AppConfig.repo)), str(merged.get("ref", AppConfig.ref))


def expand(fleet: FleetConfig, root_for: RootFor) -> list[AppEntry]:
    """Explicit apps, then each generator's, in order; duplicate names are refused."""
    entries = list(fleet.apps)
    for gen in fleet.generators:
        if gen.directories:
            repo, ref = source_of(fleet, dict(gen.values))
            entries.extend(_directories(gen, root_for(repo, ref), fleet.file))
        else:
            entries.extend(_items(gen, fleet.file))
    seen: dict[str, AppEntry] = {}
    for e in entries:
        if e.name in seen:
            raise ConfigError(
                f"{fleet.file}: app {e.name!r} is made twice: by {seen[e.name].source} "
                f"and by {e.source} (app names must be unique in a fleet)"
            )
        seen[e.name] = e
    return entries


def _directories(gen: Generator, root: Path, file: str) -> list[AppEntry]:
    real_root = root.resolve()
    out = []
    for d in sorted(root.glob(gen.directories)):
        rel = d.relative_to(root)
        if not d.is_dir() or any(p.startswith(".") for p in rel.parts):
            continue
        if d.is_symlink() or real_root not in d.resolve().parents:
            raise ConfigError(f"{file}: {gen.label}: {rel} leaves the repository (a symlink)")
        name = d.name
        source = f"{gen.label}: {rel}"
        if not NAME.match(name):
            raise ConfigError(
                f"{file}: {source}: directory name {name!r} is not a DNS label; rename it "
                "or list the app under apps: with a name"
            )
        ns = template(gen.namespace, name, f"{file}: {gen.label}: namespace")
        out.append(AppEntry(name, source, {**gen.values, "path": rel.as_posix(), "namespace": ns}))
    return out


def _items(gen: Generator, file: str) -> list[AppEntry]:
    out = []
    for i, item in enumerate(gen.elements):
        source = f"{gen.label}[{i}]"
        name = str(item.get("name", ""))
        if not NAME.match(name):
            raise ConfigError(f"{file}: {source}: name {name!r} is not a DNS label")
        own = from_mapping({k: v for k, v in item.items() if k != "name"}, f"{file}: {source}")
        values = {**gen.values, **own}
        if "path" not in own:
            if not gen.path:
                raise ConfigError(f"{file}: {source}: needs path: (or the generator's path:)")
            values["path"] = template(gen.path, name, f"{file}: {gen.label}: path")
        if "namespace" not in own:
            values["namespace"] = template(gen.namespace, name, f"{file}: {gen.label}: namespace")
        out.append(AppEntry(name, source, values))
    return out
