"""Secret values never leak: masks for Secret ``data``/``stringData`` in objects, diffs, text.

Masks are constants, never hashes of the value (a hash of a short password is a leak). A
pair of objects is masked consistently, like Argo CD does, so that a diff still shows that
a key changed: equal values share :data:`MASK`, differing values get :data:`MASK_LIVE` and
:data:`MASK_DESIRED`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from gitops_nb.model import FieldChange, ObjectRef

MASK = "***"
MASK_LIVE = "*** (live)"
MASK_DESIRED = "*** (desired)"
MASKS = frozenset({MASK, MASK_LIVE, MASK_DESIRED})

SECRET_FIELDS = ("data", "stringData")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

E = TypeVar("E", bound=BaseException)


def is_secret(obj_or_ref: ObjectRef | Mapping[str, Any] | None) -> bool:
    """True for a core ``v1`` Secret (object dict or :class:`ObjectRef`)."""
    if obj_or_ref is None:
        return False
    if isinstance(obj_or_ref, ObjectRef):
        return obj_or_ref.kind == "Secret" and obj_or_ref.api_version == "v1"
    return obj_or_ref.get("kind") == "Secret" and obj_or_ref.get("apiVersion") == "v1"


def _drop_last_applied(obj: dict[str, Any]) -> None:
    # The annotation holds the whole applied Secret, values included.
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict) and LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = MASK


def mask_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Deep copy; for a Secret every ``data``/``stringData`` value becomes :data:`MASK`."""
    out = copy.deepcopy(dict(obj))
    if not is_secret(out):
        return out
    for name in SECRET_FIELDS:
        if name in out:
            values = out[name]
            out[name] = {k: MASK for k in values} if isinstance(values, Mapping) else MASK
    _drop_last_applied(out)
    return out


def _mask_field(live: Any, desired: Any) -> tuple[Any, Any]:
    if not isinstance(live, Mapping) or not isinstance(desired, Mapping):
        return (
            None if live is None else _mask_whole(live),
            None if desired is None else _mask_whole(desired),
        )
    live_out: dict[str, str] = {}
    desired_out: dict[str, str] = {}
    for key in live:
        same = key in desired and desired[key] == live[key]
        live_out[key] = MASK if same or key not in desired else MASK_LIVE
    for key in desired:
        same = key in live and live[key] == desired[key]
        desired_out[key] = MASK if same or key not in live else MASK_DESIRED
    return live_out, desired_out


def _mask_whole(value: Any) -> Any:
    return {k: MASK for k in value} if isinstance(value, Mapping) else MASK


def mask_pair(
    live: Mapping[str, Any] | None, desired: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Mask two versions of one object so a diff shows *which* keys changed, not values."""
    live_out = copy.deepcopy(dict(live)) if live is not None else None
    desired_out = copy.deepcopy(dict(desired)) if desired is not None else None
    if not (is_secret(live_out) or is_secret(desired_out)):
        return live_out, desired_out
    for name in SECRET_FIELDS:
        lv = live_out.get(name) if live_out is not None else None
        dv = desired_out.get(name) if desired_out is not None else None
        masked_live, masked_desired = _mask_field(lv, dv)
        if live_out is not None and name in live_out:
            live_out[name] = masked_live
        if desired_out is not None and name in desired_out:
            desired_out[name] = masked_desired
    for obj in (live_out, desired_out):
        if obj is not None:
            _drop_last_applied(obj)
    return live_out, desired_out


def is_secret_path(path: str) -> bool:
    """True for a field path inside a Secret's ``data``/``stringData`` (or the block itself)."""
    return any(path == f or path.startswith((f"{f}.", f"{f}[")) for f in SECRET_FIELDS)


def _mask_value(value: Any, other: Any, side_mask: str) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        other_map = other if isinstance(other, Mapping) else {}
        return {k: _mask_value(v, other_map.get(k), side_mask) for k, v in value.items()}
    if isinstance(value, str) and value in MASKS:
        return value  # already masked upstream
    return MASK if other is None or other == value else side_mask


def mask_change(ref: ObjectRef, change: FieldChange) -> FieldChange:
    """Mask the values of a change to a Secret's ``data``/``stringData``; others unchanged."""
    if not is_secret(ref) or not is_secret_path(change.path):
        return change
    return replace(
        change,
        live=_mask_value(change.live, change.desired, MASK_LIVE),
        desired=_mask_value(change.desired, change.live, MASK_DESIRED),
    )


def secret_values(obj: Mapping[str, Any] | None) -> list[str]:
    """Every scalar leaf of a Secret's ``data`` and ``stringData``, for :func:`scrub_text`.

    Values should be strings, but a nested mapping or list (``token: {nested: S3CR3T}``) is
    echoed by the API server's error text, so each leaf is collected, in the spellings a
    Go or JSON message would use (``12345``, ``true``/``True``).
    """
    if not is_secret(obj) or obj is None:
        return []
    out: list[str] = []
    for name in SECRET_FIELDS:
        values = obj.get(name)
        if values is not None:
            for leaf in scalar_leaves(values):
                if isinstance(leaf, str):
                    out.append(leaf)
                else:
                    out.extend({str(leaf), json.dumps(leaf)})
    return out


def scalar_leaves(value: Any) -> Iterator[Any]:
    """Every non-None scalar inside nested mappings, lists and tuples, depth first."""
    if isinstance(value, Mapping):
        for v in value.values():
            yield from scalar_leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from scalar_leaves(v)
    elif value is not None:
        yield value


def scrub_error(err: E, secrets: Iterable[str]) -> E:
    """``err`` with the known secret values scrubbed from its message, for re-raising."""
    values = list(secrets)
    if values:
        err.args = tuple(scrub_text(a, values) if isinstance(a, str) else a for a in err.args)
    return err


def _forms(secret: str) -> set[str]:
    raw = secret.encode()
    forms = {secret}
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = enc.decode("ascii")
        forms.update({text, text.rstrip("=")})
    try:
        # A Secret's ``data`` value is base64: its plain form may be what leaks.
        decoded = base64.b64decode(secret, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if all(ch.isprintable() or ch in "\n\r\t" for ch in decoded):
        forms.add(decoded)
    forms.discard("")
    return forms


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret value (plain, base64, or decoded from base64) with MASK.

    A last line of defence for logs and error messages; longer forms are replaced first so a
    value inside another value is not half-masked.
    """
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms |= _forms(secret)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text
