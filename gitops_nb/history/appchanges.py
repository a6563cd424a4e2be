"""An app's Git history as DataFrames: the commits that changed its render, and how.

``commits`` and ``resource_changes`` take one path and pick the renderer themselves, as
``render`` does: a Kustomize app is rendered from everything it renders from (see
:mod:`gitops_nb.history.follow`), a plain directory is read file by file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gitops_nb.config import VerifySettings
from gitops_nb.history.follow import AppHistory
from gitops_nb.history.frames import frame, to_utc
from gitops_nb.history.gitlog import (
    CHANGE_COLUMNS,
    COMMIT_COLUMNS,
    Renderer,
    _open,
    reverted_commit,
)
from gitops_nb.model import Signature
from gitops_nb.source.helm import ChartContext
from gitops_nb.source.verify import signatures


def commits(
    repo: Path | str,
    ref: str = "HEAD",
    path: str = ".",
    renderer: Renderer | None = None,
    verify: VerifySettings | None = None,
    chart: ChartContext | None = None,
) -> pd.DataFrame:
    """One row per commit that touched what the app renders from, newest first.

    ``effect`` is ``changed`` when the rendered objects changed, ``none`` when the commit
    touched the app's files without changing its objects (a comment, a no-op edit), and
    ``error`` when the app did not render at that commit. ``reverts`` is the reverted commit.
    For a plain directory the rows are exactly ``git log REF -- DIR``.

    ``signature_*`` say whether each commit is signed (``gpg``, ``ssh``, ``x509``, ``none``);
    with ``verify`` keys, whether one of them vouches for it, by which key and signer, and
    ``signature_reason`` why not (``Signature.reason``: ``unknown-key``, ``bad-signature``…).
    Unsigned or unverified commits in a window are an audit finding in themselves.

    ``chart`` renders a Helm chart as the reconciler does (its release name and namespace);
    by default the release is named after the chart's directory, in namespace ``default``.
    """
    r = _open(repo)
    try:
        effects = AppHistory(r, ref, path, renderer, chart).effects()
        sigs = signatures(Path(r.git_dir), [e.commit.commit for e in effects], verify)
    finally:
        r.close()
    rows: list[dict[str, Any]] = []
    for e in effects:
        c = e.commit
        reverts = reverted_commit(c.message)
        rows.append(
            {
                "commit": c.commit,
                "short": c.commit[:7],
                "author": c.author,
                "email": c.email,
                "time": to_utc(c.time),
                "message": c.message,
                "subject": c.subject,
                "files": list(c.files),
                "n_files": len(c.files),
                "is_revert": reverts is not None or c.subject.startswith('Revert "'),
                "reverts": reverts,
                "effect": e.effect,
                **_signature_columns(sigs.get(c.commit)),
            }
        )
    return frame(rows, COMMIT_COLUMNS)


def _signature_columns(sig: Signature | None) -> dict[str, Any]:
    sig = sig or Signature("none")
    return {
        "signature_type": sig.type,
        "signature_verified": sig.verified,
        "signature_fingerprint": sig.fingerprint,
        "signature_signer": sig.signer,
        "signature_reason": sig.reason,
    }


def resource_changes(
    repo: Path | str,
    ref: str = "HEAD",
    path: str = ".",
    renderer: Renderer | None = None,
    chart: ChartContext | None = None,
) -> pd.DataFrame:
    """One row per commit × object added / modified / removed by the app's render.

    ``fields`` lists the changed field paths of a modified object. A commit whose render
    fails gives one row with ``change == "error"`` and the message in ``error``; its objects
    are left out of that commit's comparison, and the fixing commit is compared with the
    last state that rendered, so a breakage never shows as removals and its fix never as
    additions. ``renderer(commit, tree_id)`` replaces Kustomize (for tests and other tools);
    ``chart`` as in :func:`commits`.
    """
    r = _open(repo)
    try:
        effects = AppHistory(r, ref, path, renderer, chart).effects()
    finally:
        r.close()
    return frame([row for e in effects for row in e.rows], CHANGE_COLUMNS)
