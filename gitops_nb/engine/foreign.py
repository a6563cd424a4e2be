"""Fields other hands added: owned by another manager, not set by Git, not ignored.

A server-side dry-run apply keeps every field another manager owns, so comparing it with
the live object cannot see a label, an env entry or a ``suspend: true`` someone added. The
live ``managedFields`` can: each entry outside the ``status`` subresource whose manager is
not ours names the fields it set. A field is an addition when the manifest Git renders does
not set it and no ignore rule (system managers included) covers it. The change is reported
at the shallowest path Git does not set (a whole sidecar container, not its every leaf).
Pure: the caller passes the objects.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gitops_nb.ignore import IgnoreRules
from gitops_nb.kube.fields import FieldPath, Key, PathElement, Value, format_path, leaf_paths
from gitops_nb.masking import mask_change
from gitops_nb.model import OP_ADDED, FieldChange, ObjectRef

_MISSING = object()

# What the server stores when a field is absent, for the fields people most often set by
# hand: shown as the desired value of an addition ("the default when you can know it").
KNOWN_DEFAULTS: dict[tuple[str, str], Any] = {
    ("CronJob", "spec.suspend"): False,
    ("Service", "spec.sessionAffinity"): "None",
    ("Deployment", "spec.paused"): None,
}


@dataclass(frozen=True)
class Addition:
    """One added field: where, its change record, and the managers owning it."""

    path: FieldPath
    change: FieldChange
    managers: frozenset[str]


# Key fields a manifest may leave out because the server defaults them.
_KEY_DEFAULTS = {"protocol": "TCP"}


def _item_matches(item: Any, elem: PathElement) -> bool:
    if isinstance(elem, Key):
        return isinstance(item, Mapping) and all(
            Key.of({k: item.get(k, _KEY_DEFAULTS.get(k))}).fields[0][1] == v for k, v in elem.fields
        )
    if isinstance(elem, Value):
        return Value(Key.of({"v": item}).fields[0][1]) == elem
    return False


def lookup(obj: Any, path: FieldPath) -> Any:
    """The value at ``path`` in a plain object, or the module's ``_MISSING`` sentinel."""
    cur = obj
    for elem in path:
        if isinstance(elem, str):
            if not isinstance(cur, Mapping) or elem not in cur:
                return _MISSING
            cur = cur[elem]
        elif isinstance(elem, int):
            if not isinstance(cur, list) or not 0 <= elem < len(cur):
                return _MISSING
            cur = cur[elem]
        else:
            if not isinstance(cur, list):
                return _MISSING
            found = [i for i in cur if _item_matches(i, elem)]
            if not found:
                return _MISSING
            cur = found[0]
    return cur


def has(obj: Any, path: FieldPath) -> bool:
    return lookup(obj, path) is not _MISSING


def _first_unset(manifest: Mapping[str, Any], path: FieldPath) -> FieldPath | None:
    """Where ``path`` leaves what Git sets: the first list item Git lacks (a whole env
    entry or sidecar), else the leaf itself (a label, not all labels); None if Git sets it."""
    for depth in range(1, len(path) + 1):
        if not has(manifest, path[:depth]):
            for deeper in range(depth, len(path) + 1):
                if not isinstance(path[deeper - 1], str):
                    return path[:deeper]
            return path
    return None


def _rank(entry: Mapping[str, Any]) -> tuple[str, bool]:
    return (str(entry.get("time") or ""), entry.get("operation") == "Update")


def foreign_entries(
    live: Mapping[str, Any], field_manager: str, rules: IgnoreRules
) -> list[Mapping[str, Any]]:
    """managedFields entries that can add drift: not ours, not status, not a system manager."""
    out = []
    for entry in (live.get("metadata") or {}).get("managedFields") or ():
        manager = str(entry.get("manager", ""))
        if manager == field_manager or entry.get("subresource") == "status":
            continue
        if rules.is_system(manager) or not isinstance(entry.get("fieldsV1"), Mapping):
            continue
        out.append(entry)
    return out


def additions(
    ref: ObjectRef,
    manifest: Mapping[str, Any],
    live: Mapping[str, Any],
    *,
    field_manager: str,
    rules: IgnoreRules,
) -> list[Addition]:
    """Fields of ``live`` that another manager set, ``manifest`` does not set, and no rule
    covers; ordered by path."""
    found: dict[FieldPath, list[Mapping[str, Any]]] = {}
    for entry in foreign_entries(live, field_manager, rules):
        manager = str(entry.get("manager", ""))
        try:
            leaves = leaf_paths(entry["fieldsV1"])
        except ValueError:
            continue  # attribution is best effort; an odd entry must not break a diff
        for leaf in leaves:
            cut = _first_unset(manifest, leaf)
            if cut is None or not has(live, cut):
                continue
            if rules.matches(ref, format_path(leaf), manager) or rules.matches(
                ref, format_path(cut), manager
            ):
                continue
            owners = found.setdefault(cut, [])
            if entry not in owners:
                owners.append(entry)
    out = []
    for cut, owners in sorted(found.items(), key=lambda kv: format_path(kv[0])):
        if any(c != cut and cut[: len(c)] == c for c in found):
            continue  # inside a shallower addition
        best = max(owners, key=_rank)
        printed = format_path(cut)
        change = FieldChange(
            path=printed,
            live=copy.deepcopy(lookup(live, cut)),
            desired=KNOWN_DEFAULTS.get((ref.kind, printed)),
            manager=str(best.get("manager", "")),
            operation=str(best.get("operation", "")),
            time=best.get("time"),
            op=OP_ADDED,
        )
        managers = frozenset(str(o.get("manager", "")) for o in owners)
        out.append(Addition(cut, mask_change(ref, change), managers))
    return out


def not_defaults(
    ref: ObjectRef, found: Sequence[Addition], defaults: Mapping[str, Any] | None
) -> tuple[Addition, ...]:
    """Drop additions whose live value is what the server defaults anyway; show the default
    as the desired value of the rest (None: the server would not set the field)."""
    if defaults is None:
        return tuple(found)
    out = []
    for a in found:
        default = lookup(defaults, a.path)
        if default is _MISSING:
            out.append(a)
        elif default != a.change.live:
            change = replace(a.change, desired=copy.deepcopy(default))
            out.append(replace(a, change=mask_change(ref, change)))
    return tuple(out)


def without(obj: Mapping[str, Any], paths: Sequence[FieldPath]) -> dict[str, Any]:
    """A deep copy of ``obj`` with the fields at ``paths`` removed (the state Git wants)."""
    out = copy.deepcopy(dict(obj))
    for path in paths:
        parent = lookup(out, path[:-1])
        last = path[-1]
        if isinstance(parent, dict) and isinstance(last, str):
            parent.pop(last, None)
        elif isinstance(parent, list):
            if isinstance(last, int) and 0 <= last < len(parent):
                del parent[last]
            else:
                parent[:] = [i for i in parent if not _item_matches(i, last)]
    return out
