"""The fleet config: top-level defaults, explicit ``apps:`` and ``generators:``.

A fleet config is an app config (``gitops_nb/config.py`` keys) whose top level holds the
defaults every app inherits (repo, ref, mode, …) plus the fleet keys below. Precedence for one
app: defaults < top-level keys < ``GITOPS_NB_*`` environment < the app's own keys (or its
generator's) < command-line flags.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops_nb import config
from gitops_nb.config import AppConfig
from gitops_nb.errors import ConfigError

FLEET_KEYS = ("apps", "generators", "fleet", "shards", "concurrency", "pruneRemovedApps")
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class AppEntry:
    """One app as written (or generated): where it came from and its own keys."""

    name: str
    source: str
    """``apps[2]`` or ``generators[0] (directories apps/*): apps/web``: for errors and output."""
    values: Mapping[str, Any]
    """AppConfig field values that override the fleet defaults."""


@dataclass(frozen=True)
class Generator:
    """``{directories: GLOB}`` or ``{list: [...]}`` with templates and shared keys."""

    index: int
    directories: str = ""
    """A glob relative to the repository root; every matching directory becomes an app."""
    elements: tuple[Mapping[str, Any], ...] = ()
    """The list generator's items: each needs ``name``, any other key overrides."""
    path: str = ""
    """Template of an app's path for list items without ``path:`` (``{name}`` is the item's)."""
    namespace: str = "{name}"
    """Template of an app's namespace (``{name}`` is the app's name)."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """AppConfig keys shared by every app of this generator (repo, ref, mode, …)."""

    @property
    def label(self) -> str:
        kind = f"directories {self.directories}" if self.directories else "list"
        return f"generators[{self.index}] ({kind})"


@dataclass(frozen=True)
class FleetConfig:
    """A parsed fleet config; :func:`gitops_nb.fleet.generators.expand` makes its apps."""

    file: str
    defaults: Mapping[str, Any]
    """AppConfig field values from the top level and the environment."""
    apps: tuple[AppEntry, ...] = ()
    generators: tuple[Generator, ...] = ()
    name: str = "fleet"
    """Names the ConfigMap ``gitops-nb.fleet.<name>`` that remembers the fleet's apps."""
    shards: int = 1
    concurrency: int = 4
    """Apps reconciled at once in one process (each with ``workers`` threads)."""
    prune_removed_apps: bool = False
    """Delete the objects of an app the generators no longer produce (mass-prune guarded)."""

    @property
    def home(self) -> str:
        """The fleet's namespace (top-level ``namespace``): home of its app list."""
        return str(self.defaults.get("namespace", AppConfig.namespace))

    def app_config(self, entry: AppEntry, overrides: Mapping[str, Any] | None = None) -> AppConfig:
        """The validated AppConfig of one app; errors name the file and the app's source."""
        values = {**self.defaults, **entry.values, **(overrides or {}), "app": entry.name}
        try:
            return config.build(values)
        except ConfigError as e:
            raise ConfigError(f"{self.file}: {entry.source}: {e}") from e


def is_fleet(path: str | Path | None) -> bool:
    """True when the config file declares ``apps:`` or ``generators:``."""
    if not path:
        return False
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return False  # config.load reports it with file and reason
    return isinstance(data, dict) and ("apps" in data or "generators" in data)


def load(path: str | Path, environ: Mapping[str, str]) -> FleetConfig:
    """Parse a fleet config file; every problem raises ConfigError naming file and key."""
    file = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{file}: cannot read config: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the config must be a mapping of keys to values")
    if "app" in data:
        raise ConfigError(f"{file}: app: a fleet config names its apps under apps:/generators:")
    top = {k: v for k, v in data.items() if k not in FLEET_KEYS}
    defaults = config.from_mapping(top, file)
    defaults.update(config.from_env(environ))
    apps = tuple(
        _entry(item, f"apps[{i}]", file) for i, item in enumerate(_list(data, "apps", file))
    )
    gens = tuple(_generator(g, i, file) for i, g in enumerate(_list(data, "generators", file)))
    fleet = FleetConfig(
        file=file,
        defaults=defaults,
        apps=apps,
        generators=gens,
        name=str(data.get("fleet", "fleet")),
        shards=_int(data, "shards", 1, file),
        concurrency=_int(data, "concurrency", 4, file),
        prune_removed_apps=_bool(data, "pruneRemovedApps", file),
    )
    if not NAME.match(fleet.name):
        raise ConfigError(f"{file}: fleet: {fleet.name!r} is not a DNS label")
    if not 1 <= fleet.shards <= 1000:
        raise ConfigError(f"{file}: shards: {fleet.shards} must be between 1 and 1000")
    if not 1 <= fleet.concurrency <= 64:
        raise ConfigError(f"{file}: concurrency: {fleet.concurrency} must be between 1 and 64")
    return fleet


def _list(data: Mapping[str, Any], key: str, file: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise ConfigError(f"{file}: {key}: must be a list")
    return value


def _int(data: Mapping[str, Any], key: str, default: int, file: str) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{file}: {key}: {value!r} is not an integer")
    return value


def _bool(data: Mapping[str, Any], key: str, file: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{file}: {key}: {value!r} is not true or false")
    return value


def _entry(item: Any, source: str, file: str) -> AppEntry:
    if not isinstance(item, dict) or not item.get("name"):
        raise ConfigError(f"{file}: {source}: an app is a mapping with at least name:")
    name = str(item["name"])
    if not NAME.match(name):
        raise ConfigError(f"{file}: {source}: name {name!r} is not a DNS label")
    if "app" in item:
        raise ConfigError(f"{file}: {source}: use name:, not app:")
    rest = {k: v for k, v in item.items() if k != "name"}
    return AppEntry(name, source, config.from_mapping(rest, f"{file}: {source}"))


def _generator(g: Any, index: int, file: str) -> Generator:
    where = f"{file}: generators[{index}]"
    if not isinstance(g, dict) or ("directories" in g) == ("list" in g):
        raise ConfigError(f"{where}: a generator has exactly one of directories: or list:")
    namespace = str(g.get("namespace", "{name}"))
    path = str(g.get("path", ""))
    shared = {k: v for k, v in g.items() if k not in ("directories", "list", "namespace", "path")}
    values = config.from_mapping(shared, where)
    if "directories" in g:
        if "path" in g:
            raise ConfigError(f"{where}: path: a directory generator's path is the directory")
        glob = str(g["directories"])
        if not glob or glob.startswith("/") or ".." in Path(glob).parts:
            raise ConfigError(f"{where}: directories: {glob!r} must be a glob inside the repo")
        return Generator(index, directories=glob, namespace=namespace, values=values)
    items = g["list"]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{where}: list: must be a list of mappings, each with name:")
    return Generator(index, elements=tuple(items), path=path, namespace=namespace, values=values)


def template(text: str, name: str, where: str) -> str:
    """``{name}`` replaced by the app's name; any other placeholder is refused."""
    out = text.replace("{name}", name)
    if "{" in out or "}" in out:
        raise ConfigError(f"{where}: {text!r}: the only placeholder is {{name}}")
    return out
