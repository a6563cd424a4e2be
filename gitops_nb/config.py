"""AppConfig: what one reconciler manages, from a YAML file, environment and flags.

Precedence: flags > environment (``GITOPS_NB_*``) > config file > defaults. Validated as a
whole; the first problem raises :class:`ConfigError` naming the key and its source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from gitops_nb.errors import ConfigError, UnsafeSourceError
from gitops_nb.giturl import validate_url
from gitops_nb.ignore import IgnoreRule, IgnoreRules
from gitops_nb.model import Mode
from gitops_nb.policyspec import DEFAULT_POLICY, Policy
from gitops_nb.sourcesettings import HelmSettings as HelmSettings
from gitops_nb.sourcesettings import VerifySettings as VerifySettings

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_DURATION = re.compile(r"^(\d+)(s|m|h)$")
_AGE = re.compile(r"^(\d+)(h|d)$")


@dataclass(frozen=True)
class AppConfig:
    """One app's reconciler settings (the ConfigMap ``jobs/config.yaml`` holds these keys)."""

    app: str = ""
    """App name; names the ApplySet parent ``gitops-nb.<app>`` and the Lease."""
    repo: str = ""
    """Git URL or local path."""
    ref: str = "HEAD"
    """Branch, tag or commit to reconcile to."""
    path: str = "."
    """App directory inside the repository (plain YAML or Kustomize)."""
    namespace: str = "default"
    """Default namespace for objects and home of the ApplySet parent, Lease and history."""
    mode: Mode = Mode.CORRECT
    """``correct`` applies, prunes and takes over conflicts; ``detect`` only records drift."""
    prune: bool = True
    """Delete ApplySet members that Git no longer has (``correct`` mode only)."""
    max_prune_ratio: float = 0.5
    """Largest share of the inventory one run may prune."""
    allow_mass_prune: bool = False
    """Allow pruning beyond ``max_prune_ratio``."""
    history_retention: int = 50
    """Sync-run records kept per app (oldest removed)."""
    history_max_age: str = ""
    """``historyRetention: 400d`` (or ``72h``): keep records by age instead of by count;
    a record goes when its last run started longer ago than this."""
    history_dir: str = ""
    """Write records to this directory instead of ConfigMaps (runs outside the cluster)."""
    records_store: str = ""
    """``records.store``: ``configmap``, ``directory`` or ``postgres`` (empty: ``directory``
    when ``historyDir`` is set, else ``configmap``)."""
    records_dsn_file: str = ""
    """``records.dsnFile``: file holding the PostgreSQL DSN (a Secret mount), never the DSN."""
    interval: str = "5m"
    """Schedule hint, for humans and reports (the CronJob schedule decides)."""
    lease_duration_s: int = 60
    """A Lease not renewed for this long is stale and may be taken over."""
    workers: int = 16
    """Parallel dry-runs / applies."""
    cache_dir: str = ""
    """Git mirror cache (an emptyDir in the pod); default ~/.cache/gitops-nb/git."""
    kubeconfig: str = ""
    """Explicit kubeconfig; empty means in-cluster when in a pod, else the default."""
    ignore: tuple[str, ...] = ()
    """Ignore rules (``manager=…;path=…;kind=…;name=…;namespace=…``): not drift, never
    corrected; used by diff, apply, reconcile, fingerprints and records alike."""
    ignore_defaults: bool = True
    """Also apply the shipped rules (system managers, ``restartedAt``…; see README)."""
    policy: Policy = DEFAULT_POLICY
    """What the app may hold: ``namespaces``, ``allowKinds``, ``denyKinds``,
    ``clusterKinds``, ``tokenSecrets`` (see README "Security model")."""
    reconciler_namespace: str = ""
    """The reconciler's own namespace, never written by the app; default: the pod's."""
    service_account_name: str = ""
    """Apply the app as this ServiceAccount of ``namespace`` (impersonation): the API server
    then enforces the app's rights, not the reconciler's. Empty: the reconciler's own."""
    adopt: bool = False
    """Take over objects labelled as another app's (another ApplySet's members)."""
    verify: VerifySettings = field(default_factory=VerifySettings)
    """Signed commits only (README "Trust")."""
    helm: HelmSettings = field(default_factory=HelmSettings)
    """Helm chart rendering (README "Helm charts")."""
    wait: bool = False
    """After applying, wait until every object is Current (kstatus); exit 7 if not in time."""
    wait_timeout: str = "5m"
    """How long ``wait`` waits (30s, 5m, 1h)."""

    @property
    def ignore_rules(self) -> IgnoreRules:
        """The rule set in force (the config's rules, with the shipped defaults or not)."""
        return IgnoreRules.of(self.ignore, defaults=self.ignore_defaults)

    def validate(self) -> AppConfig:
        if not self.app or not _DNS_LABEL.match(self.app):
            raise ConfigError(f"app: {self.app!r} is not a DNS label (lowercase, digits, '-')")
        if not self.repo:
            raise ConfigError("repo: is required (a Git URL or local path)")
        _repo(self.repo, "repo")
        if not _DNS_LABEL.match(self.namespace):
            raise ConfigError(f"namespace: {self.namespace!r} is not a valid namespace name")
        if not 0 < self.max_prune_ratio <= 1:
            raise ConfigError(f"maxPruneRatio: {self.max_prune_ratio} must be in (0, 1]")
        if self.history_max_age and not _AGE.match(self.history_max_age):
            raise ConfigError(
                f"historyRetention: {self.history_max_age!r} must be a count or an age like 400d"
            )
        if self.history_retention < 1:
            raise ConfigError(f"historyRetention: {self.history_retention} must be >= 1")
        if self.lease_duration_s < 5:
            raise ConfigError(f"leaseDurationSeconds: {self.lease_duration_s} must be >= 5")
        if not 1 <= self.workers <= 64:
            raise ConfigError(f"workers: {self.workers} must be between 1 and 64")
        if not _DURATION.match(self.interval):
            raise ConfigError(f"interval: {self.interval!r} must look like 30s, 5m or 1h")
        if self.reconciler_namespace and not _DNS_LABEL.match(self.reconciler_namespace):
            raise ConfigError(f"reconcilerNamespace: {self.reconciler_namespace!r} is not valid")
        if self.service_account_name and not _DNS_SUBDOMAIN.match(self.service_account_name):
            raise ConfigError(
                f"serviceAccountName: {self.service_account_name!r} is not a valid name"
            )
        if self.records_store not in ("", "configmap", "directory", "postgres"):
            raise ConfigError(
                f"records.store: {self.records_store!r} must be configmap, directory or postgres"
            )
        if self.records_store == "postgres" and not self.records_dsn_file:
            raise ConfigError("records.dsnFile: required with records.store: postgres")
        if self.records_store == "directory" and not self.history_dir:
            raise ConfigError("historyDir: required with records.store: directory")
        if self.verify.mode not in ("", "gpg", "ssh"):
            raise ConfigError(f"verify.mode: {self.verify.mode!r} must be gpg or ssh")
        if self.verify.ref not in ("commit", "tag"):
            raise ConfigError(f"verify.ref: {self.verify.ref!r} must be commit or tag")
        if not _DURATION.match(self.wait_timeout) or self.wait_timeout[0] == "0":
            raise ConfigError(f"waitTimeout: {self.wait_timeout!r} must look like 30s, 5m or 1h")
        for rule in self.ignore:
            try:
                IgnoreRule.parse(rule)
            except ValueError as e:
                raise ConfigError(f"ignore: {e}") from e
        return self


