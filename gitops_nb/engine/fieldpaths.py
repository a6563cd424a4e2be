"""Printed field paths (``a.b["c.d"][name=x][=v][0]``) against objects. Pure.

The diff prints one path syntax (:func:`gitops_nb.kube.fields.format_path`); ignore rules
already split it (:func:`gitops_nb.ignore.segments`). These helpers answer, for any such
path, the two questions the cause of a difference needs:

- :func:`moved_paths` / :func:`touches`: did Git change this field between two commits?
- :func:`value_at`: what value does an object hold at this path?

List items are selected as the diff prints them: ``[k=v,…]`` (a keyed item, FieldsV1
``k:``; a key naming fewer fields than the item's still selects it), ``[=v]`` (a set member,
``v:``) or ``[n]`` (an index).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from gitops_nb.engine.diff import field_changes, normalize
from gitops_nb.ignore import segments
from gitops_nb.kube.fields import format_path

MISSING: Any = object()
"""What :func:`value_at` returns where the object holds nothing."""


def moved_paths(before: Mapping[str, Any], now: Mapping[str, Any]) -> frozenset[str]:
    """The printed paths where two renders of one object differ: what Git changed."""
    return frozenset(format_path(p) for p, _, _ in field_changes(normalize(before), normalize(now)))


def _pairs(segment: str) -> frozenset[str] | None:
    """``k=v,k2=v2`` → its pairs; None for a plain name, a set member or an index."""
    if "=" not in segment or segment.startswith("="):
        return None
    return frozenset(segment.split(","))


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    pa, pb = _pairs(a), _pairs(b)
    return pa is not None and pb is not None and (pa <= pb or pb <= pa)


def touches(path: str, moved: Iterable[str]) -> bool:
    """True when ``path`` is one of ``moved``, lies below one, or holds one below it."""
    mine = segments(path)
    for other in moved:
        theirs = segments(other)
        if all(_same(a, b) for a, b in zip(mine, theirs, strict=False)):
            return True
    return False


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _item(items: list[Any], segment: str) -> Any:
    if segment.isdigit():
        i = int(segment)
        return items[i] if i < len(items) else MISSING
    if segment.startswith("="):
        want = segment[1:]
        return next((v for v in items if _text(v) == want), MISSING)
    pairs = _pairs(segment)
    for item in items:
        if pairs is not None and isinstance(item, Mapping):
            have = {f"{k}={_text(v)}" for k, v in item.items() if not isinstance(v, dict | list)}
            if pairs <= have:
                return item
    return MISSING


def value_at(obj: Any, path: str) -> Any:
    """The value ``obj`` holds at the printed ``path``; :data:`MISSING` when none."""
    node = obj
    for segment in segments(path):
        if isinstance(node, Mapping):
            node = node.get(segment, MISSING)
        elif isinstance(node, list):
            node = _item(node, segment)
        else:
            return MISSING
        if node is MISSING:
            return MISSING
    return node
