"""Formatting of records for the terminal: table, JSON, YAML, Markdown. No logic here.

Values come from the cluster and may be hostile: table cells are :class:`~rich.text.Text`
(never read as Rich markup) and Markdown goes through :mod:`gitops_nb.escaping`, like the
Markdown report.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gitops_nb.escaping import markdown, markdown_table
from gitops_nb.model import Action, Cause, ChangeSet, DiffStatus, ResourceDiff, Revision


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cause(cause: Cause | None) -> str:
    return str(cause) if cause is not None else ""


def diff_document(
    app: str, revision: Revision | None, diffs: Sequence[ResourceDiff]
) -> dict[str, Any]:
    """The ``diff -o json`` contract: {app, revision, resources: [...]}."""
    return {
        "app": app,
        "revision": revision.commit if revision else None,
        "resources": [d.to_dict() for d in diffs],
    }


def render_diff(
    app: str,
    revision: Revision | None,
    diffs: Sequence[ResourceDiff],
    fmt: str,
    console: Console,
) -> None:
    doc = diff_document(app, revision, diffs)
    if fmt == "json":
        console.print_json(json.dumps(doc, default=str), indent=2, highlight=False)
    elif fmt == "yaml":
        console.print(yaml.safe_dump(doc, sort_keys=False), end="", markup=False, highlight=False)
    elif fmt == "markdown":
        console.print(diff_markdown(app, revision, diffs), end="", markup=False, highlight=False)
    else:
        console.print(diff_table(app, revision, diffs))
        for d in diffs:
            if d.diff_text and d.status.is_drift:
                console.print(d.diff_text, markup=False, highlight=False, end="")


def diff_table(app: str, revision: Revision | None, diffs: Sequence[ResourceDiff]) -> Table:
    rev = revision.commit[:12] if revision else "-"
    table = Table(title=Text(f"{app} @ {rev}"), title_justify="left")
    for col in ("STATUS", "CAUSE", "OBJECT", "FIELD", "LIVE", "GIT", "CHANGED BY"):
        table.add_column(col, overflow="fold")
    for d in diffs:
        if not d.changes:
            _row(table, str(d.status), _cause(d.cause), str(d.ref), "", "", "", d.error or "")
        for c in d.changes:
            who = f"{c.changed_by} ({c.operation}, {c.time_text})" if c.manager else c.changed_by
            _row(
                table,
                str(d.status),
                _cause(c.cause or d.cause),
                str(d.ref),
                c.path,
                _short(c.live),
                _short(c.desired),
                who,
            )
    return table


def _row(table: Table, *cells: str) -> None:
    """Cells as plain text: a value like ``[/x]`` or ``[red]`` is shown, never interpreted."""
    table.add_row(*(Text(cell) for cell in cells))


def diff_markdown(app: str, revision: Revision | None, diffs: Sequence[ResourceDiff]) -> str:
    """A GitHub-flavoured Markdown table; every cell escaped as ``report --format markdown``
    escapes it (so ``</td><script>`` in a value stays text)."""
    rev = revision.commit[:12] if revision else "-"
    rows: list[tuple[str, ...]] = []
    for d in diffs:
        if not d.changes:
            rows.append(
                (str(d.status), _cause(d.cause), str(d.ref), "", "", "", _short(d.error or ""))
            )
        for c in d.changes:
            who = f"{c.changed_by} ({c.operation})" if c.manager else c.changed_by
            rows.append(
                (
                    str(d.status),
                    _cause(c.cause or d.cause),
                    str(d.ref),
                    c.path,
                    _short(c.live),
                    _short(c.desired),
                    who,
                )
            )
    header = ("status", "cause", "object", "field", "live", "git", "changed by")
    lines = [f"### gitops-nb diff: {markdown(app)} @ {markdown(rev)}", ""]
    return "\n".join([*lines, *markdown_table(header, rows)]) + "\n"


def diff_summary(diffs: Sequence[ResourceDiff]) -> str:
    """The closing line of ``diff``: ``1,995 in sync, 5 drifted, 1 missing``."""
    counts = Counter(d.status for d in diffs)
    order = [s for s in DiffStatus if counts[s]]
    return ", ".join(f"{counts[s]:,} {_STATUS_WORDS.get(s, str(s).lower())}" for s in order) or (
        "no objects"
    )


_STATUS_WORDS = {DiffStatus.IN_SYNC: "in sync", DiffStatus.ERROR: "errors"}


def changeset_summary(changes: ChangeSet, *, dry_run: bool) -> str:
    """``2,000 objects: 1 configured, 1,999 unchanged`` (``would be`` in a dry run)."""
    counts = {k: v for k, v in changes.counts().items() if v}
    total = sum(counts.values())
    if not total:
        return "nothing to do"
    parts = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    return f"{total:,} objects{' (dry run: nothing written)' if dry_run else ''}: {parts}"


def render_changeset(
    changes: ChangeSet, fmt: str, console: Console, *, dry_run: bool, verbose: bool = False
) -> None:
    """JSON: the whole ChangeSet. Table: the objects that changed (every one with
    ``verbose``), then the summary line."""
    if fmt == "json":
        doc = {**changes.to_dict(), "dryRun": dry_run}
        console.print_json(json.dumps(doc), indent=2, highlight=False)
        return
    shown = [e for e in changes.entries if verbose or e.action is not Action.UNCHANGED]
    if shown:
        title = "ChangeSet (dry run: nothing written)" if dry_run else "ChangeSet"
        table = Table(title=title, title_justify="left")
        for col in ("ACTION", "OBJECT", "ERROR"):
            table.add_column(col, overflow="fold")
        for e in shown:
            _row(table, str(e.action), str(e.ref), e.error or "")
        console.print(table)
    console.print(changeset_summary(changes, dry_run=dry_run), markup=False, highlight=False)
