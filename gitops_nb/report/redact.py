"""Defensive Secret masking for reports.

Diffs and records are masked upstream; reports mask again because a report is the output
most likely to be mailed around. Changes go through :func:`gitops_nb.masking.mask_change`,
Secret diff text has its ``data``/``stringData`` values replaced line by line, and any raw
value still known from the changes is scrubbed from the text (plain, base64 and decoded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from gitops_nb.masking import (
    LAST_APPLIED,
    MASK,
    MASK_DESIRED,
    MASK_LIVE,
    MASKS,
    SECRET_FIELDS,
    is_secret,
    is_secret_path,
    mask_change,
    mask_object,
    scalar_leaves,
    scrub_text,
)
from gitops_nb.model import FieldChange, ObjectRef

# a changed value stays visible as changed, like ``mask_pair`` does, without showing it
_SIDE_MASK = {" ": MASK, "-": MASK_LIVE, "+": MASK_DESIRED}
# ``  key: value`` inside a top-level block of yaml.safe_dump output (2-space indent)
_ENTRY = re.compile(r"^(  )([^ :][^:]*):(\s*)(.*)$")


def _leaves(value: Any) -> Iterable[str]:
    """The Secret leaves of ``value`` as text, masks and empty strings left out."""
    for leaf in scalar_leaves(value):
        text = str(leaf)
        if text and text not in MASKS:
            yield text


def raw_secrets(ref: ObjectRef, changes: Iterable[FieldChange]) -> list[str]:
    """Raw Secret values a (possibly unmasked) change list carries, for :func:`scrub_text`."""
    if not is_secret(ref):
        return []
    out: list[str] = []
    for c in changes:
        if is_secret_path(c.path) or c.path == "" or LAST_APPLIED in c.path:
            out.extend(_leaves(c.live))
            out.extend(_leaves(c.desired))
    return out


def safe_change(ref: ObjectRef, change: FieldChange) -> FieldChange:
    """``mask_change`` plus the cases it leaves alone: last-applied and whole-object values."""
    if not is_secret(ref):
        return change
    if LAST_APPLIED in change.path:
        return replace(
            change,
            live=None if change.live is None else MASK,
            desired=None if change.desired is None else MASK,
        )
    if change.path == "":
        return replace(change, live=_whole(change.live), desired=_whole(change.desired))
    return mask_change(ref, change)


def _whole(value: Any) -> Any:
    if isinstance(value, Mapping):
        return mask_object(value)
    return None if value is None else MASK


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def mask_secret_diff(text: str) -> str:
    """Mask every value under top-level ``data:``/``stringData:`` in a unified YAML diff."""
    out: list[str] = []
    block = ""
    annotation_indent = -1  # inside a (possibly wrapped) last-applied value when >= 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        if not body or body.startswith(("---", "+++", "@@")) or body[0] not in " +-":
            out.append(line)
            continue
        prefix, content = body[0], body[1:]
        indent = len(content) - len(content.lstrip(" "))
        if annotation_indent >= 0 and indent > annotation_indent and content.strip():
            out.append(prefix + " " * indent + MASK + line[len(body) :])
            continue
        annotation_indent = -1
        if content and not content.startswith(" "):
            block, _, rest = content.partition(":")
            if block in SECRET_FIELDS and rest.strip() not in ("", "{}"):
                content = f"{block}: {MASK}"  # a flow-style or scalar value on the key line
        elif block in SECRET_FIELDS and content.strip():
            entry = _ENTRY.match(content)
            if entry is None:
                content = f"    {_SIDE_MASK[prefix]}"  # continuation of a block scalar
            elif entry.group(4) and _unquote(entry.group(4)) not in MASKS:
                content = f"{entry.group(1)}{entry.group(2)}: {_SIDE_MASK[prefix]}"
        elif LAST_APPLIED in content:
            content = content.split(LAST_APPLIED, 1)[0] + f"{LAST_APPLIED}: {MASK}"
            annotation_indent = indent
        out.append(prefix + content + line[len(body) :])
    return "".join(out)


def safe_text(ref: ObjectRef, text: str, secrets: Iterable[str] = ()) -> str:
    """Diff or error text of ``ref`` with Secret values masked and known values scrubbed."""
    if not text:
        return text
    if is_secret(ref):
        text = mask_secret_diff(text)
    known = [s for s in secrets if s]
    return scrub_text(text, known) if known else text


def safe_intervals(intervals: pd.DataFrame | None) -> pd.DataFrame | None:
    """Mask every value column of Secret data episodes in a timeline frame."""
    if intervals is None or intervals.empty:
        return intervals
    secret = (
        (intervals["kind"] == "Secret")
        & (intervals["api_version"] == "v1")
        & intervals["path"].map(lambda p: is_secret_path(str(p)) or LAST_APPLIED in str(p))
    )
    if not bool(secret.any()):
        return intervals
    out = intervals.copy()
    idx = out.index[secret]
    for col in ("desired_at_start", "desired_at_end", "live"):
        if col in out.columns:
            out.loc[idx, col] = [None if v is None else MASK for v in out.loc[idx, col]]
    out["live_values"] = [
        [MASK for _ in values] if flag else values
        for values, flag in zip(out["live_values"], secret, strict=True)
    ]
    return out
