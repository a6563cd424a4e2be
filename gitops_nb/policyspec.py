"""What one app may create: its :class:`Policy` (the ``policy:`` config key), parsed once.

Like an Argo CD AppProject: destination namespaces, allowed and denied kinds, and
cluster-scoped kinds denied unless listed; and the weakest PodSecurity level a Namespace
object may set. The check itself is
:mod:`gitops_nb.engine.policy`; this module is only the setting (no I/O).

Kinds are written ``Kind`` (any API group) or ``Kind.group`` (``Deployment.apps``, the
ApplySet notation); namespaces and kinds are globs (``team-*``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_CLUSTER_KINDS = ("Namespace", "CustomResourceDefinition.apiextensions.k8s.io")
"""Cluster-scoped kinds an app may hold when its policy lists none. Cluster RBAC,
admission webhooks and policies, PriorityClasses, StorageClasses… need an explicit entry."""

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
"""Never a destination through a glob: only a policy that names one exactly may write there."""

POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
"""PodSecurity levels, weakest first."""

DEFAULT_POD_SECURITY = "privileged"
"""The weakest PodSecurity level a Namespace object may set when the policy names none: no
minimum. The rule only protects together with a destination allow-list (with open
destinations a privileged pod simply goes to an existing unlabelled namespace such as
``default``), and most repositories hold unlabelled Namespaces, so the shipped reconciler
configs set ``podSecurity: baseline`` next to ``namespaces: [example]`` instead."""

DEFAULT_RECONCILER_NAMESPACE = "gitops-nb"
"""The reconciler's namespace when it runs outside a pod and none is configured."""

_KEYS = {
    "namespaces": "namespaces",
    "allowKinds": "allow_kinds",
    "denyKinds": "deny_kinds",
    "clusterKinds": "cluster_kinds",
    "tokenSecrets": "token_secrets",
    "podSecurity": "pod_security",
}


@dataclass(frozen=True)
class Policy:
    """One app's guardrails. The defaults are safe for a shared cluster."""

    namespaces: tuple[str, ...] = ()
    """Destination namespaces (globs); empty = any namespace but the system ones. A
    Namespace object is checked by its own name."""
    allow_kinds: tuple[str, ...] = ()
    """Kinds the app may hold (globs); empty = every kind not denied."""
    deny_kinds: tuple[str, ...] = ()
    """Kinds the app may never hold; wins over ``allow_kinds``."""
    cluster_kinds: tuple[str, ...] = DEFAULT_CLUSTER_KINDS
    """Cluster-scoped kinds the app may hold; every other cluster-scoped kind is refused."""
    token_secrets: bool = False
    """Allow Secrets of type ``kubernetes.io/service-account-token`` (non-expiring tokens)."""
    pod_security: str = DEFAULT_POD_SECURITY
    """The weakest PodSecurity level (``restricted``, ``baseline``, ``privileged``) a
    Namespace object may enforce, audit or warn at; a Namespace without an enforce label
    counts as ``privileged``."""
    reconciler_namespace: str = DEFAULT_RECONCILER_NAMESPACE
    """The reconciler's own namespace: never written by an app (self-protection)."""

    @classmethod
    def parse(cls, data: Any, source: str, reconciler_namespace: str = "") -> Policy:
        """The ``policy:`` mapping; raises ValueError naming ``source`` and the key."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ValueError(f"{source}: policy must be a mapping of {', '.join(_KEYS)}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in _KEYS:
                raise ValueError(
                    f"{source}: unknown policy key {key!r} (known: {', '.join(sorted(_KEYS))})"
                )
            if key == "tokenSecrets":
                if not isinstance(value, bool):
                    raise ValueError(f"{source}: policy.tokenSecrets must be true or false")
                values[_KEYS[key]] = value
                continue
            if key == "podSecurity":
                if value not in POD_SECURITY_LEVELS:
                    raise ValueError(
                        f"{source}: policy.podSecurity must be one of "
                        f"{', '.join(POD_SECURITY_LEVELS)}, not {value!r}"
                    )
                values[_KEYS[key]] = value
                continue
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
                raise ValueError(f"{source}: policy.{key} must be a list of non-empty strings")
            values[_KEYS[key]] = tuple(items)
        if reconciler_namespace:
            values["reconciler_namespace"] = reconciler_namespace
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The policy as its config keys (for records and error messages)."""
        return {
            "namespaces": list(self.namespaces),
            "allowKinds": list(self.allow_kinds),
            "denyKinds": list(self.deny_kinds),
            "clusterKinds": list(self.cluster_kinds),
            "tokenSecrets": self.token_secrets,
            "podSecurity": self.pod_security,
        }


DEFAULT_POLICY = Policy()
"""The policy of an app that configures none."""
