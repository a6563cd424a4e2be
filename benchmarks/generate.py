"""Benchmark input: N Kubernetes objects as a plain directory of multi-doc YAML files.

Deterministic for a given (N, seed): ConfigMaps, Secrets, headless Services, Deployments,
ServiceAccounts, Roles and RoleBindings spread round-robin over a few namespaces, plus the
Namespace objects. ``prefix`` only changes the namespace names, so two copies (one per tool)
are the same objects in different namespaces.

Layout (one file per kind per namespace; ``00-`` sorts first so ``kubectl apply -R`` creates
the namespaces before their contents)::

    DIR/00-namespaces.yaml
    DIR/<namespace>/<kind>.yaml
"""

from __future__ import annotations

import base64
import random
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Index i of the non-Namespace objects has kind KINDS[i % 7]; within a group of 7 the
# RoleBinding (i) binds the Role (i-1) to the ServiceAccount (i-2) of the same namespace.
KINDS = ("ConfigMap", "Secret", "Service", "Deployment", "ServiceAccount", "Role", "RoleBinding")
NAMESPACES = 10
TIER_LABEL = "bench.gitops-nb.io/tier"
IMAGE = "registry.example/bench/app:1.0"


@dataclass(frozen=True)
class Obj:
    """One generated object: its position in the set and its manifest."""

    index: int  # -1 for Namespace objects
    kind: str
    namespace: str  # "" for Namespace objects
    name: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Drift:
    """One out-of-band change: a kubectl command line (without kubectl/kubeconfig flags)."""

    kind: str
    namespace: str
    name: str
    args: tuple[str, ...]


def namespace_names(prefix: str, count: int = NAMESPACES) -> list[str]:
    return [f"{prefix}-{k:02d}" for k in range(count)]


def _short(kind: str) -> str:
    return {"ServiceAccount": "sa", "RoleBinding": "rolebinding"}.get(kind, kind.lower())


def _meta(name: str, namespace: str, app: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = {"app.kubernetes.io/name": app, TIER_LABEL: "base"}
    return meta


def _namespace_meta(name: str) -> dict[str, Any]:
    """A Namespace at PodSecurity baseline: the default policy refuses a weaker one."""
    meta = _meta(name, "", "bench")
    meta["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"
    return meta


def _body(i: int, kind: str, ns: str, rng: random.Random) -> dict[str, Any]:
    name = f"{_short(kind)}-{i:05d}"
    meta = _meta(name, ns, f"app-{i // len(KINDS):05d}")
    if kind == "ConfigMap":
        data = {f"key{k}": f"value-{rng.randrange(10**9)}" for k in range(3)}
        return {"apiVersion": "v1", "kind": kind, "metadata": meta, "data": data}
    if kind == "Secret":
        token = base64.b64encode(rng.randbytes(24)).decode()
        return {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": meta,
            "type": "Opaque",
            "data": {"token": token},
        }
    if kind == "Service":
        # Headless: a ClusterIP each would exhaust the local cluster's /24 service range.
        spec: dict[str, Any] = {
            "clusterIP": "None",
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        }
        return {"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": spec}
    if kind == "Deployment":
        container: dict[str, Any] = {
            "name": "app",
            "image": IMAGE,
            "ports": [{"containerPort": 8080}],
            "env": [{"name": "SEED", "value": str(rng.randrange(10**6))}],
        }
        spec = {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        }
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}
    if kind == "ServiceAccount":
        return {"apiVersion": "v1", "kind": kind, "metadata": meta}
    if kind == "Role":
        rules = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
        return {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": kind,
            "metadata": meta,
            "rules": rules,
        }
    # RoleBinding
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": f"role-{i - 1:05d}",
        },
        "subjects": [{"kind": "ServiceAccount", "name": f"sa-{i - 2:05d}", "namespace": ns}],
    }


