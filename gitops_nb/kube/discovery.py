"""GVK → resource and scope, from aggregated discovery (two requests for the whole server)."""

from __future__ import annotations

import threading
from typing import Any

from gitops_nb.errors import UnknownKindError
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import Resource
from gitops_nb.model import ObjectRef

_AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
)


def _split(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


class Discovery:
    """Cached map of the API server's resources; call :meth:`refresh` after applying CRDs."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._by_gvk: dict[tuple[str, str, str], Resource] = {}
        self._lock = threading.Lock()
        self._loaded = False

    def refresh(self) -> None:
        found: dict[tuple[str, str, str], Resource] = {}
        for root in ("/api", "/apis"):
            doc = self.kube.request("GET", root, accept=_AGGREGATED, what=f"discovery {root}")
            for group in _groups(doc):
                for r in group:
                    found[(r.group, r.version, r.kind)] = r
        with self._lock:
            self._by_gvk = found
            self._loaded = True

    def _ensure(self) -> None:
        if not self._loaded:
            self.refresh()

    def resource_for(self, api_version: str, kind: str, *, what: str = "") -> Resource:
        """The resource serving ``apiVersion``/``kind`` or an UnknownKindError."""
        self._ensure()
        group, version = _split(api_version)
        r = self._by_gvk.get((group, version, kind))
        if r is None:
            raise UnknownKindError(
                f"the API server serves no {kind} in {api_version} "
                "(is the CRD installed, or is the apiVersion misspelt?)",
                obj=what or kind,
            )
        return r

    def resource_for_ref(self, ref: ObjectRef) -> Resource:
        return self.resource_for(ref.api_version, ref.kind, what=str(ref))

    def resource_for_group_kind(self, group: str, kind: str) -> Resource | None:
        """The server's preferred version of ``group``/``kind`` (first listed), if served."""
        self._ensure()
        for (g, _v, k), r in self._by_gvk.items():
            if g == group and k == kind:
                return r
        return None

    def knows(self, api_version: str, kind: str) -> bool:
        self._ensure()
        group, version = _split(api_version)
        return (group, version, kind) in self._by_gvk

    def api_versions(self) -> list[str]:
        """Served ``group/version`` and ``group/version/Kind`` (``v1``, ``apps/v1/Deployment``),
        the form Helm's ``.Capabilities.APIVersions`` takes."""
        self._ensure()
        out: set[str] = set()
        for group, version, kind in self._by_gvk:
            gv = f"{group}/{version}" if group else version
            out |= {gv, f"{gv}/{kind}"}
        return sorted(out)

    def object_path(self, ref: ObjectRef) -> str:
        r = self.resource_for_ref(ref)
        return r.object_path(ref.namespace if r.namespaced else "", ref.name)


def _groups(doc: Any) -> list[list[Resource]]:
    """Parse an APIGroupDiscoveryList (v2) into resources, one list per group."""
    out: list[list[Resource]] = []
    for item in doc.get("items") or []:
        group = (item.get("metadata") or {}).get("name", "") or ""
        resources: list[Resource] = []
        for v in item.get("versions") or []:
            version = v.get("version", "")
            for r in v.get("resources") or []:
                kind = (r.get("responseKind") or {}).get("kind")
                if not kind:
                    continue
                resources.append(
                    Resource(
                        group=group,
                        version=version,
                        kind=kind,
                        plural=r["resource"],
                        namespaced=r.get("scope") == "Namespaced",
                        verbs=frozenset(r.get("verbs") or ()),
                    )
                )
        out.append(resources)
    return out
