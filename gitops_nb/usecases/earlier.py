"""Render an earlier commit of an app, for the cause of a difference (both at once).

:class:`gitops_nb.engine.cause.Prior` asks for the last record's commit only when a hand
change and a commit may have met on one field between two runs; see
:mod:`gitops_nb.engine.cause`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops_nb.errors import GitOpsError
from gitops_nb.model import Manifest
from gitops_nb.source import SourceSpec, render
from gitops_nb.source.git import checkout_at
from gitops_nb.source.helm import ChartContext

Warn = Callable[[str, str], None]
"""``warn(commit, error)``: the earlier commit could not be rendered."""


def earlier_renderer(
    spec: SourceSpec, cache_dir: Path, chart: ChartContext | None, warn: Warn
) -> Callable[[str], list[Manifest] | None]:
    """``render(commit)``: that commit's manifests from the mirror, or None (warned) when the
    mirror no longer holds it or it does not render: the field's cause then stays the
    cluster's."""

    def render_at(commit: str) -> list[Manifest] | None:
        try:
            return render(checkout_at(spec, cache_dir, commit), spec.path, chart=chart)
        except GitOpsError as e:
            warn(commit, str(e))
            return None

    return render_at
