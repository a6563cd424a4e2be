"""The app's policy and the reconciler's self-protection, checked before any request writes.

Pure: given the prepared objects (namespaces defaulted, scope known) and a
:class:`~gitops_nb.policyspec.Policy`, list every violation. :func:`check` raises one
:class:`PolicyError` naming each object (Kind/namespace/name), its file:line and the rule,
so a commit that breaks a guardrail fails the run before anything is written.

Self-protection is not configurable: no app object may live in the reconciler's own
namespace (its ServiceAccount, Role, RoleBinding, config ConfigMap, Git credentials,
CronJob and Leases are there), rename or relabel that Namespace, or touch the
cluster-wide overlay's ClusterRole / ClusterRoleBinding (``gitops-nb-reconciler``,
``gitops-nb-deployer``), or write the reconciler's bookkeeping in any namespace (ApplySet
parents and Leases ``gitops-nb.*``, run records ``gitops-nb-run-*``, the fingerprint key):
a commit must not forge the inventory a prune trusts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from gitops_nb.engine.evaluate import Desired
from gitops_nb.engine.fpkey import KEY_SECRET
from gitops_nb.errors import PolicyError
from gitops_nb.model import OWN_PREFIX, RUN_RECORD_PREFIX, ObjectRef
from gitops_nb.policyspec import POD_SECURITY_LEVELS, SYSTEM_NAMESPACES, Policy

RECONCILER_NAME = "gitops-nb-reconciler"
"""Name of the reconciler's ServiceAccount, Role(Binding), CronJob and cluster-wide RBAC."""
PROTECTED_RBAC = (RECONCILER_NAME, "gitops-nb-deployer")
"""Names of the install's RBAC: the reconciler's Role(Binding) in the app's namespace
(jobs/app/rbac.yaml) and the cluster-wide overlay's ClusterRole(Binding)s."""
RBAC_KINDS = ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
POD_SECURITY_LABEL = "pod-security.kubernetes.io/"
POD_SECURITY_MODES = ("enforce", "audit", "warn")
TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
_RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Violation:
    """One object the policy refuses, and why."""

    ref: ObjectRef
    location: str
    rule: str

    def __str__(self) -> str:
        return f"{self.location}: {self.ref}: {self.rule}"


def _group(ref: ObjectRef) -> str:
    return ref.api_version.rpartition("/")[0]


def kind_matches(ref: ObjectRef, patterns: Iterable[str]) -> bool:
    """``Kind`` matches any group; ``Kind.group`` that group only (globs allowed)."""
    group = _group(ref)
    full = f"{ref.kind}.{group}" if group else ref.kind
    return any(fnmatchcase(full, p) if "." in p else fnmatchcase(ref.kind, p) for p in patterns)


def _namespace_allowed(namespace: str, policy: Policy) -> str | None:
    """Why ``namespace`` is not an allowed destination, or None."""
    if namespace in SYSTEM_NAMESPACES:
        if namespace in policy.namespaces:  # named exactly, never through a glob
            return None
        return (
            f"system namespace {namespace} is not a destination unless policy.namespaces "
            "names it exactly"
        )
    if policy.namespaces and not any(fnmatchcase(namespace, p) for p in policy.namespaces):
        return f"namespace {namespace} is not in policy.namespaces {list(policy.namespaces)}"
    return None


def self_protection(ref: ObjectRef, policy: Policy) -> str | None:
    """Why ``ref`` would touch the reconciler itself, or None."""
    own = policy.reconciler_namespace
    if ref.namespace == own:
        return (
            f"namespace {own} is the reconciler's own (its ServiceAccount, RBAC, config, "
            "Secrets, CronJob and Leases): an app may never write there (self-protection)"
        )
    if ref.kind == "Namespace" and not _group(ref) and ref.name == own:
        return f"Namespace {own} is the reconciler's own: an app may never change it"
    if _group(ref) == _RBAC_GROUP and ref.kind in RBAC_KINDS and ref.name in PROTECTED_RBAC:
        return (
            f"{ref.kind} {ref.name} holds the install's own rights: an app may never change "
            "it, in any namespace (self-protection)"
        )
    return None


