"""One object identity is defined once, judged after namespaces are defaulted.

The render stage can only compare identities as written. ``namespace: X`` in one file and
no namespace in another are the same object when X is the default namespace (and any
namespace on a cluster-scoped object is dropped), so the check runs again on the resolved
set, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_nb.engine.desired import Desired
from gitops_nb.errors import RenderError
from gitops_nb.model import Manifest


def refuse_duplicates(resolved: Sequence[Desired]) -> None:
    """Raise :class:`RenderError` naming both file:line when two resolve to one object."""
    seen: dict[tuple[str, str, str, str], Manifest] = {}
    for d in resolved:
        first = seen.setdefault(d.ref.key, d.manifest)
        if first is not d.manifest:
            raise RenderError(
                d.manifest.location,
                f"duplicate object {d.ref}: also defined at {first.location} "
                "(identical once the default namespace is filled in)",
            )
