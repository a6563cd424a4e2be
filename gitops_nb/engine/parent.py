"""The ApplySet parent as the engine keeps it: member kinds, namespaces and fingerprints."""

from __future__ import annotations

from collections.abc import Sequence

from gitops_nb.engine import fingerprint
from gitops_nb.engine.applyset import group_kind, recorded_group_kinds, recorded_namespaces
from gitops_nb.engine.evaluate import Desired
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
) -> None:
    """Keep the ApplySet parent listing (a superset of) every member kind and namespace.

    Before members are applied it gets the union of old and new kinds, so an interrupted
    run can still find everything it labelled; after a clean prune, exactly the new set.
    Nothing is written when the parent already says so.
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
    want = aset.parent(gks, nss, binary_data={fingerprint.DATA_KEY: blob} if blob else None)
    if live is not None:
        meta = live.get("metadata") or {}
        have, labels = meta.get("annotations") or {}, meta.get("labels") or {}
        if (
            all(have.get(k) == v for k, v in want["metadata"]["annotations"].items())
            and all(labels.get(k) == v for k, v in want["metadata"]["labels"].items())
            and (live.get("binaryData") or {}).get(fingerprint.DATA_KEY) == blob
        ):
            return
    report.parent = kube.apply(
        aset.path, want, field_manager=opts.field_manager, force=True, what=str(aset.ref)
    )
