"""Helpers for the notebook tests: read notebooks, find their parameters, give them the
demo's parameters, read outputs."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

if TYPE_CHECKING:
    from gitops_nb.localcluster.demo import DemoResult

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL = "python3"

#: ``run_notebook(name, params)``: the executed notebook (fixture in conftest.py)
RunNotebook = Callable[[str, Mapping[str, Any]], nbformat.NotebookNode]


def read_notebook(path: Path) -> nbformat.NotebookNode:
    nb: nbformat.NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return nb


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The one code cell tagged ``parameters``."""
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"want exactly one parameters cell, found {len(cells)}"
    cell: nbformat.NotebookNode = cells[0]
    assert cell.cell_type == "code"
    return cell


def parameter_names(nb: nbformat.NotebookNode) -> set[str]:
    """Names the parameters cell assigns."""
    tree = ast.parse(parameters_cell(nb).source)
    return {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


def history_params(demo: DemoResult) -> dict[str, Any]:
    """The parameters that point a history notebook at the demo's records."""
    return {"HISTORY_DIR": str(demo.history_dir), "APP": demo.app}


def stream_text(cell: nbformat.NotebookNode, name: str = "stdout") -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == name)
