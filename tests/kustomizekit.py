"""What the Kustomize and alias-bound tests share: a ConfigMap template, the real kubectl
(its path, and a mark for tests that need it), a file writer, and the audit's alias bombs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitops_nb.binaries import find_binary
from gitops_nb.errors import ToolMissingError

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def _kubectl() -> str:
    try:
        return str(find_binary("kubectl"))
    except ToolMissingError:
        return "/usr/bin/kubectl"


KUBECTL = _kubectl()
needs_kubectl = pytest.mark.skipif(not os.access(KUBECTL, os.X_OK), reason="needs kubectl")


def write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


ANCHOR_LINE = 5


def bomb(aliases: int = 300, anchor_kb: int = 100, indent: str = "") -> str:
    """The audit's file: one anchored 100 KB string (line 5), aliased ``aliases`` times."""
    refs = "\n".join(f"{indent}  k{i}: *big" for i in range(aliases))
    return (
        f"{indent}apiVersion: v1\n{indent}kind: ConfigMap\n{indent}metadata:\n"
        f"{indent}  name: bomb\n{indent}anchor: &big {'A' * anchor_kb * 1024}\n"
        f"{indent}data:\n{refs}\n"
    )


def values_bomb(values: str) -> tuple[str, int]:
    """``values`` plus an anchored 100 KB string and 300 aliases; and the anchor's line."""
    line = values.count("\n") + 1
    refs = "\n".join(f"  k{i}: *big" for i in range(300))
    return f"{values}big: &big {'A' * 100 * 1024}\nrefs:\n{refs}\n", line
