"""What we will apply: Git's objects with kinds resolved, namespaces defaulted and the
ApplySet label set, checked before anything is sent to the cluster."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gitops_nb.engine.applyset import ApplySet
from gitops_nb.errors import UnknownKindError
from gitops_nb.kube.discovery import Discovery
from gitops_nb.kube.resources import Resource
from gitops_nb.model import Manifest, ObjectRef


@dataclass(frozen=True)
class Desired:
    """One object as we will apply it: namespace defaulted, ApplySet label set."""

    manifest: Manifest
    obj: dict[str, Any]
    ref: ObjectRef
    resource: Resource | None  # None while its CRD is not yet established

    @property
    def path(self) -> str:
        assert self.resource is not None
        return self.resource.object_path(self.ref.namespace, self.ref.name)


def _crd_kinds(manifests: Iterable[Manifest]) -> dict[tuple[str, str], bool]:
    """(group, kind) → namespaced, for CRDs defined in the rendered set itself."""
    out: dict[tuple[str, str], bool] = {}
    for m in manifests:
        o = m.obj
        if o.get("kind") == "CustomResourceDefinition" and str(o.get("apiVersion", "")).startswith(
            "apiextensions.k8s.io/"
        ):
            spec = o.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind")
            if kind:
                out[(str(spec.get("group", "")), str(kind))] = spec.get("scope") != "Cluster"
    return out


def prepare(
    manifests: Sequence[Manifest],
    discovery: Discovery,
    applyset: ApplySet,
    default_namespace: str,
) -> list[Desired]:
    """Resolve kinds, default namespaces and label members. Raises before anything is sent.

    Kinds the server does not serve are allowed only when a CRD in the same set defines
    them; anything else is an :class:`UnknownKindError` naming the object and file:line.
    """
    crds = _crd_kinds(manifests)
    out: list[Desired] = []
    errors: list[str] = []
    for m in manifests:
        api_version, kind = str(m.obj["apiVersion"]), str(m.obj["kind"])
        group = api_version.rpartition("/")[0]
        resource: Resource | None = None
        if discovery.knows(api_version, kind):
            resource = discovery.resource_for(api_version, kind)
            namespaced = resource.namespaced
        elif (group, kind) in crds:
            namespaced = crds[(group, kind)]
        else:
            shown = m.ref if m.ref.namespace else replace(m.ref, namespace=default_namespace)
            errors.append(
                f"{m.location}: {shown}: the API server serves no {kind} in {api_version}"
            )
            continue
        meta = dict(m.obj.get("metadata") or {})
        if namespaced:
            meta.setdefault("namespace", default_namespace)
            if not meta["namespace"]:
                meta["namespace"] = default_namespace
        else:
            meta.pop("namespace", None)
        obj = applyset.label({**m.obj, "metadata": meta})
        out.append(Desired(m, obj, ObjectRef.of(obj), resource))
    if errors:
        raise UnknownKindError(
            "unknown kinds (is the CRD installed, or the apiVersion misspelt?):\n  "
            + "\n  ".join(errors)
        )
    return out


def resolve_pending(desired: Sequence[Desired], discovery: Discovery) -> list[Desired]:
    """Fill in resources for kinds whose CRDs have just been established."""
    out = []
    for d in desired:
        if d.resource is None and discovery.knows(d.ref.api_version, d.ref.kind):
            d = replace(d, resource=discovery.resource_for_ref(d.ref))
        out.append(d)
    return out