def pod_security(ref: ObjectRef, obj: dict[str, Any], policy: Policy) -> list[str]:
    """Why a Namespace object's PodSecurity labels are weaker than ``policy.podSecurity``.

    A missing enforce label means ``privileged`` (the API server's default); missing audit
    and warn labels only report less, so only a weaker value is refused.
    """
    if ref.kind != "Namespace" or _group(ref):
        return []
    floor = POD_SECURITY_LEVELS.index(policy.pod_security)
    if floor == 0:
        return []
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    labels = labels if isinstance(labels, dict) else {}
    out = []
    for mode in POD_SECURITY_MODES:
        key = POD_SECURITY_LABEL + mode
        value = labels.get(key)
        if value is None and mode != "enforce":
            continue
        if value is not None and value not in POD_SECURITY_LEVELS:
            out.append(f"label {key}={value!r} is not a PodSecurity level")
            continue
        if value is None or POD_SECURITY_LEVELS.index(value) < floor:
            what = f"no {key} label (privileged)" if value is None else f"label {key}={value}"
            out.append(
                f"{what} is weaker than policy.podSecurity {policy.pod_security}: "
                "privileged pods there could take the node"
            )
    return out


def _bookkeeping(ref: ObjectRef) -> str | None:
    """Why ``ref`` names one of the reconciler's own records in an app namespace, or None."""
    core = not _group(ref)
    reserved = (
        (core and ref.kind == "ConfigMap" and ref.name.startswith((OWN_PREFIX, RUN_RECORD_PREFIX)))
        or (ref.kind == "Lease" and _group(ref) == "coordination.k8s.io"
            and ref.name.startswith(OWN_PREFIX))
        or (core and ref.kind == "Secret" and ref.name == KEY_SECRET)
    )  # fmt: skip
    if not reserved:
        return None
    return (
        f"the name {ref.name} is reserved for the reconciler's bookkeeping (ApplySet parents, "
        "run records, Leases, the fingerprint key): an app may never write it (self-protection)"
    )


def violations_of(
    ref: ObjectRef, obj: dict[str, Any], location: str, policy: Policy
) -> list[Violation]:
    """Every rule ``obj`` (prepared: namespace set iff namespaced) breaks."""
    rules: list[str] = []
    own = self_protection(ref, policy) or _bookkeeping(ref)
    if own:
        rules.append(own)
    if ref.namespace:
        why = _namespace_allowed(ref.namespace, policy)
        if why and not own:
            rules.append(why)
    elif ref.kind == "Namespace" and not _group(ref) and not own:
        why = _namespace_allowed(ref.name, policy)
        if why:
            rules.append(why)
    rules += pod_security(ref, obj, policy)
    if kind_matches(ref, policy.deny_kinds):
        rules.append(f"kind {ref.kind} is in policy.denyKinds {list(policy.deny_kinds)}")
    elif policy.allow_kinds and not kind_matches(ref, policy.allow_kinds):
        rules.append(f"kind {ref.kind} is not in policy.allowKinds {list(policy.allow_kinds)}")
    if not ref.namespace and not kind_matches(ref, policy.cluster_kinds):
        rules.append(
            f"cluster-scoped kind {ref.kind} is not in policy.clusterKinds "
            f"{list(policy.cluster_kinds)}"
        )
    if (
        ref.kind == "Secret"
        and not _group(ref)
        and obj.get("type") == TOKEN_SECRET_TYPE
        and not policy.token_secrets
    ):
        rules.append(
            f"a {TOKEN_SECRET_TYPE} Secret mints a non-expiring token; refused unless "
            "policy.tokenSecrets is true"
        )
    return [Violation(ref, location, r) for r in rules]


def violations(desired: Sequence[Desired], policy: Policy) -> list[Violation]:
    out: list[Violation] = []
    for d in desired:
        out += violations_of(d.ref, d.obj, d.manifest.location, policy)
    return out


def check(app: str, desired: Sequence[Desired], policy: Policy) -> None:
    """Raise :class:`PolicyError` listing every violation; nothing has been sent yet."""
    found = violations(desired, policy)
    if found:
        raise PolicyError(
            f"app {app}: the policy refuses {len(found)} object(s); nothing was written:\n  "
            + "\n  ".join(str(v) for v in found)
        )