# YAML / env key → field name
_KEYS: dict[str, str] = {
    "app": "app",
    "repo": "repo",
    "ref": "ref",
    "path": "path",
    "namespace": "namespace",
    "mode": "mode",
    "prune": "prune",
    "maxPruneRatio": "max_prune_ratio",
    "allowMassPrune": "allow_mass_prune",
    "historyRetention": "history_retention",
    "historyDir": "history_dir",
    "interval": "interval",
    "leaseDurationSeconds": "lease_duration_s",
    "workers": "workers",
    "cacheDir": "cache_dir",
    "kubeconfig": "kubeconfig",
    "ignore": "ignore",
    "ignoreDefaults": "ignore_defaults",
    "policy": "policy",
    "reconcilerNamespace": "reconciler_namespace",
    "serviceAccountName": "service_account_name",
    "adopt": "adopt",
    "recordsStore": "records_store",
    "recordsDsnFile": "records_dsn_file",
    "verify": "verify",
    "helm": "helm",
    "wait": "wait",
    "waitTimeout": "wait_timeout",
}
# the nested ``records:`` mapping: its keys → field name
_RECORDS_KEYS = {"store": "records_store", "dsnFile": "records_dsn_file"}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``5m`` or ``1h`` as seconds (> 0); ValueError otherwise."""
    t = text.strip().lower()
    factor = {"s": 1, "m": 60, "h": 3600}.get(t[-1:], 0)
    seconds = float(t[:-1] if factor else t) * (factor or 1)
    if not 0 < seconds < float("inf"):
        raise ValueError(f"not a duration: {text!r}")
    return seconds


def _env_name(key: str) -> str:
    return "GITOPS_NB_" + re.sub(r"(?<!^)([A-Z])", r"_\1", key).upper()


_ENV = {_env_name(k): f for k, f in _KEYS.items()}


def _coerce(name: str, value: Any, source: str) -> Any:
    types = {f.name: f.type for f in fields(AppConfig)}
    t = str(types[name])
    try:
        if name == "history_retention" and isinstance(value, str) and _AGE.match(value.strip()):
            return value.strip()  # an age: load() moves it to history_max_age
        if name == "mode":
            return Mode(str(value))
        if name == "ignore":
            return _rules(value)
        if name == "policy":
            return _policy(value, source)
        if name == "repo":
            return _repo(str(value), source)
        if name in _NESTED:
            try:
                return _NESTED[name](_mapping(value))
            except ValueError as e:
                raise ConfigError(f"{source}: {e}") from e
        if t == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1", "yes"):
                return True
            if str(value).lower() in ("false", "0", "no"):
                return False
            raise ValueError(value)
        if t == "int":
            return int(value)
        if t == "float":
            return float(value)
        return str(value)
    except ValueError as e:
        raise ConfigError(f"{source}: {value!r} is not a valid value for {name}") from e


def _repo(url: str, source: str) -> str:
    """``url`` if git may be given it; checked as the config loads, before any Lease or API
    call, so ``https://[x`` is a one-line error (exit 2) wherever it was written."""
    try:
        validate_url(url)
    except UnsafeSourceError as e:
        raise ConfigError(f"{source}: {e}") from None
    return url


