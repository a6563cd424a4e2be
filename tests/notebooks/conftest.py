"""Notebook fixtures: demo data made in this test run, and headless notebook execution."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tests.notebooks.nbrun import (
    KERNEL,
    NOTEBOOKS,
    RunNotebook,
    parameter_names,
    parameters_cell,
    read_notebook,
    stream_text,
)

EXECUTION_TIMEOUT_S = 180
# appended to every executed copy: proves the kernel is this venv's Python
_WHICH_PYTHON = "import sys\nprint('KERNEL-PYTHON=' + sys.executable)"


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec ``python3`` that runs *this* interpreter (the venv's), whatever other
    ``python3`` kernelspecs the user or the system has installed. Nothing global is touched."""
    kernels = tmp_path_factory.mktemp("kernels")
    spec_dir = kernels / KERNEL
    spec_dir.mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (gitops-nb tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)


@pytest.fixture(scope="session")
def run_notebook(kernel_specs: KernelSpecManager) -> RunNotebook:
    """Execute ``notebooks/<name>`` headless with ``params`` replacing its parameters cell;
    any cell error fails the test (nbclient raises ``CellExecutionError``)."""

    def run(name: str, params: Mapping[str, Any]) -> nbformat.NotebookNode:
        nb = read_notebook(NOTEBOOKS / name)
        missing = parameter_names(nb) - set(params)
        assert not missing, f"{name}: the test must set every parameter, missing {missing}"
        parameters_cell(nb).source = "\n".join(f"{k} = {v!r}" for k, v in params.items())
        nb.cells.append(nbformat.v4.new_code_cell(_WHICH_PYTHON))  # type: ignore[no-untyped-call]
        km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
        client = NotebookClient(
            nb,
            km=km,
            timeout=EXECUTION_TIMEOUT_S,
            allow_errors=False,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
            shutdown_kernel="immediate",
        )
        # we made the kernel manager, so nbclient would leave the kernel running: stop it
        client.execute(cleanup_kc=True)
        which = stream_text(nb.cells[-1])
        assert f"KERNEL-PYTHON={sys.executable}" in which, which
        nb.cells.pop()
        return nb

    return run
