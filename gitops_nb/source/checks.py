"""Checks on one manifest that the API server would fail, or fail leakily, after sending.

Run before the first request, so the error names file:line and nothing reaches the server
(or its error text, which echoes what it was sent).
"""

from __future__ import annotations

import base64
import binascii
import json

from gitops_nb.errors import RenderError
from gitops_nb.model import Manifest

SECRET_FIELDS = ("data", "stringData")
#: Largest object accepted, serialised as JSON: etcd's default request limit (1.5 MiB).
#: A larger object cannot be stored, and a far larger one ends in a reset connection that
#: would read as an outage (exit 3) rather than a bad commit.
MAX_MANIFEST_BYTES = 1536 * 1024


def check_manifest(m: Manifest) -> None:
    """Raise :class:`RenderError` at ``m.location`` for a manifest that must not be sent."""
    size = len(json.dumps(m.obj, separators=(",", ":"), default=str).encode())
    if size > MAX_MANIFEST_BYTES:
        raise RenderError(
            m.location,
            f"object is {size // 1024} KiB as JSON; the limit is {MAX_MANIFEST_BYTES // 1024} "
            "KiB (etcd's request size): split it or move the data out of Git",
        )
    if m.obj.get("kind") == "Secret" and m.obj.get("apiVersion") == "v1":
        _check_secret(m)


def _what(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else f"a {type(value).__name__}"


def _check_secret(m: Manifest) -> None:
    name = (m.obj.get("metadata") or {}).get("name", "")
    for field in SECRET_FIELDS:
        values = m.obj.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise RenderError(m.location, f"Secret/{name}: {field} must be a mapping of strings")
        for key, value in values.items():
            if not isinstance(value, str):
                # Never quote the value: the server's error would, and that is the leak.
                raise RenderError(
                    m.location,
                    f"Secret/{name}: {field}.{key} must be a string, got {_what(value)} "
                    "(quote it; nested values are not allowed)",
                )
            if field == "data" and not _is_base64(value):
                raise RenderError(
                    m.location,
                    f"Secret/{name}: data.{key} is not valid base64 (use stringData for plain "
                    "text)",
                )


def _is_base64(value: str) -> bool:
    # As the API server decodes []byte: standard alphabet with padding; line breaks ignored.
    try:
        base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