def _policy(value: Any, source: str) -> Policy:
    if isinstance(value, Policy):
        return value
    try:
        return Policy.parse(yaml.safe_load(value) if isinstance(value, str) else value, source)
    except (ValueError, yaml.YAMLError) as e:
        raise ConfigError(str(e)) from e


def _rules(value: Any) -> tuple[str, ...]:
    """A list of rules (strings or mappings of selectors), or one rule per line."""
    items = value.splitlines() if isinstance(value, str) else list(value or ())
    out = []
    for item in items:
        if isinstance(item, Mapping):
            out.append(";".join(f"{k}={v}" for k, v in item.items()))
        elif str(item).strip():
            out.append(str(item).strip())
    return tuple(out)


def _mapping(value: Any) -> Mapping[str, Any]:
    """A nested section: a mapping, or YAML text of one (from the environment)."""
    if isinstance(value, str):
        value = yaml.safe_load(value) or {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{value!r} must be a mapping")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{value!r} must be a list of strings")
    return tuple(str(v) for v in value)


def _verify(d: Mapping[str, Any]) -> VerifySettings:
    unknown = set(d) - {"mode", "keys", "ref"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} (known: keys, mode, ref)")
    return VerifySettings(
        keys=_strings(d.get("keys", [])),
        mode=str(d.get("mode") or ""),
        ref=str(d.get("ref") or "commit"),
    )


