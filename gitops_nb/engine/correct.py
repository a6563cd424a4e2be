"""Removing fields other hands added, with server-side apply.

With SSA only a field's owner can remove it: applying Git without the field leaves it in
place while another manager owns it. We take ownership the way fluxcd/pkg ``ssa`` does: move
the added fields' entries from the foreign managers' ``managedFields`` into our own Apply
entry (one merge patch, guarded by ``resourceVersion``), then apply Git, which no longer
holds them, so the API server removes them. The other way, force-applying the live value
first, does not work for an equal value (SSA then *shares* ownership) and would write every
field twice. Fields of system managers and ignored fields are never moved, so never removed.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_nb.engine.foreign import Addition
from gitops_nb.kube.fields import FieldPath, parse_element
from gitops_nb.model import format_time

_Raw = dict[str, Any]


def _pop(fields: _Raw, path: FieldPath) -> tuple[list[str], _Raw] | None:
    """Remove the subtree at ``path``; its raw keys and the subtree, or None if absent."""
    trail: list[tuple[_Raw, str]] = []
    node = fields
    for elem in path:
        raw = next((k for k in node if k != "." and _element(k) == elem), None)
        if raw is None or not isinstance(node[raw], dict):
            return None
        trail.append((node, raw))
        node = node[raw]
    parent, raw = trail[-1]
    subtree = parent.pop(raw)
    # An empty object is a member leaf in FieldsV1: drop parents left empty, and the bare
    # ownership of a map or item that held only the added field.
    for above, key in reversed(trail[:-1]):
        if set(above[key]) - {"."}:
            break
        del above[key]
    return [k for _, k in trail], subtree


def _element(raw: str) -> object:
    try:
        return parse_element(raw)
    except ValueError:
        return None


def _merge(into: _Raw, keys: list[str], subtree: _Raw) -> None:
    node = into
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    existing = node.get(keys[-1])
    node[keys[-1]] = _deep_merge(existing, subtree) if isinstance(existing, dict) else subtree


def _deep_merge(a: _Raw, b: _Raw) -> _Raw:
    out = dict(a)
    for k, v in b.items():
        out[k] = _deep_merge(out[k], v) if isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def take_ownership(
    managed_fields: Sequence[Mapping[str, Any]],
    found: Sequence[Addition],
    *,
    field_manager: str,
    api_version: str,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """New ``managedFields``: the added fields moved from their owners into our Apply entry.

    Entries left without fields are dropped; everything else is kept as it was.
    """
    entries = [copy.deepcopy(dict(e)) for e in managed_fields]  # never mutate the live object
    ours = next(
        (
            e
            for e in entries
            if e.get("manager") == field_manager
            and e.get("operation") == "Apply"
            and not e.get("subresource")
        ),
        None,
    )
    if ours is None:
        stamp = format_time(now or dt.datetime.now(dt.UTC))
        ours = {
            "manager": field_manager,
            "operation": "Apply",
            "apiVersion": api_version,
            "time": stamp,
            "fieldsType": "FieldsV1",
            "fieldsV1": {},
        }
        entries.append(ours)
    ours["fieldsV1"] = ours.get("fieldsV1") or {}
    for entry in entries:
        if entry is ours or entry.get("subresource") == "status":
            continue
        if not any(entry.get("manager") in a.managers for a in found):
            continue
        fields = entry.get("fieldsV1") or {}
        for a in found:
            if entry.get("manager") not in a.managers:
                continue
            popped = _pop(fields, a.path)
            if popped is not None:
                _merge(ours["fieldsV1"], *popped)
        entry["fieldsV1"] = fields
    return [e for e in entries if e is ours or e.get("fieldsV1")]


def ownership_patch(
    live: Mapping[str, Any], found: Sequence[Addition], field_manager: str
) -> dict[str, Any]:
    """The merge patch that hands the added fields to us, only if the object is unchanged."""
    meta = live.get("metadata") or {}
    return {
        "metadata": {
            "resourceVersion": meta.get("resourceVersion"),
            "managedFields": take_ownership(
                meta.get("managedFields") or (),
                found,
                field_manager=field_manager,
                api_version=str(live.get("apiVersion", "")),
            ),
        }
    }
