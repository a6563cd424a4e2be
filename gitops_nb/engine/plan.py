"""Plan: resolve the desired set and evaluate every object against the cluster.

One fast path serves both entry points. An object is in sync without a dry-run of its own
when its live ownership (and, when rendered, its desired manifest) matches the fingerprint
recorded the last time it was verified in sync. :func:`quick_check` applies that rule to
the recorded set without rendering; :func:`evaluate` applies it to the rendered set and
dry-runs the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from gitops_nb.engine import (
    cause,
    fieldpaths,
    fingerprint,
    fpkey,
    inventory,
    ordering,
    ownership,
    policy,
)
from gitops_nb.engine.applyset import group_kind
from gitops_nb.engine.desired import Desired, prepare
from gitops_nb.engine.evaluate import Evaluated, LiveReader, extraneous
from gitops_nb.engine.identity import refuse_duplicates
from gitops_nb.engine.inventory import RecordedRefs
from gitops_nb.engine.options import SyncOptions
from gitops_nb.engine.report import DiffReport
from gitops_nb.errors import ForbiddenError, GitOpsError, NotFoundError
from gitops_nb.kube.resources import Resource
from gitops_nb.masking import is_secret
from gitops_nb.model import DiffStatus, Manifest, ObjectRef, ResourceDiff
from gitops_nb.source.checks import check_manifest


def vouched(
    stored: fingerprint.Fingerprint | None,
    live_metadata: Mapping[str, Any],
    desired: Mapping[str, Any] | None = None,
    rules: str = "",
    key: bytes | None = None,
) -> fingerprint.Fingerprint | None:
    """The fingerprint that proves an object in sync without a dry-run, or None.

    ``desired`` is the rendered object; None trusts the recorded desired hash (the caller
    has checked that the fingerprints were recorded for this very source). ``key`` is the
    HMAC key for a Secret's hash (:mod:`gitops_nb.engine.fpkey`).
    """
    if stored is None:
        return None
    desired_hash = stored[0] if desired is None else fingerprint.desired_hash(desired, rules, key)
    if desired_hash is None:
        return None
    fp = (desired_hash, fingerprint.ownership_hash(live_metadata))
    return fp if fp == stored else None


def _fingerprint_key(
    reader: LiveReader, desired: Sequence[Desired], opts: SyncOptions
) -> bytes | None:
    """The HMAC key for Secrets' fingerprints; fetched only when the set has a Secret."""
    if not (opts.fast or opts.record_fingerprints) or not any(is_secret(d.ref) for d in desired):
        return None
    create = opts.record_fingerprints and not opts.dry_run
    return fpkey.load(reader.books, opts.namespace, create=create)


def _in_sync(
    ref: ObjectRef, resource: Resource | None, desired: Desired | None = None
) -> Evaluated:
    return Evaluated(
        ref, ResourceDiff(ref, DiffStatus.IN_SYNC), desired, resource=resource, fast=True
    )


def plan(
    reader: LiveReader,
    manifests: Sequence[Manifest],
    opts: SyncOptions,
    prior: cause.Prior | None = None,
    recorded: RecordedRefs | None = None,
) -> tuple[list[Desired], DiffReport]:
    """Resolve every object (raising before any request on unknown kinds) and evaluate."""
    for m in manifests:  # also for callers that did not render (notebooks, tests)
        check_manifest(m)
    desired = prepare(manifests, reader.discovery, opts.applyset, opts.namespace)
    refuse_duplicates(desired)
    policy.check(opts.app, desired, opts.policy)  # before any request that could write
    return desired, evaluate(reader, desired, opts, prior, recorded)


def _recorded_keys(recorded: RecordedRefs | None) -> set[ownership.Key]:
    """Keys of the objects our run records list (empty when unreadable or none)."""
    if recorded is None:
        return set()
    try:
        return {r.key for r in recorded()}
    except (ForbiddenError, NotFoundError):
        return set()


