"""How an app's source is trusted and rendered: the ``verify:`` and ``helm:`` settings.

Plain data, read by the config (:mod:`gitops_nb.config`, which re-exports them) and by the
source adapters that verify signatures and render charts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VerifySettings:
    """``verify:``: only apply commits (or tags) signed by one of these keys."""

    keys: tuple[str, ...] = ()
    """Public key files: armored OpenPGP keys or SSH public keys. Empty: no verification."""
    mode: str = ""
    """``gpg`` or ``ssh``; empty follows from the key files. A set mode refuses other keys."""
    ref: str = "commit"
    """``commit``: the commit's signature decides; ``tag``: the ref must be a signed tag."""

    @property
    def enabled(self) -> bool:
        return bool(self.keys)


@dataclass(frozen=True)
class HelmSettings:
    """``helm:``: how an app path holding a ``Chart.yaml`` is rendered."""

    release_name: str = ""
    """Release name (default: the app name)."""
    values_files: tuple[str, ...] = ()
    """Values files, relative to the repository root; must stay inside the checkout."""
    values: str = ""
    """The config's ``values:`` mapping as YAML, passed after the values files."""
    set: tuple[str, ...] = ()
    """``key=value`` overrides in helm's ``--set`` syntax (``--set`` on the CLI), passed last."""
    include_crds: bool = True
    """Render the chart's ``crds/`` directory."""


__all__ = ["HelmSettings", "VerifySettings"]
