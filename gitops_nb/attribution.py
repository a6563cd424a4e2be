"""Who made a difference: the manager for drift, the commit (and author) for Git's changes.

Our own field manager is never shown as responsible for a change Git made: a ``git``-caused
change names the commit that the desired state comes from, and its author when known; a
``both``-caused one names the hand's manager and the commit. Used by ``diff`` (table,
Markdown, JSON), live and history reports, so every output says the same.
"""

from __future__ import annotations

from typing import Any

from gitops_nb.model import Cause, FieldChange, Revision


def commit_text(commit: str, author: str = "") -> str:
    """``commit 0123456789ab (Alice <a@example.com>)``; "" without a commit."""
    if not commit:
        return ""
    return f"commit {commit[:12]} ({author})" if author else f"commit {commit[:12]}"


def revision_text(revision: Revision | None) -> str:
    return commit_text(revision.commit, revision.author) if revision else ""


def changed_by(change: FieldChange, by: str, hand: str | None = None) -> str:
    """The "changed by" cell of a field change; ``by``: :func:`commit_text` of the commit
    in force ("" when unknown: then the manager is shown, as before); ``hand``: how the
    manager is shown (default :attr:`FieldChange.changed_by`)."""
    who = change.changed_by if hand is None else hand
    if by and change.cause is Cause.GIT:
        return by
    if by and change.cause is Cause.BOTH:
        return f"{who}; Git: {by}"
    return who


def object_changed_by(cause: Cause | None, by: str) -> str:
    """The "changed by" cell of an object without field changes (new or gone): the commit
    when Git caused it, else ""."""
    return by if cause in (Cause.GIT, Cause.BOTH) else ""


def commit_keys(cause: Cause | None, revision: Revision | None) -> dict[str, Any]:
    """The JSON keys a Git-caused difference gains: ``commit`` and ``author`` (none for drift
    or without a revision)."""
    if revision is None or not revision.commit or cause not in (Cause.GIT, Cause.BOTH):
        return {}
    return {"commit": revision.commit, "author": revision.author}
