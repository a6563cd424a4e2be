"""Start JupyterLab on the notebooks: ``make notebooks`` and the browser tests use this.

As root (these machines, many containers) JupyterLab refuses to start unless told
``--allow-root``; the flag is added only then.

    python -m gitops_nb.notebook.server [NOTEBOOK_DIR] [--port N] [--no-token]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def lab_command(
    notebook_dir: Path,
    *,
    port: int | None = None,
    token: str | None = None,
    open_browser: bool = True,
    expose_app: bool = False,
) -> list[str]:
    """The ``jupyter lab`` command line, run by this interpreter (the project's venv)."""
    args = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebook_dir}"]
    if port is not None:
        args += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
        args.append("--ServerApp.ip=127.0.0.1")
    if token is not None:
        args.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        args.append("--ServerApp.open_browser=False")
    if expose_app:  # window.jupyterapp, for the browser tests to drive the UI
        args.append("--LabApp.expose_app_in_browser=True")
    if os.geteuid() == 0:
        args.append("--allow-root")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="JupyterLab on the audit notebooks")
    ap.add_argument("notebook_dir", nargs="?", default="notebooks", type=Path)
    ap.add_argument("--port", type=int, default=None)
    args = ap.parse_args(argv)
    command = lab_command(args.notebook_dir.resolve(), port=args.port)
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
