"""Git inputs checked before any file or process is touched: URLs, refs and app paths.

URL checks live in :mod:`gitops_nb.giturl` (the config uses them too) and are re-exported.

URLs, refs and paths that could run commands (``ext::``, ``--upload-pack=``), act as
options or revision expressions, or escape the checkout are refused with
:class:`~gitops_nb.errors.UnsafeSourceError`. Every module that hands a ref or URL to git
(fetching, ``git log`` for history) checks it here.

Allowed sources: local paths, ``file://``, ``https://``, ``ssh://`` and scp-style
``user@host:path``. Plain ``http://`` and ``git://`` are refused: they would send
credentials and content unprotected.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from gitops_nb.errors import UnsafeSourceError
from gitops_nb.giturl import CONTROL_CHARS, is_local_url, redact_url, validate_url

__all__ = ["is_local_url", "redact_url", "validate_path", "validate_ref", "validate_url"]


def validate_ref(ref: str) -> None:
    """Refuse refs that could be options or revision expressions (``a..b``, ``@{...}``)."""
    bad = (
        not ref
        or ref.startswith("-")
        or ".." in ref
        or "@{" in ref
        or ref == "@"
        or "//" in ref
        or ref.endswith(("/", ".", ".lock"))
        or CONTROL_CHARS.search(ref) is not None
        or any(c in ref for c in " ~^:?*[\\")
        or any(part.startswith(".") for part in ref.split("/"))
        or len(ref) > 255
    )
    if bad:
        raise UnsafeSourceError(f"git ref {ref!r} is not a valid branch, tag or commit")


def validate_path(path: str) -> None:
    """Refuse an app path that is absolute or climbs out with ``..``."""
    pure = PurePosixPath(path)
    if (
        not path
        or pure.is_absolute()
        or ".." in pure.parts
        or "\\" in path
        or CONTROL_CHARS.search(path)
    ):
        raise UnsafeSourceError(
            f"app path {path!r} must be relative and stay inside the repository"
        )
