"""Desired state from Git against the live cluster: read live, dry-run, judge.

The API server is the judge: every desired object is server-side applied with
``dryRun=All`` (forced, so another manager's ownership shows as drift instead of a conflict)
and the result is compared with the live object by :func:`gitops_nb.diff.compare`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from gitops_nb.engine import diff as diffmod
from gitops_nb.engine import foreign
from gitops_nb.engine.applyset import (
    ID_LABEL,
    PART_OF,
    ApplySet,
    group_kind,
    parse_group_kind,
    recorded_group_kinds,
    recorded_namespaces,
)
from gitops_nb.engine.desired import Desired as Desired  # engine/policy.py imports it here
from gitops_nb.engine.options import FIELD_MANAGER
from gitops_nb.engine.progress import EngineProgress
from gitops_nb.errors import (
    ForbiddenError,
    GitOpsError,
    NotFoundError,
)
from gitops_nb.ignore import DEFAULT, IgnoreRules
from gitops_nb.kube.client import Kube
from gitops_nb.kube.discovery import Discovery
from gitops_nb.kube.fields import FieldPath, format_path
from gitops_nb.kube.resources import CONFIGMAPS, Resource
from gitops_nb.kube.sharedlists import SharedLists
from gitops_nb.masking import scrub_error, scrub_text, secret_values
from gitops_nb.model import DiffStatus, ObjectRef, ResourceDiff


@dataclass(frozen=True)
class Evaluated:
    """An object's diff plus what produced it (reused by apply to avoid new requests)."""

    ref: ObjectRef
    diff: ResourceDiff
    desired: Desired | None = None
    live: dict[str, Any] | None = None
    dry_run: dict[str, Any] | None = None
    resource: Resource | None = None
    fast: bool = False
    """Judged in sync by its fingerprint, without a dry-run."""
    additions: tuple[foreign.Addition, ...] = ()
    """Fields other managers added that Git does not set (also in ``diff.changes``)."""
    ignored: tuple[FieldPath, ...] = ()
    """Fields Git sets whose live difference an ignore rule covers: left out of the apply,
    so applying the object for another reason never reverts them."""
    blocked: str | None = None
    """Why nothing may be written to it: another app owns it (a desired object), or it only
    carries our label without our records saying we applied it (an extraneous one)."""

    @property
    def status(self) -> DiffStatus:
        return self.diff.status