def _refuse_takeovers(
    reader: LiveReader, evaluated: Sequence[Evaluated], opts: SyncOptions
) -> list[Evaluated]:
    """Objects another app's ApplySet labels become conflicts naming it, unless adopting."""
    owners: dict[str, str] = {}
    out = []
    for e in evaluated:
        other = None if opts.adopt else ownership.other_applyset(e.live, opts.applyset)
        if other is None:
            out.append(e)
            continue
        if other not in owners:
            owners[other] = ownership.owner_name(
                reader.kube, other, (e.ref.namespace, opts.namespace)
            )
        msg = ownership.conflict_message(e.ref, owners[other])
        out.append(replace(e, diff=ResourceDiff(e.ref, DiffStatus.ERROR, error=msg), blocked=msg))
    return out


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


def _unmoved(
    evaluated: Sequence[Evaluated],
    stored: Mapping[str, fingerprint.Fingerprint],
    opts: SyncOptions,
    hmac_key: bytes | None,
) -> Iterator[ownership.Key]:
    """Drifted objects lacking a field Git sets, or holding a field another manager owns,
    whose manifest still hashes to the fingerprint we recorded when we last verified them in
    sync: Git did not move them, the cluster did."""
    for e in evaluated:
        if e.status is not DiffStatus.DRIFTED or e.desired is None:
            continue
        ours = opts.field_manager
        if not any((c.manager or ours) != ours or c.live is None for c in e.diff.changes):
            continue
        fp = stored.get(fingerprint.key(e.ref))
        if fp is not None and fp[0] == fingerprint.desired_hash(
            e.desired.obj, opts.ignore.digest, hmac_key
        ):
            yield e.ref.key


def _git_moved(
    reader: LiveReader, desired: Sequence[Desired], opts: SyncOptions, prior: cause.Prior
) -> cause.Moved | None:
    """:attr:`cause.Prior.git_moved` from :attr:`cause.Prior.earlier`: that commit is rendered
    (and prepared like this one) on the first question, once per run."""
    earlier = prior.earlier
    if earlier is None:
        return None
    now = {d.ref.key: d.obj for d in desired}
    before: list[dict[ownership.Key, dict[str, Any]] | None] = []

    def moved(key: ownership.Key) -> frozenset[str] | None:
        if not before:
            manifests = earlier()
            try:
                prepared = (
                    None
                    if manifests is None
                    else prepare(manifests, reader.discovery, opts.applyset, opts.namespace)
                )
            except GitOpsError:  # a kind no longer served: cannot say
                prepared = None
            before.append(None if prepared is None else {d.ref.key: d.obj for d in prepared})
        objects = before[0]
        if objects is None or key not in objects or key not in now:
            return None
        return fieldpaths.moved_paths(objects[key], now[key])

    return moved


def _adopted(
    items: Sequence[Evaluated], prior: cause.Prior
) -> dict[ObjectRef, tuple[tuple[str, bool], ...]]:
    """Per object, the fields the last record (at another commit) saw drifted that are in
    sync now, and whether Git adopted the hand value (:func:`cause.settled`)."""
    if prior.same_commit:
        return {}
    out = {}
    for e in items:
        before = prior.objects.get(e.ref.key)
        if before is None or before.status is not DiffStatus.DRIFTED:
            continue
        current = e.live if e.live is not None else (e.desired.obj if e.desired else None)
        found = cause.settled(before, e.diff, current)
        if found:
            out[e.ref] = found
    return out


