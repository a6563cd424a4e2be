"""managedFields (FieldsV1) parsing and field-ownership lookup.

FieldsV1 is the serialised field-set trie of sigs.k8s.io/structured-merge-diff: keys are
``f:<field>``, ``k:<json list-map key>``, ``v:<json set value>``, ``i:<index>``, and ``.`` marks
the node itself as a member. An empty mapping is a member leaf (a scalar, or an atomic
list/map owned as a whole).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


def _freeze(value: Any) -> Any:
    """Make a decoded JSON value hashable (objects as sorted pairs, arrays as tuples)."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class Key:
    """A list-map item selector, e.g. ``k:{"name":"web"}``: sorted ``(name, value)`` pairs."""

    fields: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, mapping: Mapping[str, Any]) -> Key:
        return cls(tuple(sorted((str(k), _freeze(v)) for k, v in mapping.items())))

    def matches(self, other: Key) -> bool:
        """True when our pairs are a subset of ``other``'s (a partial key selects the item)."""
        return set(self.fields) <= set(other.fields)


@dataclass(frozen=True)
class Value:
    """A set member, e.g. ``v:"example.com/finalizer"``."""

    value: Any


PathElement = str | Key | Value | int
FieldPath = tuple[PathElement, ...]


@dataclass(frozen=True)
class Owner:
    """One managedFields entry, as the owner of a field."""

    manager: str
    operation: str
    time: str | None
    subresource: str = ""


# --- parsing ------------------------------------------------------------------------------


def _parse_element(raw: str) -> PathElement:
    prefix, _, rest = raw.partition(":")
    try:
        if prefix == "f":
            return rest
        if prefix == "k":
            decoded = json.loads(rest)
            if not isinstance(decoded, dict):
                raise ValueError("key is not a JSON object")
            return Key.of(decoded)
        if prefix == "v":
            return Value(_freeze(json.loads(rest)))
        if prefix == "i":
            return int(rest)
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"invalid FieldsV1 path element {raw!r}: {e}") from e
    raise ValueError(f"invalid FieldsV1 path element {raw!r}: unknown prefix")


@dataclass
class _Node:
    owned: bool = False
    children: dict[PathElement, _Node] = field(default_factory=dict)

    def has_owned(self) -> bool:
        return self.owned or any(c.has_owned() for c in self.children.values())


def _build(fields: Mapping[str, Any]) -> _Node:
    node = _Node()
    for raw, sub in fields.items():
        if raw == ".":
            node.owned = True
            continue
        if not isinstance(sub, Mapping):
            raise ValueError(f"invalid FieldsV1 node under {raw!r}: expected an object")
        child = _build(sub)
        if not sub:  # an empty object is a member leaf
            child.owned = True
        node.children[_parse_element(raw)] = child
    return node


def _members(node: _Node, prefix: FieldPath) -> Iterator[FieldPath]:
    if node.owned and prefix:
        yield prefix
    for elem, child in node.children.items():
        yield from _members(child, (*prefix, elem))


def parse_fields_v1(fields: Mapping[str, Any]) -> set[FieldPath]:
    """Every member path of a FieldsV1 set (leaves and nodes marked with ``.``)."""
    return set(_members(_build(fields), ()))


# --- formatting ---------------------------------------------------------------------------

_QUOTE_CHARS = frozenset('./[]"= ')


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def format_path(path: FieldPath) -> str:
    """Human path: ``spec.template.spec.containers[name=web].image``.

    Field names holding ``.`` or ``/`` (label keys) are quoted: ``metadata.labels["a.b/c"]``.
    """
    out: list[str] = []
    for elem in path:
        if isinstance(elem, Key):
            out.append("[" + ",".join(f"{k}={_scalar(v)}" for k, v in elem.fields) + "]")
        elif isinstance(elem, Value):
            out.append(f"[={_scalar(elem.value)}]")
        elif isinstance(elem, int):
            out.append(f"[{elem}]")
        elif not elem or _QUOTE_CHARS & set(elem):
            out.append(f"[{json.dumps(elem)}]")
        else:
            out.append(f".{elem}" if out else elem)
    return "".join(out)


# --- ownership ----------------------------------------------------------------------------


def _children_matching(node: _Node, elem: PathElement) -> list[_Node]:
    exact = node.children.get(elem)
    if exact is not None:
        return [exact]
    if isinstance(elem, Key):
        # Our diff may key an item by fewer fields than the server (port vs port+protocol).
        return [c for k, c in node.children.items() if isinstance(k, Key) and elem.matches(k)]
    return []