class LiveReader:
    """Reads live objects and dry-runs desired ones, in parallel."""

    def __init__(
        self,
        kube: Kube,
        discovery: Discovery,
        *,
        workers: int = 8,
        field_manager: str = FIELD_MANAGER,
        ignore: IgnoreRules = DEFAULT,
        books: Kube | None = None,
        lists: SharedLists | None = None,
        progress: EngineProgress | None = None,
    ) -> None:
        self.kube = kube
        self.progress = progress
        """Told of each object :meth:`evaluate` judges (see :mod:`.progress`)."""
        """Reads and dry-runs the app's objects (as the app's ServiceAccount, if any)."""
        self.lists = lists
        """A fleet run's shared LISTs (:meth:`members`, :meth:`parent`); None: the app's own."""
        self.books = books or kube
        """Our own identity: the ApplySet parent and the fingerprint key."""
        self.discovery = discovery
        self.workers = max(1, workers)
        self.field_manager = field_manager
        self.ignore = ignore

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if len(items) <= 1 or self.workers == 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(fn, items))

    def evaluate(self, desired: Sequence[Desired], namespaces_in_set: set[str]) -> list[Evaluated]:
        """Every object, in the order given; the set's Namespaces first.

        An object in a Namespace the set creates and the cluster lacks cannot exist, and
        its dry-run could only answer NotFound, after the API server's NamespaceLifecycle
        admission has waited 50 ms for the namespace to appear: on a first apply that wait
        was most of the time. Such objects are Missing without a request, as that NotFound
        made them before.
        """

        def judge(d: Desired) -> Evaluated:
            e = self.evaluate_one(d, namespaces_in_set)
            if self.progress is not None:
                self.progress.step()
            return e

        first = [d for d in desired if _is_namespace(d.ref)]
        judged = {d.ref: e for d, e in zip(first, self.map(judge, first), strict=True)}
        absent = {
            ref.name
            for ref, e in judged.items()
            if ref.name in namespaces_in_set and e.status is DiffStatus.MISSING
        }

        def one(d: Desired) -> Evaluated:
            if d.ref.namespace and d.ref.namespace in absent:
                if self.progress is not None:
                    self.progress.step()
                return Evaluated(d.ref, _missing(d.ref, d.obj), d, None, None, d.resource)
            return judge(d)

        rest = [d for d in desired if d.ref not in judged]
        judged.update(zip((d.ref for d in rest), self.map(one, rest), strict=True))
        return [judged[d.ref] for d in desired]

    def evaluate_one(self, d: Desired, namespaces_in_set: set[str] | None = None) -> Evaluated:
        ref = d.ref
        if d.resource is None:  # CRD from the same set not established yet
            return Evaluated(ref, _missing(ref, d.obj), d)
        try:
            live: dict[str, Any] | None = None
            for _attempt in range(_CONSISTENT_READ_ATTEMPTS):
                try:
                    dry = self.kube.apply(
                        d.path,
                        d.obj,
                        field_manager=self.field_manager,
                        force=True,
                        dry_run=True,
                        what=str(ref),
                    )
                except NotFoundError:
                    # Its namespace does not exist yet; fine if the set creates it.
                    if ref.namespace in (namespaces_in_set or set()):
                        return Evaluated(ref, _missing(ref, d.obj), d, None, None, d.resource)
                    raise
                if not _rv(dry):  # a dry-run *create* has no resourceVersion: nothing live
                    return Evaluated(ref, _missing(ref, d.obj), d, None, dry, d.resource)
                live = self.kube.get_or_none(d.path, what=str(ref))
                # A controller may write between the dry-run and our GET; compare only a
                # dry-run made on top of the very version we read.
                if live is not None and _rv(dry) == _rv(live):
                    break
        except GitOpsError as e:
            if e.transient:  # an outage fails the run; it says nothing about this object
                scrub_error(e, secret_values(d.obj))  # in place: its text reaches logs
                raise
            return Evaluated(
                ref,
                ResourceDiff(ref, DiffStatus.ERROR, error=_located(d, e)),
                d,
                resource=d.resource,
            )
        result, found, ignored = self.judge(ref, d.obj, dry, live, lambda: self.defaults(d))
        return Evaluated(ref, result, d, live, dry, d.resource, additions=found, ignored=ignored)

    def judge(
        self,
        ref: ObjectRef,
        manifest: dict[str, Any],
        dry: dict[str, Any],
        live: dict[str, Any] | None,
        defaults: Callable[[], dict[str, Any] | None] = lambda: None,
    ) -> tuple[ResourceDiff, tuple[foreign.Addition, ...], tuple[FieldPath, ...]]:
        """Dry-run comparison plus foreign additions, both filtered by the ignore rules;
        also the paths of ignored changes to fields Git sets."""
        result = diffmod.compare(ref, dry, live)
        if live is None:
            return result, (), ()
        kept = [c for c in result.changes if not self.ignore.matches(ref, c.path, c.manager)]
        ignored: tuple[FieldPath, ...] = ()
        if len(kept) < len(result.changes):
            printed = {c.path for c in result.changes} - {c.path for c in kept}
            raw = diffmod.field_changes(diffmod.normalize(live), diffmod.normalize(dry))
            ignored = tuple(p for p, _lv, _dv in raw if format_path(p) in printed)
        found = tuple(
            foreign.additions(
                ref, manifest, live, field_manager=self.field_manager, rules=self.ignore
            )
        )
        # A field the dry-run comparison already reports (a Secret key Git sets through
        # ``stringData`` and someone patched in ``data``) is a change, not an addition.
        compared = {c.path for c in result.changes}
        found = tuple(a for a in found if a.change.path not in compared)
        if found:
            found = foreign.not_defaults(ref, found, defaults())
        changes = (*kept, *(a.change for a in found))
        if not changes:
            return ResourceDiff(ref, DiffStatus.IN_SYNC), (), ignored
        wanted = foreign.without(dry, [a.path for a in found]) if found else dry
        text = diffmod.unified_diff(ref, live, wanted)
        result = ResourceDiff(ref, DiffStatus.DRIFTED, changes=changes, diff_text=text)
        return result, found, ignored

    def defaults(self, d: Desired) -> dict[str, Any] | None:
        """What the server stores for Git's manifest alone: a dry-run *create* under a
        generated name. A field another manager "added" with exactly this value is a default
        (an object created by ``kubectl create`` before Git adopted it owns every default).
        None when the server refuses (the additions are then reported as they are)."""
        if d.resource is None:
            return None
        obj = copy.deepcopy(d.obj)
        meta = obj["metadata"]
        meta["generateName"] = "gitops-nb-defaults-"
        meta.pop("name", None)
        try:
            out = self.kube.request(
                "POST",
                d.resource.collection_path(d.ref.namespace),
                query={"dryRun": "All", "fieldManager": self.field_manager},
                body=obj,
                what=f"{d.ref} (dry-run create for defaults)",
            )
        except GitOpsError as e:
            if e.transient:
                raise
            return None
        return out if isinstance(out, dict) else None

    # -- inventory -------------------------------------------------------------------------

    def parent(self, applyset: ApplySet) -> dict[str, Any] | None:
        """The ApplySet parent; in a fleet run, from one LIST of the namespace's parents
        (a parent not in it is read alone: it may be new since)."""
        if self.lists is not None:
            try:
                parents = self.lists.by_name(
                    self.books,
                    CONFIGMAPS.collection_path(applyset.namespace),
                    label_selector=ID_LABEL,
                    what=f"ApplySet parents in {applyset.namespace}",
                )
            except GitOpsError:
                parents = {}  # may not list them: read ours alone
            found = parents.get(applyset.name)
            if found is not None:
                return {**found, "apiVersion": "v1", "kind": "ConfigMap"}
        return self.books.get_or_none(applyset.path, what=str(applyset.ref))  # type: ignore[no-any-return]

    def members(
        self,
        applyset: ApplySet,
        parent: dict[str, Any] | None,
        group_kinds: Iterable[str] = (),
        extra_namespaces: Iterable[str] = (),
    ) -> dict[tuple[str, str, str, str], tuple[dict[str, Any], Resource]]:
        """Metadata of the live objects labelled as members of our ApplySet.

        One metadata-only LIST per kind (and namespace) covers the kinds the parent records
        plus ``group_kinds``; keyed by ``ObjectRef.key``. With :attr:`lists` (a fleet run)
        that LIST selects every ApplySet member and is shared by the apps of the run; each
        app keeps the items labelled with its own ApplySet id.
        """
        recorded = {applyset.namespace, *recorded_namespaces(parent)}
        namespaces = recorded | set(extra_namespaces)
        queries: list[tuple[Resource, str]] = []
        wanted = set(group_kinds)
        recorded_kinds = recorded_group_kinds(parent)
        for gk in sorted(recorded_kinds | wanted):
            group, kind = parse_group_kind(gk)
            resource = self.discovery.resource_for_group_kind(group, kind)
            if resource is None:  # kind gone (CRD deleted) or not yet served
                continue
            if resource.namespaced:
                queries += [(resource, ns) for ns in sorted(namespaces) if ns]
            else:
                queries.append((resource, ""))

        def one(q: tuple[Resource, str]) -> list[tuple[dict[str, Any], Resource]]:
            resource, ns = q
            try:
                items = self._list_members(applyset, resource.collection_path(ns), resource, ns)
            except NotFoundError:
                return []
            except ForbiddenError:
                # A namespace Git only now points into, or a kind Git only now holds, that
                # we (the app's ServiceAccount) may not list: the objects themselves report
                # the denial. A recorded kind and namespace we cannot list would hide what
                # to prune: fail.
                gk = group_kind(resource.api_version, resource.kind)
                if ns in recorded and (gk in recorded_kinds or gk not in wanted):
                    raise
                return []
            # PartialObjectMetadata: name the real kind (a copy: the items may be shared)
            kind = {"apiVersion": resource.api_version, "kind": resource.kind}
            return [({**i, **kind}, resource) for i in items]

        out: dict[tuple[str, str, str, str], tuple[dict[str, Any], Resource]] = {}
        # Shared LISTs are answered from memory after the first app: threads would only cost.
        chunks = [one(q) for q in queries] if self.lists is not None else self.map(one, queries)
        for chunk in chunks:
            for item, resource in chunk:
                out[ObjectRef.of(item).key] = (item, resource)
        return out

    def _list_members(
        self, applyset: ApplySet, path: str, resource: Resource, ns: str
    ) -> list[dict[str, Any]]:
        what = f"{resource.kind} in {ns or 'cluster'}"
        if self.lists is None:
            return self.kube.list(
                path, label_selector=applyset.selector, accept=METADATA_LIST, what=what
            )
        members = self.lists.by_label(
            self.kube, path, PART_OF, label_selector=PART_OF, accept=METADATA_LIST, what=what
        )
        return members.get(applyset.id, [])

    def get_full(self, meta: dict[str, Any], resource: Resource) -> dict[str, Any] | None:
        ref = ObjectRef.of(meta)
        path = resource.object_path(ref.namespace if resource.namespaced else "", ref.name)
        obj = self.kube.get_or_none(path, what=str(ref))
        if obj is not None:
            obj.setdefault("apiVersion", resource.api_version)
            obj.setdefault("kind", resource.kind)
        return obj  # type: ignore[no-any-return]


METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
_CONSISTENT_READ_ATTEMPTS = 4


def _is_namespace(ref: ObjectRef) -> bool:
    return ref.kind == "Namespace" and ref.api_version == "v1"


def _rv(obj: dict[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion", ""))


def _missing(ref: ObjectRef, obj: dict[str, Any]) -> ResourceDiff:
    return ResourceDiff(ref, DiffStatus.MISSING, diff_text=diffmod.unified_diff(ref, None, obj))


def extraneous(ref: ObjectRef, live: dict[str, Any]) -> ResourceDiff:
    return ResourceDiff(ref, DiffStatus.EXTRANEOUS, diff_text=diffmod.unified_diff(ref, live, None))


def _located(d: Desired, err: GitOpsError) -> str:
    """The server's complaint about ``d``, scrubbed, with the file:line it came from."""
    return f"{d.manifest.location}: {scrub_text(str(err), secret_values(d.obj))}"
