"""Stable shard selection: an app belongs to shard ``sha256(name) mod N``.

The hash depends only on the app's name, so every pod of an Indexed Job computes the same
split without talking to the others, and an app keeps its shard while the fleet grows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from gitops_nb.errors import ConfigError

INDEX_ENV = "JOB_COMPLETION_INDEX"


def shard_of(name: str, shards: int) -> int:
    """The shard (0 … shards-1) that reconciles the app ``name``."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def shard_index(shards: int, environ: Mapping[str, str]) -> int | None:
    """This process's shard from ``JOB_COMPLETION_INDEX``; None when the fleet is one shard.

    More than one shard without an index is refused: reconciling every app in each pod would
    silently multiply the work (the Leases would keep it correct, not cheap).
    """
    if shards == 1:
        return None
    raw = environ.get(INDEX_ENV, "")
    if not raw:
        raise ConfigError(
            f"shards: {shards} needs {INDEX_ENV} (set by an Indexed Job) to pick this pod's shard"
        )
    try:
        index = int(raw)
    except ValueError as e:
        raise ConfigError(f"{INDEX_ENV}: {raw!r} is not an integer") from e
    if not 0 <= index < shards:
        raise ConfigError(f"{INDEX_ENV}: {index} is outside 0..{shards - 1} (shards: {shards})")
    return index
