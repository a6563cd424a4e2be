"""Git URLs checked before any file, process or API call: :func:`validate_url`.

URLs that could run commands (``ext::``, ``--upload-pack=``), act as options, use an
unprotected transport or embed a password are refused with
:class:`~gitops_nb.errors.UnsafeSourceError`. A core module, so that the config refuses a
bad ``repo:`` when it loads, before the reconciler takes a Lease; every module that hands a
URL to git checks it here too (through :mod:`gitops_nb.source.validation`).

Allowed sources: local paths, ``file://``, ``https://``, ``ssh://`` and scp-style
``user@host:path``. Plain ``http://`` and ``git://`` are refused: they would send
credentials and content unprotected.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from gitops_nb.errors import UnsafeSourceError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_TRANSPORT = re.compile(r"^[A-Za-z0-9+.-]+::")
_SCP = re.compile(r"^(?:[^@/:\s]+@)?(\[[0-9A-Fa-f:.]+\]|[^@/:\s\[]+):(.*)$")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


def redact_url(url: str) -> str:
    """``url`` with any ``user[:password]@`` removed, for messages."""
    return _USERINFO.sub(r"\1", url)


def validate_url(url: str) -> None:
    """Refuse URLs that could run commands, use unsafe transports or embed a password."""
    shown = redact_url(url)
    if not url or url.strip() != url or CONTROL_CHARS.search(url):
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


def is_local_url(url: str) -> bool:
    """True for a local path (no ``scheme://`` and not scp-style ``host:path``)."""
    return not _SCHEME.match(url) and not (_SCP.match(url) and not url.startswith(("/", ".")))
