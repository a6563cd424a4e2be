"""Git inputs checked before any file or process is touched: URLs, refs and app paths.

URLs, refs and paths that could run commands (``ext::``, ``--upload-pack=``), act as
options or revision expressions, or escape the checkout are refused with
:class:`~gitops_nb.errors.UnsafeSourceError`. Every module that hands a ref or URL to git
(fetching, ``git log`` for history) checks it here.

Allowed sources: local paths, ``file://``, ``https://``, ``ssh://`` and scp-style
``user@host:path``. Plain ``http://`` and ``git://`` are refused: they would send
credentials and content unprotected.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from gitops_nb.errors import UnsafeSourceError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_TRANSPORT = re.compile(r"^[A-Za-z0-9+.-]+::")
_SCP = re.compile(r"^(?:[^@/:\s]+@)?(\[[0-9A-Fa-f:.]+\]|[^@/:\s\[]+):(.*)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


def redact_url(url: str) -> str:
    """``url`` with any ``user[:password]@`` removed, for messages."""
    return _USERINFO.sub(r"\1", url)


def validate_url(url: str) -> None:
    """Refuse URLs that could run commands, use unsafe transports or embed a password."""
    shown = redact_url(url)
    if not url or url.strip() != url or _CONTROL.search(url):
        raise UnsafeSourceError(f"git URL {shown!r}: empty, padded or has control characters")
    if url.startswith("-"):
        raise UnsafeSourceError(f"git URL {shown!r} looks like an option")
    if _TRANSPORT.match(url) or "::" in url:
        raise UnsafeSourceError(f"git URL {shown!r}: transport::address URLs are not allowed")
    scheme = _SCHEME.match(url)
    if scheme:
        name = scheme.group(1).lower()
        if name not in ("file", "https", "ssh"):
            raise UnsafeSourceError(
                f"git URL {shown!r}: scheme {name!r} not allowed (use https, ssh or file)"
            )
        try:
            # urlsplit and its properties raise ValueError on e.g. ``https://[x`` or a bad port.
            parts = urlsplit(url)
            password, hostname, _port = parts.password, parts.hostname, parts.port
        except ValueError as e:
            raise UnsafeSourceError(f"git URL {shown!r} is malformed: {e}") from None
        if password is not None:
            raise UnsafeSourceError(
                f"git URL {shown!r} embeds a password; use a credentials file instead"
            )
        if name != "file" and (not hostname or hostname.startswith("-")):
            raise UnsafeSourceError(f"git URL {shown!r}: missing or invalid host")
        return
    scp = _SCP.match(url)
    if scp and not re.match(r"^[A-Za-z]:[\\/]", url):
        host, path = scp.groups()
        if host.startswith("-") or path.startswith("-") or not path:
            raise UnsafeSourceError(f"git URL {shown!r}: invalid host or path")


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
        or _CONTROL.search(ref) is not None
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
        or _CONTROL.search(path)
    ):
        raise UnsafeSourceError(
            f"app path {path!r} must be relative and stay inside the repository"
        )


def is_local_url(url: str) -> bool:
    """True for a local path (no ``scheme://`` and not scp-style ``host:path``)."""
    return not _SCHEME.match(url) and not (_SCP.match(url) and not url.startswith(("/", ".")))
