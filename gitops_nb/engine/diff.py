"""Desired (server-side dry-run apply result) vs live object → :class:`ResourceDiff`.

Pure: the caller fetches both objects. Because ``desired`` is what the API server would
store (our config merged into the live object, defaults applied), any remaining difference
is a field someone changed behind Git's back; managedFields tell who.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from gitops_nb.kube.fields import FieldPath, Key, OwnersIndex, PathElement, format_path
from gitops_nb.masking import LAST_APPLIED, mask_change, mask_pair
from gitops_nb.model import OP_CHANGED, OP_REMOVED, DiffStatus, FieldChange, ObjectRef, ResourceDiff

IGNORED_METADATA = (
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)

# List-map keys as the Kubernetes schema declares them (x-kubernetes-list-map-keys), so our
# path keys line up with FieldsV1 ``k:`` keys; the first field of a key is required.
_FIELD_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "ports": (("containerPort", "protocol"), ("port", "protocol")),
    "volumeMounts": (("mountPath",),),
    "volumeDevices": (("devicePath",),),
    "hostAliases": (("ip",),),
    "conditions": (("type",),),
    "topologySpreadConstraints": (("topologyKey", "whenUnsatisfiable"),),
}
_GENERIC_KEYS: tuple[tuple[str, ...], ...] = (
    ("name",),
    ("containerPort", "protocol"),
    ("port", "protocol"),
    ("mountPath",),
    ("devicePath",),
    ("ip",),
    ("type",),
)
_SCALAR = (str, int, float, bool)


def normalize(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Deep copy without status, server-owned metadata and the last-applied annotation."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for name in IGNORED_METADATA:
            meta.pop(name, None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(LAST_APPLIED, None)
            if not annotations:
                del meta["annotations"]
    return out


def _item_key(item: Mapping[str, Any], names: tuple[str, ...]) -> Key | None:
    if not isinstance(item.get(names[0]), _SCALAR):
        return None
    pairs = {n: item[n] for n in names if isinstance(item.get(n), _SCALAR)}
    return Key.of(pairs)


def _keyed(
    names: tuple[str, ...], live: Sequence[Any], desired: Sequence[Any]
) -> list[tuple[PathElement, Any, Any]] | None:
    sides: list[dict[Key, Any]] = []
    for items in (live, desired):
        by_key: dict[Key, Any] = {}
        for item in items:
            key = _item_key(item, names)
            if key is None or key in by_key:
                return None  # missing or duplicate: not a usable merge key
            by_key[key] = item
        sides.append(by_key)
    live_by, desired_by = sides
    order = list(live_by) + [k for k in desired_by if k not in live_by]
    return [(k, live_by.get(k), desired_by.get(k)) for k in order]


def _list_items(
    field: PathElement | None, live: Sequence[Any], desired: Sequence[Any]
) -> list[tuple[PathElement, Any, Any]] | None:
    """Pair up list items; None when the list is compared whole (a list of scalars)."""
    items = [*live, *desired]
    if all(not isinstance(i, Mapping | list) for i in items):
        return None
    if all(isinstance(i, Mapping) for i in items):
        candidates = _FIELD_KEYS.get(field, ()) if isinstance(field, str) else ()
        for names in (*candidates, *_GENERIC_KEYS):
            pairs = _keyed(names, live, desired)
            if pairs is not None:
                return pairs
    size = max(len(live), len(desired))
    return [
        (i, live[i] if i < len(live) else None, desired[i] if i < len(desired) else None)
        for i in range(size)
    ]


def _walk(path: FieldPath, live: Any, desired: Any, out: list[tuple[FieldPath, Any, Any]]) -> None:
    if live == desired:
        return
    if isinstance(live, Mapping) and isinstance(desired, Mapping):
        for name in sorted({*live, *desired}, key=str):
            _walk((*path, name), live.get(name), desired.get(name), out)
        return
    if isinstance(live, list) and isinstance(desired, list):
        pairs = _list_items(path[-1] if path else None, live, desired)
        if pairs is not None:
            for elem, lv, dv in pairs:
                _walk((*path, elem), lv, dv, out)
            return
    out.append((path, live, desired))


def field_changes(
    live: Mapping[str, Any], desired: Mapping[str, Any]
) -> list[tuple[FieldPath, Any, Any]]:
    """Differing leaf paths of two (already normalised) objects, with both values."""
    out: list[tuple[FieldPath, Any, Any]] = []
    _walk((), live, desired, out)
    return out


def compare(
    ref: ObjectRef, desired: Mapping[str, Any] | None, live: Mapping[str, Any] | None
) -> ResourceDiff:
    """Compare the dry-run apply result with the live object; attribute each drifted field."""
    if desired is None and live is None:
        raise ValueError(f"{ref}: compare() needs a desired or a live object")
    if live is None:
        return ResourceDiff(ref, DiffStatus.MISSING, diff_text=unified_diff(ref, None, desired))
    if desired is None:
        return ResourceDiff(ref, DiffStatus.EXTRANEOUS, diff_text=unified_diff(ref, live, None))
    masked_live, masked_desired = mask_pair(normalize(live), normalize(desired))
    assert masked_live is not None and masked_desired is not None
    raw = field_changes(masked_live, masked_desired)
    if not raw:
        return ResourceDiff(ref, DiffStatus.IN_SYNC)
    index = OwnersIndex((live.get("metadata") or {}).get("managedFields"))
    changes = []
    for path, lv, dv in raw:
        owner = index.owner_of(path)
        change = FieldChange(
            path=format_path(path),
            live=lv,
            desired=dv,
            manager=owner.manager if owner else None,
            operation=owner.operation if owner else None,
            time=owner.time if owner else None,
            op=OP_REMOVED if lv is None else OP_CHANGED,
        )
        changes.append(mask_change(ref, change))  # second line of defence
    return ResourceDiff(
        ref,
        DiffStatus.DRIFTED,
        changes=tuple(changes),
        diff_text=unified_diff(ref, live, desired),
    )


def _yaml_lines(obj: Mapping[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    text = yaml.safe_dump(dict(obj), sort_keys=True, default_flow_style=False, allow_unicode=True)
    return text.splitlines()


def unified_diff(
    ref: ObjectRef, live: Mapping[str, Any] | None, desired: Mapping[str, Any] | None
) -> str:
    """``diff -u`` of the normalised YAML, ``live/<ref>`` → ``git/<ref>``; Secrets masked."""
    masked_live, masked_desired = mask_pair(
        normalize(live) if live is not None else None,
        normalize(desired) if desired is not None else None,
    )
    lines = difflib.unified_diff(
        _yaml_lines(masked_live),
        _yaml_lines(masked_desired),
        fromfile=f"live/{ref}",
        tofile=f"git/{ref}",
        lineterm="",
    )
    text = "\n".join(lines)
    return f"{text}\n" if text else ""
