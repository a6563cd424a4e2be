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
from gitops_nb.source.render import render


def kustomize_renderer(repo: Path | str, path: str) -> Renderer:
    """``renderer(commit, tree_id)``: extract the commit with ``git archive``, render ``path``.

    ``resource_changes`` and ``commits`` render Kustomize apps themselves (from the app's
    closure only); this renderer is for callers that want the whole commit extracted. The
    path is required: a default would render the repository root, not the app.

    The whole commit is extracted so overlays that reach outside the app path
    (``../../base``) render as they did in the cluster.
    """

    def renderer(commit: str, tree_id: str) -> list[Manifest]:
        del tree_id  # results are cached by tree id by the caller; we need the whole commit
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", "--format=tar", commit],
            check=False,
            capture_output=True,
        )
        if archive.returncode != 0:
            raise RenderError(f"{commit[:12]}:1", archive.stderr.decode(errors="replace")[:300])
        with tempfile.TemporaryDirectory(prefix="gitops-nb-tree-") as tmp:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(tmp, filter="data")
            return render(Path(tmp), path)

    return renderer
