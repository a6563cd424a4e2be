"""Render an app path's tree at any commit with Kustomize, for ``resource_changes``."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from gitops_nb.errors import RenderError
from gitops_nb.history.gitlog import Renderer
from gitops_nb.model import Manifest
from gitops_nb.render import render


def kustomize_renderer(repo: Path | str) -> Renderer:
    """``renderer(commit, tree_id)``: extract the tree with ``git archive`` and render it.

    Kustomizations that reach outside the app path (``../base``) cannot be rendered from
    the path's tree alone; those commits report a render error row.
    """

    def renderer(commit: str, tree_id: str) -> list[Manifest]:
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", "--format=tar", tree_id],
            check=False,
            capture_output=True,
        )
        if archive.returncode != 0:
            raise RenderError(f"{commit[:12]}:1", archive.stderr.decode(errors="replace")[:300])
        with tempfile.TemporaryDirectory(prefix="gitops-nb-tree-") as tmp:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(tmp, filter="data")
            return render(Path(tmp), ".")

    return renderer