def evaluate(
    reader: LiveReader,
    desired: Sequence[Desired],
    opts: SyncOptions,
    prior: cause.Prior | None = None,
    recorded: RecordedRefs | None = None,
) -> DiffReport:
    """Every desired object against the cluster, plus extraneous ApplySet members.

    One metadata-only LIST per kind reads the members; an object the fast path vouches for
    needs no request of its own. Everything else is dry-run. Every difference is classified
    by cause (:mod:`.cause`). ``recorded`` (our run records) is read only when the ApplySet
    parent is missing, to find the members it listed.
    """
    parent = reader.parent(opts.applyset)
    fingerprinted = fingerprint.decode(parent).objects
    stored = fingerprinted if opts.fast else {}
    gks = {group_kind(d.ref.api_version, d.ref.kind) for d in desired if d.resource}
    member_namespaces = {d.ref.namespace for d in desired}
    lost = inventory.lost_inventory(parent, recorded)
    if lost is not None:
        gks |= lost.group_kinds
        member_namespaces |= lost.namespaces
    members = reader.members(opts.applyset, parent, gks, member_namespaces)
    if lost is not None:  # only labelled objects that our records (or Git) name are ours
        wanted_keys = {d.ref.key for d in desired}
        members = {k: v for k, v in members.items() if k in lost.keys or k in wanted_keys}
    warning = inventory.missing_parent_warning(opts.applyset, parent, len(members), lost)
    fast: list[Evaluated] = []
    slow: list[Desired] = []
    fps: dict[str, fingerprint.Fingerprint] = {}
    hmac_key = _fingerprint_key(reader, desired, opts)
    for d in desired:
        member = members.get(d.ref.key)
        k = fingerprint.key(d.ref)
        fp = (
            vouched(stored.get(k), member[0]["metadata"], d.obj, opts.ignore.digest, hmac_key)
            if member
            else None
        )
        if fp is None:
            slow.append(d)
            continue
        fast.append(_in_sync(d.ref, d.resource, d))
        fps[k] = fp
    if reader.progress is not None:  # judged by fingerprint: done already
        reader.progress.phase("dry-running", len(desired))
        reader.progress.step(len(fast))
    namespaces = {d.ref.name for d in desired if d.ref.kind == "Namespace"}
    evaluated = _refuse_takeovers(reader, reader.evaluate(slow, namespaces), opts)
    for e in evaluated:
        if e.status is DiffStatus.IN_SYNC and e.live is not None and e.desired is not None:
            desired_hash = fingerprint.desired_hash(e.desired.obj, opts.ignore.digest, hmac_key)
            if desired_hash is not None:  # a Secret without a key is never fingerprinted
                fps[fingerprint.key(e.ref)] = (
                    desired_hash,
                    fingerprint.ownership_hash(e.live["metadata"]),
                )
    items = ordering.sort_for_apply([*fast, *evaluated], lambda e: e.ref)
    wanted = {d.ref.key for d in desired}
    ours = ownership.decode_inventory(parent) | {fingerprint.ref_key(k) for k in fingerprinted}
    in_records: set[ownership.Key] | None = None
    for key, (meta, resource) in members.items():
        if key in wanted:
            continue
        ref = ObjectRef.of(meta)
        live = reader.get_full(meta, resource)
        if live is None:
            continue
        diff, blocked = extraneous(ref, live), None
        if key not in ours:  # labelled ours: did we ever apply it? (records read lazily)
            in_records = _recorded_keys(recorded) if in_records is None else in_records
            if key not in in_records:
                blocked = ownership.not_ours_message(ref)
                diff = replace(diff, error=blocked)
        items.append(Evaluated(ref, diff, None, live, None, resource, blocked=blocked))
    known = (prior or cause.Prior()).with_applied(
        (fingerprint.ref_key(k) for k in fingerprinted),
        _unmoved(evaluated, fingerprinted, opts, hmac_key),
        ownership.decode_inventory(parent),
    )
    known = replace(known, git_moved=_git_moved(reader, desired, opts, known))
    items = [replace(e, diff=cause.classify(e.diff, opts.field_manager, known)) for e in items]
    return DiffReport(
        opts.app,
        items,
        adopted=_adopted(items, known),
        inventory_size=len(members),
        fingerprints=fps,
        parent=parent,
        stats={"fast": len(fast), "precise": len(slow), "members": len(members)},
        warnings=[warning] if warning else [],
    )