def generate(n: int, prefix: str, seed: int = 0, namespaces: int = NAMESPACES) -> list[Obj]:
    """N objects in total: ``namespaces`` Namespace objects plus N - namespaces others."""
    if n <= namespaces:
        raise ValueError(f"n={n} must be larger than the number of namespaces ({namespaces})")
    rng = random.Random(f"{seed}:{n}")  # independent of prefix: both copies hold the same data
    names = namespace_names(prefix, namespaces)
    out = [
        Obj(-1, "Namespace", "", ns, {"apiVersion": "v1", "kind": "Namespace", "metadata": m})
        for ns in names
        for m in [_namespace_meta(ns)]
    ]
    for i in range(n - namespaces):
        kind = KINDS[i % len(KINDS)]
        ns = names[(i // len(KINDS)) % namespaces]
        body = _body(i, kind, ns, rng)
        out.append(Obj(i, kind, ns, body["metadata"]["name"], body))
    return out


def write_tree(root: Path, objs: Iterable[Obj]) -> list[Path]:
    """Replace ``root`` with the files for ``objs``; returns the files written (sorted)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    files: dict[Path, list[dict[str, Any]]] = {}
    for o in objs:
        if o.kind == "Namespace":
            path = root / "00-namespaces.yaml"
        else:
            path = root / o.namespace / f"{o.kind.lower()}.yaml"
        files.setdefault(path, []).append(o.body)
    for path, docs in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return sorted(files)


def prune_set(objs: Sequence[Obj], share: float = 0.10) -> set[int]:
    """Indices of the non-Namespace objects to drop from Git: every k-th, about ``share``."""
    members = [o.index for o in objs if o.index >= 0]
    want = max(1, round(len(objs) * share))
    step = len(members) / want
    return {members[int(k * step + step - 1)] for k in range(want)}


_DRIFT_CYCLE = (
    ("Deployment", "image"),
    ("ConfigMap", "label"),
    ("Deployment", "scale"),
    ("Secret", "label"),
    ("Service", "label"),
    ("ServiceAccount", "label"),
    ("Role", "label"),
    ("RoleBinding", "label"),
)


def drift_set(
    objs: Sequence[Obj], share: float = 0.01, avoid: set[int] | None = None
) -> list[Drift]:
    """About ``share`` of the objects changed out of band, cycling over kinds and namespaces.

    Each change rewrites a field Git sets (a label value, the image, the replica count), so
    both a server-side dry-run diff and ``kubectl diff`` must report it.
    """
    avoid = avoid or set()
    by_kind: dict[str, list[Obj]] = {}
    for o in objs:
        if o.index >= 0 and o.index not in avoid:
            by_kind.setdefault(o.kind, []).append(o)
    want = max(1, round(len(objs) * share))
    rounds = -(-want // len(_DRIFT_CYCLE))  # picks per cycle entry, spread over the list
    out: list[Drift] = []
    used: set[int] = set()
    for k in range(want):
        kind, how = _DRIFT_CYCLE[k % len(_DRIFT_CYCLE)]
        pool = by_kind[kind]
        pos = (k // len(_DRIFT_CYCLE)) * len(pool) // rounds + (k % len(_DRIFT_CYCLE)) // 2
        o = pool[pos % len(pool)]
        while o.index in used:  # only Deployments appear twice per cycle
            pos += 1
            o = pool[pos % len(pool)]
        used.add(o.index)
        ref = f"{kind.lower()}/{o.name}"
        if how == "image":
            args: tuple[str, ...] = ("set", "image", ref, "app=registry.example/bench/app:drift")
        elif how == "scale":
            args = ("scale", ref, "--replicas=3")
        else:
            args = ("label", ref, f"{TIER_LABEL}=drifted", "--overwrite")
        out.append(Drift(kind, o.namespace, o.name, ("-n", o.namespace, *args)))
    return out


def addition_set(
    objs: Sequence[Obj], share: float = 0.01, avoid: set[int] | None = None
) -> list[Drift]:
    """About ``share`` of the objects given a label Git does not set (a foreign addition).

    A server-side dry-run keeps fields other managers own, so ``kubectl diff --server-side``
    cannot see these; only reading ``managedFields`` can.
    """
    out = []
    for d in drift_set(objs, share, avoid):
        ref = f"{d.kind.lower()}/{d.name}"
        args = ("-n", d.namespace, "label", ref, "handmade=yes")
        out.append(Drift(d.kind, d.namespace, d.name, args))
    return out


def with_prefix(d: Drift, old: str, new: str) -> Drift:
    """The same change aimed at the other tool's copy (namespace ``old…`` → ``new…``)."""
    ns = new + d.namespace.removeprefix(old)
    args = tuple(ns if a == d.namespace else a for a in d.args)
    return Drift(d.kind, ns, d.name, args)