@dataclass(frozen=True)
class _Match:
    exact: bool = False
    atomic_depth: int = -1  # deepest owned leaf strictly above the path, -1 if none
    descendant: bool = False


def _match(root: _Node, path: FieldPath) -> _Match:
    exact = descendant = False
    atomic_depth = -1
    frontier = [root]
    for depth, elem in enumerate(path):
        for node in frontier:
            if depth and node.owned and not node.children:
                atomic_depth = max(atomic_depth, depth)
        frontier = [c for n in frontier for c in _children_matching(n, elem)]
        if not frontier:
            break
    else:
        exact = any(n.owned for n in frontier)
        descendant = any(c.has_owned() for n in frontier for c in n.children.values())
    return _Match(exact, atomic_depth, descendant)


class OwnersIndex:
    """managedFields parsed once, for many :meth:`owner_of` lookups on one object."""

    def __init__(self, managed_fields: Sequence[Mapping[str, Any]] | None) -> None:
        self._entries: list[tuple[Owner, _Node]] = []
        for entry in managed_fields or ():
            fields_v1 = entry.get("fieldsV1")
            if entry.get("fieldsType", "FieldsV1") != "FieldsV1" or not isinstance(
                fields_v1, Mapping
            ):
                continue
            owner = Owner(
                manager=str(entry.get("manager", "")),
                operation=str(entry.get("operation", "")),
                time=entry.get("time"),
                subresource=str(entry.get("subresource") or ""),
            )
            try:
                self._entries.append((owner, _build(fields_v1)))
            except ValueError as e:
                # Attribution is best effort: one odd entry must not break a diff.
                log.warning("skipping managedFields entry of %s: %s", owner.manager, e)

    @staticmethod
    def _rank(item: tuple[int, Owner]) -> tuple[str, bool, int]:
        pos, owner = item
        # Most recent wins; on a tie the Update (someone changed it) beats an Apply;
        # then the earlier entry, for a deterministic answer.
        return (owner.time or "", owner.operation == "Update", -pos)

    def _best(self, owners: list[tuple[int, Owner]]) -> Owner | None:
        return max(owners, key=self._rank)[1] if owners else None

    def owner_of(self, path: FieldPath) -> Owner | None:
        """See :func:`owner_of`."""
        matches = [(i, owner, _match(node, path)) for i, (owner, node) in enumerate(self._entries)]
        exact = [(i, o) for i, o, m in matches if m.exact]
        if exact:
            return self._best(exact)
        deepest = max((m.atomic_depth for _, _, m in matches), default=-1)
        if deepest >= 0:
            return self._best([(i, o) for i, o, m in matches if m.atomic_depth == deepest])
        return self._best([(i, o) for i, o, m in matches if m.descendant])


def owners_index(managed_fields: Sequence[Mapping[str, Any]] | None) -> OwnersIndex:
    """Parse ``metadata.managedFields`` once for repeated lookups."""
    return OwnersIndex(managed_fields)


def owner_of(managed_fields: Sequence[Mapping[str, Any]] | None, path: FieldPath) -> Owner | None:
    """The manager that owns the live value at ``path``, or None when no entry accounts for it.

    Order: an entry owning ``path`` exactly; else the entry owning the deepest atomic
    ancestor (an owned leaf above ``path``: atomic lists/maps are owned at their own node);
    else an entry owning something below ``path`` (e.g. a whole container someone added).
    Among several candidates the most recent ``time`` wins, on a tie Update over Apply.
    A :class:`Key` in ``path`` selects a ``k:`` item whose pairs include all of its pairs.
    """
    return OwnersIndex(managed_fields).owner_of(path)


def parse_element(raw: str) -> PathElement:
    """One FieldsV1 key (``f:name``, ``k:{…}``, ``v:…``, ``i:0``) as a path element."""
    return _parse_element(raw)


def _leaves(node: _Node, prefix: FieldPath) -> Iterator[FieldPath]:
    below = [(e, c) for e, c in node.children.items() if c.has_owned()]
    if node.owned and prefix and not below:
        yield prefix
    for elem, child in below:
        yield from _leaves(child, (*prefix, elem))


def leaf_paths(fields: Mapping[str, Any]) -> list[FieldPath]:
    """Owned paths with nothing owned below them: the fields a manager set, not the maps
    and list items around them (those are members too, marked ``.``)."""
    return list(_leaves(_build(fields), ()))
