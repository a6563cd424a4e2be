"""Ignore rules: which differences are not drift, identically in every verb and output.

A rule is written ``key=value`` pairs joined by ``;`` (config, ``--ignore``, run records)::

    manager=kube-controller-manager
    path=spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]
    path=metadata.labels.team;kind=Deployment;namespace=prod-*

Every selector given must match. ``manager``, ``kind``, ``name`` and ``namespace`` are globs.
``path`` uses the syntax the diff prints; ``*`` matches any one key or index, and a rule
on a field covers everything below it. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from gitops_nb.model import ObjectRef

_SELECTORS = ("manager", "path", "kind", "name", "namespace")

# Managers of the cluster's own control loops: what they write is not drift. Decided from
# what a real control plane writes (see README, "Drift that other hands add").
SYSTEM_MANAGERS: tuple[tuple[str, str], ...] = (
    ("kube-controller-manager", "workload, job, PVC, HPA and garbage-collector controllers"),
    ("kube-scheduler", "binds pods; writes nothing on the objects Git holds, listed for safety"),
    ("kubelet", "node and pod status; never configuration"),
    ("kube-apiserver", "allocations and its own bookkeeping"),
)

DEFAULT_RULES: tuple[tuple[str, str], ...] = (
    *((f"manager={m}", why) for m, why in SYSTEM_MANAGERS),
    (
        'path=spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]',
        "`kubectl rollout restart` is an operation, not configuration; reverting it would "
        "restart the pods again",
    ),
    (
        'path=metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]',
        "client-side apply bookkeeping; the fields it lists are diffed themselves",
    ),
    (
        'path=metadata.annotations["deployment.kubernetes.io/revision"]',
        "rollout counter kept by the Deployment controller",
    ),
    (
        'path=metadata.labels["kubernetes.io/metadata.name"];kind=Namespace',
        "the API server sets it on every Namespace, to its name, under the creator's manager",
    ),
)

_SEGMENT = re.compile(
    r'\["((?:[^"\\]|\\.)*)"\]'  # ["quoted.key/with-dots"]
    r'|\[((?:"(?:[^"\\]|\\.)*"|[^\]"])*)\]'  # [name=web] [0] [="v"] [*]
    r"|\.?([^.\[\]]+)"  # .name (or the first name)
)


@lru_cache(maxsize=4096)
def segments(path: str) -> tuple[str, ...]:
    """A printed path split into its keys: ``a.b["c.d"][name=x]`` → ``a, b, c.d, name=x``."""
    out: list[str] = []
    pos = 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"invalid field path {path!r} at {pos}")
        quoted, bracket, name = m.groups()
        if quoted is not None:
            out.append(json.loads(f'"{quoted}"'))
        else:
            out.append(bracket if bracket is not None else name)
        pos = m.end()
    return tuple(out)


@dataclass(frozen=True)
class IgnoreRule:
    """One rule; an empty selector matches anything."""

    manager: str = ""
    path: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""

    @classmethod
    def parse(cls, text: str) -> IgnoreRule:
        values: dict[str, str] = {}
        for part in (p.strip() for p in text.split(";")):
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or key not in _SELECTORS or not value.strip():
                raise ValueError(
                    f"invalid ignore rule {text!r}: expected key=value pairs joined by ';' "
                    f"with keys {', '.join(_SELECTORS)}"
                )
            values[key] = value.strip()
        if not values:
            raise ValueError(f"invalid ignore rule {text!r}: no selector")
        rule = cls(**values)
        if rule.path:
            segments(rule.path)  # validate now, not at the first match
        return rule

    def __str__(self) -> str:
        return ";".join(f"{k}={getattr(self, k)}" for k in _SELECTORS if getattr(self, k))

    def matches(self, ref: ObjectRef, path: str, manager: str | None) -> bool:
        if self.manager and (manager is None or not fnmatchcase(manager, self.manager)):
            return False
        for pattern, value in ((self.kind, ref.kind), (self.name, ref.name)):
            if pattern and not fnmatchcase(value, pattern):
                return False
        if self.namespace and not fnmatchcase(ref.namespace, self.namespace):
            return False
        if self.path:
            want, have = segments(self.path), segments(path)
            if len(want) > len(have):
                return False
            return all(fnmatchcase(h, w) for w, h in zip(want, have, strict=False))
        return True


@dataclass(frozen=True)
class IgnoreRules:
    """The rules in force for one app: the defaults (unless switched off) and its own."""

    rules: tuple[IgnoreRule, ...] = ()

    @classmethod
    def of(cls, texts: Iterable[str] = (), *, defaults: bool = True) -> IgnoreRules:
        base = [r for r, _ in DEFAULT_RULES] if defaults else []
        return cls(tuple(IgnoreRule.parse(t) for t in [*base, *texts]))

    @property
    def texts(self) -> tuple[str, ...]:
        """The rules as written, for run records."""
        return tuple(str(r) for r in self.rules)

    @property
    def digest(self) -> str:
        """Changes whenever the rules do (fingerprints recorded under other rules expire)."""
        return hashlib.sha256("\n".join(self.texts).encode()).hexdigest()[:12]

    def matches(self, ref: ObjectRef, path: str, manager: str | None) -> bool:
        return any(r.matches(ref, path, manager) for r in self.rules)

    def is_system(self, manager: str) -> bool:
        """A manager every field of which is ignored (a manager-only rule matches it)."""
        return any(
            r.manager
            and not (r.path or r.kind or r.name or r.namespace)
            and fnmatchcase(manager, r.manager)
            for r in self.rules
        )


DEFAULT = IgnoreRules.of()
