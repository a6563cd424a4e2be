"""The ApplySet parent as the engine keeps it: member kinds, namespaces and fingerprints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gitops_nb.engine import fingerprint, ownership
from gitops_nb.engine.applyset import group_kind, recorded_group_kinds, recorded_namespaces
from gitops_nb.engine.desired import Desired
from gitops_nb.engine.options import SyncOptions
from gitops_nb.engine.report import DiffReport
from gitops_nb.kube.client import Kube
from gitops_nb.model import DiffStatus


def ensure_parent(
    kube: Kube,
    opts: SyncOptions,
    desired: Sequence[Desired],
    report: DiffReport,
    *,
    final: bool,
    pruned: Iterable[ownership.Key] = (),
) -> None:
    """Keep the ApplySet parent listing (a superset of) every member kind and namespace.

    Before members are applied it gets the union of old and new kinds, so an interrupted
    run can still find everything it labelled; after a clean prune, exactly the new set.
    It also keeps the inventory: the keys of every object this app applied (minus what it
    pruned), which alone may be pruned (:mod:`.ownership`). Nothing is written when the
    parent already says so.
    """
    if opts.dry_run:
        return
    aset = opts.applyset
    live = report.parent
    gks = {group_kind(d.ref.api_version, d.ref.kind) for d in desired}
    nss = {d.ref.namespace for d in desired if d.ref.namespace}
    if not final or not opts.prune:
        gks |= recorded_group_kinds(live)
        nss |= recorded_namespaces(live)
        # Members Git dropped but we keep: listed too, so a rebuilt parent still finds them.
        for e in report.items:
            if e.status is DiffStatus.EXTRANEOUS:
                gks.add(group_kind(e.ref.api_version, e.ref.kind))
                if e.ref.namespace:
                    nss.add(e.ref.namespace)
    # SSA drops fields we stop sending: carry the stored fingerprints over unless we are
    # recording new ones.
    blob = ((live or {}).get("binaryData") or {}).get(fingerprint.DATA_KEY)
    if final and opts.record_fingerprints:
        desired_keys = {fingerprint.key(d.ref) for d in desired}
        # Name the source only when every desired object is fingerprinted in sync: only
        # then may the next run trust the set without rendering it.
        complete = desired_keys == set(report.fingerprints)
        blob = fingerprint.encode(
            report.fingerprints,
            {fingerprint.key(d.ref): d.ref.api_version for d in desired},
            opts.source_key if complete else "",
        )
    blocked = {e.ref.key for e in report.items if e.blocked}
    applied = {d.ref.key for d in desired if d.ref.key not in blocked}
    inventory = ownership.encode_inventory(
        (ownership.decode_inventory(live) | applied) - set(pruned)
    )
    data = {ownership.INVENTORY_KEY: inventory}
    if blob:
        data[fingerprint.DATA_KEY] = blob
    want = aset.parent(gks, nss, binary_data=data)
    if live is not None:
        meta = live.get("metadata") or {}
        have, labels = meta.get("annotations") or {}, meta.get("labels") or {}
        if (
            all(have.get(k) == v for k, v in want["metadata"]["annotations"].items())
            and all(labels.get(k) == v for k, v in want["metadata"]["labels"].items())
            and (live.get("binaryData") or {}) == data
        ):
            return
    report.parent = kube.apply(
        aset.path, want, field_manager=opts.field_manager, force=True, what=str(aset.ref)
    )
