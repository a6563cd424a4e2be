"""Which repository and ref history reads for a ``--repo`` value: any local clone or a URL.

A local directory (a work tree, a bare clone, a linked worktree, a shallow clone) is read in
place, at the ref given. Anything else (``file://``, ``https://``, ``ssh://``…) is fetched
into the cached mirror first, and read there at the commit the ref resolved to: the
mirror's own ``HEAD`` names no branch of the remote.
"""

from __future__ import annotations

from pathlib import Path

from gitops_nb.source.git import SourceSpec, mirror_path, resolve
from gitops_nb.source.validation import is_local_url


def history_source(url: str, ref: str, cache_dir: Path) -> tuple[str, str]:
    """``(repository to read, ref to read it at)`` for ``url`` at ``ref``."""
    if is_local_url(url) and Path(url).is_dir():
        return url, ref
    revision = resolve(SourceSpec(url, ref), cache_dir)
    return str(mirror_path(url, cache_dir)), revision.commit
