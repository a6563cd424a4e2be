"""Plan: resolve the desired set and evaluate every object against the cluster.

One fast path serves both entry points. An object is in sync without a dry-run of its own
when its live ownership (and, when rendered, its desired manifest) matches the fingerprint
recorded the last time it was verified in sync. :func:`quick_check` applies that rule to
the recorded set without rendering; :func:`evaluate` applies it to the rendered set and
dry-runs the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops_nb.engine import fingerprint, ordering
from gitops_nb.engine.applyset import group_kind
from gitops_nb.engine.evaluate import Desired, Evaluated, LiveReader, extraneous, prepare
from gitops_nb.engine.options import SyncOptions
from gitops_nb.engine.report import DiffReport
from gitops_nb.kube.resources import Resource
from gitops_nb.model import DiffStatus, Manifest, ObjectRef, ResourceDiff


def vouched(
    stored: fingerprint.Fingerprint | None,
    live_metadata: Mapping[str, Any],
    desired: Mapping[str, Any] | None = None,
) -> fingerprint.Fingerprint | None:
    """The fingerprint that proves an object in sync without a dry-run, or None.

    ``desired`` is the rendered object; None trusts the recorded desired hash (the caller
    has checked that the fingerprints were recorded for this very source).
    """
    if stored is None:
        return None
    desired_hash = stored[0] if desired is None else fingerprint.desired_hash(desired)
    fp = (desired_hash, fingerprint.ownership_hash(live_metadata))
    return fp if fp == stored else None


def _in_sync(
    ref: ObjectRef, resource: Resource | None, desired: Desired | None = None
) -> Evaluated:
    return Evaluated(
        ref, ResourceDiff(ref, DiffStatus.IN_SYNC), desired, resource=resource, fast=True
    )


def plan(
    reader: LiveReader, manifests: Sequence[Manifest], opts: SyncOptions
) -> tuple[list[Desired], DiffReport]:
    """Resolve every object (raising before any request on unknown kinds) and evaluate."""
    desired = prepare(manifests, reader.discovery, opts.applyset, opts.namespace)
    return desired, evaluate(reader, desired, opts)


def quick_check(reader: LiveReader, opts: SyncOptions) -> DiffReport | None:
    """The no-op shortcut: everything in sync, known without rendering. None otherwise.

    When the fingerprints in the parent were recorded for this very source (commit, path,
    app, namespace, version) and cover the whole desired set, the desired set is known; if
    the live members are exactly that set, each vouched for, nothing changed on either
    side. Any difference: None, and the caller renders.
    """
    if not opts.fast or not opts.source_key:
        return None
    parent = reader.parent(opts.applyset)
    stored = fingerprint.decode(parent)
    if stored.source != opts.source_key or not stored.objects:
        return None
    refs = {k: fingerprint.ref_of(k, stored.api_versions[k]) for k in stored.objects}
    gks = {group_kind(r.api_version, r.kind) for r in refs.values()}
    members = reader.members(opts.applyset, parent, gks, {r.namespace for r in refs.values()})
    by_key = {fingerprint.key(ObjectRef.of(m)): (m, res) for m, res in members.values()}
    if set(by_key) != set(stored.objects):
        return None
    items = []
    for k, (meta, resource) in by_key.items():
        if vouched(stored.objects[k], meta["metadata"]) is None:
            return None
        items.append(_in_sync(refs[k], resource))
    return DiffReport(
        opts.app,
        ordering.sort_for_apply(items, lambda e: e.ref),
        inventory_size=len(members),
        fingerprints=dict(stored.objects),
        parent=parent,
        stats={"fast": len(items), "precise": 0, "members": len(members)},
    )


def evaluate(reader: LiveReader, desired: Sequence[Desired], opts: SyncOptions) -> DiffReport:
    """Every desired object against the cluster, plus extraneous ApplySet members.

    One metadata-only LIST per kind reads the members; an object the fast path vouches for
    needs no request of its own. Everything else is dry-run.
    """
    parent = reader.parent(opts.applyset)
    stored = fingerprint.decode(parent).objects if opts.fast else {}
    gks = {group_kind(d.ref.api_version, d.ref.kind) for d in desired if d.resource}
    members = reader.members(opts.applyset, parent, gks, {d.ref.namespace for d in desired})
    fast: list[Evaluated] = []
    slow: list[Desired] = []
    fps: dict[str, fingerprint.Fingerprint] = {}
    for d in desired:
        member = members.get(d.ref.key)
        k = fingerprint.key(d.ref)
        fp = vouched(stored.get(k), member[0]["metadata"], d.obj) if member else None
        if fp is None:
            slow.append(d)
            continue
        fast.append(_in_sync(d.ref, d.resource, d))
        fps[k] = fp
    namespaces = {d.ref.name for d in desired if d.ref.kind == "Namespace"}
    evaluated = reader.evaluate(slow, namespaces)
    for e in evaluated:
        if e.status is DiffStatus.IN_SYNC and e.live is not None and e.desired is not None:
            fps[fingerprint.key(e.ref)] = (
                fingerprint.desired_hash(e.desired.obj),
                fingerprint.ownership_hash(e.live["metadata"]),
            )
    items = ordering.sort_for_apply([*fast, *evaluated], lambda e: e.ref)
    wanted = {d.ref.key for d in desired}
    for key, (meta, resource) in members.items():
        if key in wanted:
            continue
        ref = ObjectRef.of(meta)
        live = reader.get_full(meta, resource)
        if live is not None:
            items.append(Evaluated(ref, extraneous(ref, live), None, live, None, resource))
    return DiffReport(
        opts.app,
        items,
        inventory_size=len(members),
        fingerprints=fps,
        parent=parent,
        stats={"fast": len(fast), "precise": len(slow), "members": len(members)},
    )
