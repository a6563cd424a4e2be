"""Fetch + render: the front half of the pipeline, shared by the CLI, the job and notebooks."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from gitops_nb.binaries import cache_home
from gitops_nb.model import Manifest, Revision
from gitops_nb.source.git import Checkout, SourceSpec, fetch
from gitops_nb.source.helm import ChartContext
from gitops_nb.source.render import render


@dataclass(frozen=True)
class Rendered:
    """A checked-out commit and its validated manifests."""

    checkout: Checkout
    manifests: list[Manifest]

    @property
    def revision(self) -> Revision:
        return self.checkout.revision


def default_cache_dir() -> Path:
    """``$GITOPS_NB_CACHE_DIR`` or ``~/.cache/gitops-nb/git`` (an ``emptyDir`` in the job)."""
    override = os.environ.get("GITOPS_NB_CACHE_DIR")
    if override:
        return Path(override)
    return cache_home() / "git"


def default_app_name(spec: SourceSpec) -> str:
    """The app directory's name (or the repository's), as a DNS-1123 label."""
    base = Path(spec.path).name if spec.path not in ("", ".") else Path(spec.url.rstrip("/")).stem
    name = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")
    return name[:50] or "app"


def fetch_and_render(
    spec: SourceSpec, cache_dir: Path | None = None, chart: ChartContext | None = None
) -> Rendered:
    """Fetch the commit ``spec.ref`` names and render ``spec.path``; validate everything.

    ``chart`` is how a Helm chart at ``spec.path`` is rendered (release, namespace, cluster).
    """
    checkout = fetch(spec, cache_dir or default_cache_dir())
    manifests = render(checkout.root, spec.path, chart=chart)
    return Rendered(checkout, manifests)
