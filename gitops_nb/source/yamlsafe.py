"""Safe YAML loading with line numbers and bounded alias expansion.

Only plain data is constructed (no Python tags). Each document is composed into a node
graph first and walked once: that gives the line every object starts on, rejects alias
bombs ("billion laughs") and recursive aliases before anything is expanded, and rejects
duplicate or non-string keys that the Kubernetes API would not accept as JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gitops_nb.errors import RenderError

#: How many extra nodes alias references may add to one file once expanded.
MAX_ALIAS_EXPANSION = 100_000
#: How many bytes of scalars alias references may add to one file once expanded. A node
#: count alone lets one large anchored string, aliased a few thousand times, cost gigabytes
#: once the objects are copied and serialised (the CronJob has 512Mi).
MAX_ALIAS_BYTES = 4 * 1024 * 1024

_BaseLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _MERGE = _TAG + "str", _TAG + "int", _TAG + "merge"
# YAML 1.1 implicit types that Kubernetes (JSON) has no use for: unquoted dates stay
# strings, and a bare "=" is a string rather than the unconstructible !!value.
_DROPPED_IMPLICIT = {_TAG + "timestamp", _TAG + "value"}
# Explicit tags whose values cannot be sent to the API server as JSON.
_UNSUPPORTED_TAGS = {_TAG + t for t in ("binary", "timestamp", "set", "omap", "pairs", "value")}


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader without YAML 1.1 timestamp and value resolution."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED_IMPLICIT]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


@dataclass(frozen=True)
class Document:
    """One non-empty YAML document.

    ``line`` is where its top-level node starts (1-based). ``item_lines`` holds the start
    line of each element of a top-level ``items`` sequence (for ``List`` kinds), else ().
    """

    data: Any
    line: int
    item_lines: tuple[int, ...] = ()


@dataclass
class _Budget:
    """What alias expansion may still add to the current file."""

    nodes: int
    bytes: int


def load_all(
    text: str,
    source: str,
    *,
    max_alias_expansion: int = MAX_ALIAS_EXPANSION,
    max_alias_bytes: int = MAX_ALIAS_BYTES,
) -> list[Document]:
    """Parse every document in ``text``; errors are ``RenderError("source:line", ...)``."""
    return _parse(text, source, _Budget(max_alias_expansion, max_alias_bytes), strict=True)


def bound_aliases(
    text: str,
    source: str,
    *,
    max_alias_expansion: int = MAX_ALIAS_EXPANSION,
    max_alias_bytes: int = MAX_ALIAS_BYTES,
) -> None:
    """Apply :func:`load_all`'s alias bounds to a file another program will parse.

    Kustomize and helm expand aliases in their own process (a 106 KB file with a 100 KB
    anchor aliased 300 times took ``kubectl kustomize`` to 251 MB), so every YAML file they
    read is composed here first. Only the node graph is checked (recursive aliases, the
    node and byte budgets); keys and tags are left to the program that reads the file.
    """
    _parse(text, source, _Budget(max_alias_expansion, max_alias_bytes), strict=False)


def _parse(text: str, source: str, budget: _Budget, *, strict: bool) -> list[Document]:
    """Compose each document, check its graph, and (``strict``) construct it."""
    loader = _Loader(text)
    docs: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            _check_graph(node, source, budget, strict=strict)
            data = loader.construct_document(node) if strict else None
            if data is None:
                continue
            docs.append(Document(data, _line(node), _item_lines(node)))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        # Problem/context only: str(e) quotes the offending line, which may hold a secret.
        what = "; ".join(p for p in (e.context, e.problem) if p) or "invalid YAML"
        raise RenderError(f"{source}:{line}", what) from e
    except yaml.YAMLError as e:
        raise RenderError(f"{source}:1", f"invalid YAML ({type(e).__name__})") from e
    except RecursionError as e:
        raise RenderError(f"{source}:1", "YAML nesting is too deep") from e
    finally:
        loader.dispose()
    return docs


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _item_lines(node: Node) -> tuple[int, ...]:
    if not isinstance(node, MappingNode):
        return ()
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "items" and isinstance(value, SequenceNode):
            return tuple(_line(item) for item in value.value)
    return ()


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _own_bytes(node: Node) -> int:
    # A scalar costs its text (plus quotes/separator once serialised); a collection, brackets.
    return len(node.value) + 2 if isinstance(node, ScalarNode) else 2


def _is_tree(root: Node, source: str, strict: bool) -> bool:
    """Validate every node (``strict``); True when no node is reached twice (no alias, no
    recursion).

    The common case: a tree expands to itself, so there is nothing to charge and the
    memoised walk below is not needed.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        nid = id(node)
        if nid in seen:
            return False
        seen.add(nid)
        if strict:
            _check_node(node, source)
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return True


def _check_graph(root: Node, source: str, budget: _Budget, *, strict: bool = True) -> None:
    """Validate the node graph of one document and charge its alias expansion to ``budget``.

    ``strict``: also check keys and tags (:func:`_check_node`) for the API server.

    Expanded node counts and scalar bytes are memoised per node, so the walk costs the
    number of distinct nodes however large the expansion would be.
    """
    if _is_tree(root, source, strict):
        return
    sizes: dict[int, tuple[int, int]] = {}  # id -> (expanded nodes, expanded bytes)
    refs: dict[int, int] = {}
    nodes: dict[int, Node] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            count, size = 1, _own_bytes(node)
            for child in _children(node):
                child_count, child_size = sizes[id(child)]
                count, size = count + child_count, size + child_size
                refs[id(child)] = refs.get(id(child), 0) + 1
            sizes[nid] = (count, size)
            continue
        if nid in sizes:
            continue
        if nid in on_path:
            raise RenderError(f"{source}:{_line(node)}", "recursive YAML alias")
        if strict:
            _check_node(node, source)
        nodes[nid] = node
        on_path.add(nid)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    expanded_nodes, expanded_bytes = sizes[id(root)]
    budget.nodes -= expanded_nodes - len(sizes)
    budget.bytes -= expanded_bytes - sum(_own_bytes(n) for n in nodes.values())
    if budget.nodes < 0:
        raise RenderError(
            f"{source}:{_line(root)}",
            f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} extra nodes in this file",
        )
    if budget.bytes < 0:
        # Point at the anchor whose repetition costs most: that is the line to fix.
        worst = max(
            (nid for nid, n in refs.items() if n > 1),
            key=lambda nid: (refs[nid] - 1) * sizes[nid][1],
            default=id(root),
        )
        raise RenderError(
            f"{source}:{_line(nodes[worst])}",
            f"YAML aliases expand to more than {MAX_ALIAS_BYTES // 1024} KiB of extra data "
            "in this file",
        )


def _check_node(node: Node, source: str) -> None:
    if node.tag in _UNSUPPORTED_TAGS:
        raise RenderError(f"{source}:{_line(node)}", f"YAML tag {node.tag!r} is not supported")
    if not isinstance(node, MappingNode):
        return
    seen: set[str] = set()
    for key, _value in node.value:
        if isinstance(key, ScalarNode) and key.tag == _MERGE:
            continue
        if isinstance(key, ScalarNode) and key.tag == _INT:
            key.tag = _STR  # as kubectl does: `80: x` is the key "80"
        if not isinstance(key, ScalarNode) or key.tag != _STR:
            raise RenderError(f"{source}:{_line(key)}", "mapping keys must be strings (quote it)")
        if key.value in seen:
            raise RenderError(f"{source}:{_line(key)}", f"duplicate key {key.value!r}")
        seen.add(key.value)