def _helm(d: Mapping[str, Any]) -> HelmSettings:
    unknown = set(d) - {"releaseName", "valuesFiles", "values", "includeCRDs"}
    if unknown:
        raise ValueError(
            f"unknown keys {sorted(unknown)} (known: includeCRDs, releaseName, values, valuesFiles)"
        )
    values = d.get("values") or {}
    if not isinstance(values, Mapping):
        raise ValueError(f"values: must be a mapping, not {type(values).__name__}")
    crds = d.get("includeCRDs", True)
    if not isinstance(crds, bool):
        raise ValueError(f"includeCRDs: {crds!r} must be true or false")
    return HelmSettings(
        release_name=str(d.get("releaseName") or ""),
        values_files=_strings(d.get("valuesFiles", [])),
        values=yaml.safe_dump(dict(values), sort_keys=False) if values else "",
        include_crds=crds,
    )


_NESTED = {"verify": _verify, "helm": _helm}


def from_mapping(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "records" and isinstance(value, Mapping):
            for sub, v in value.items():
                if sub not in _RECORDS_KEYS:
                    known = ", ".join(sorted(_RECORDS_KEYS))
                    raise ConfigError(f"{source}: unknown key records.{sub} (known: {known})")
                out[_RECORDS_KEYS[sub]] = _coerce(_RECORDS_KEYS[sub], v, f"{source}: records.{sub}")
            continue
        if key not in _KEYS:
            raise ConfigError(f"{source}: unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
        out[_KEYS[key]] = _coerce(_KEYS[key], value, f"{source}: {key}")
    return out


def load(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> AppConfig:
    """Build and validate the config from file, environment and flag overrides."""
    values: dict[str, Any] = {}
    if config_file:
        path = Path(config_file)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.MarkedYAMLError as e:  # file:line; never quote the line (values, secrets)
            mark = e.problem_mark or e.context_mark
            what = "; ".join(p for p in (e.context, e.problem) if p) or "invalid YAML"
            line = mark.line + 1 if mark is not None else 1
            raise ConfigError(f"{path}:{line}: cannot read config: invalid YAML: {what}") from e
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{path}: cannot read config: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the config must be a mapping of keys to values")
        values.update(from_mapping(data, str(path)))
    values.update(from_env(environ or {}))
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    return build(values)


def build(values: Mapping[str, Any]) -> AppConfig:
    """The validated AppConfig of merged field values (file, environment, flags: later wins).

    ``historyRetention`` takes a count or an age; an age (``400d``) becomes
    ``history_max_age`` and a count clears an age set earlier."""
    values = dict(values)
    if isinstance(values.get("history_retention"), str):  # historyRetention: 400d
        values["history_max_age"] = values.pop("history_retention")
    return replace(AppConfig(), **values).validate()


def max_age_seconds(age: str) -> int:
    """Seconds in a validated ``historyRetention`` age (``400d``, ``72h``)."""
    m = _AGE.match(age)
    if m is None:
        raise ConfigError(f"historyRetention: {age!r} is not an age like 400d")
    return int(m.group(1)) * (86400 if m.group(2) == "d" else 3600)


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``GITOPS_NB_*`` variables set in ``environ``, as AppConfig field values."""
    return {n: _coerce(n, environ[k], k) for k, n in _ENV.items() if environ.get(k)}
