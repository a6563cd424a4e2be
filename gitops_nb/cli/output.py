"""Formatting of records for the terminal: table, JSON, YAML, Markdown. No logic here.

Values come from the cluster and may be hostile: table cells are :class:`~rich.text.Text`
(never read as Rich markup) and Markdown goes through :mod:`gitops_nb.escaping`, like the
Markdown report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gitops_nb.escaping import markdown, markdown_table
from gitops_nb.model import Cause, ChangeSet, Health, ObjectRef, ResourceDiff, Revision

if TYPE_CHECKING:
    from gitops_nb.engine.wait import HealthReport


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cause(cause: Cause | None) -> str:
    return str(cause) if cause is not None else ""


def diff_document(
    app: str,
    revision: Revision | None,
    diffs: Sequence[ResourceDiff],
    health: Mapping[ObjectRef, Health] | None = None,
) -> dict[str, Any]:
    """The ``diff -o json`` contract: {app, revision, resources: [...]}; with ``health``
    each resource has ``"health": {"status", "reason", "message"}`` (null if not read)."""
    resources = []
    for d in diffs:
        doc = d.to_dict()
        if health is not None:
            h = health.get(d.ref)
            doc["health"] = h.to_dict() if h is not None else None
        resources.append(doc)
    return {"app": app, "revision": revision.commit if revision else None, "resources": resources}


def render_diff(
    app: str,
    revision: Revision | None,
    diffs: Sequence[ResourceDiff],
    fmt: str,
    console: Console,
    health: Mapping[ObjectRef, Health] | None = None,
) -> None:
    doc = diff_document(app, revision, diffs, health)
    if fmt == "json":
        console.print_json(json.dumps(doc, default=str), indent=2, highlight=False)
    elif fmt == "yaml":
        console.print(yaml.safe_dump(doc, sort_keys=False), end="", markup=False, highlight=False)
    elif fmt == "markdown":
        console.print(diff_markdown(app, revision, diffs), end="", markup=False, highlight=False)
    else:
        console.print(diff_table(app, revision, diffs, health))
        for d in diffs:
            if d.diff_text and d.status.is_drift:
                console.print(d.diff_text, markup=False, highlight=False, end="")


def diff_table(
    app: str,
    revision: Revision | None,
    diffs: Sequence[ResourceDiff],
    health: Mapping[ObjectRef, Health] | None = None,
) -> Table:
    rev = revision.commit[:12] if revision else "-"
    table = Table(title=Text(f"{app} @ {rev}"), title_justify="left")
    cols = ["STATUS", "CAUSE", "OBJECT", "FIELD", "LIVE", "GIT", "CHANGED BY"]
    if health is not None:
        cols.insert(1, "HEALTH")
    for col in cols:
        table.add_column(col, overflow="fold")

    def row(d: ResourceDiff, *cells: str) -> None:
        if health is None:
            _row(table, str(d.status), *cells)
        else:
            h = health.get(d.ref)
            _row(table, str(d.status), f"{h.status} {h.reason}".strip() if h else "", *cells)

    for d in diffs:
        if not d.changes:
            row(d, _cause(d.cause), str(d.ref), "", "", "", d.error or "")
        for c in d.changes:
            who = f"{c.changed_by} ({c.operation}, {c.time})" if c.manager else c.changed_by
            row(
                d,
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


def render_changeset(
    changes: ChangeSet,
    fmt: str,
    console: Console,
    *,
    dry_run: bool,
    health: HealthReport | None = None,
) -> None:
    """The ChangeSet; with ``health`` (``apply --wait``) a HEALTH column and the run's health."""
    objects = health.objects if health is not None else {}
    if fmt == "json":
        doc = {**changes.to_dict(), "dryRun": dry_run}
        if health is not None:
            for entry in doc["entries"]:
                h = objects.get(ObjectRef.from_dict(entry))
                entry["health"] = h.to_dict() if h is not None else None
            doc["health"] = str(health.health)
            doc["healthyAt"] = health.healthy_at
        console.print_json(json.dumps(doc), indent=2, highlight=False)
        return
    title = "ChangeSet (dry run: nothing written)" if dry_run else "ChangeSet"
    table = Table(title=title, title_justify="left")
    cols = (
        ("ACTION", "OBJECT", "HEALTH", "ERROR")
        if health is not None
        else ("ACTION", "OBJECT", "ERROR")
    )
    for col in cols:
        table.add_column(col, overflow="fold")
    for e in changes.entries:
        if health is None:
            _row(table, str(e.action), str(e.ref), e.error or "")
        else:
            h = objects.get(e.ref)
            cell = f"{h.status} {h.reason}".strip() if h is not None else ""
            _row(table, str(e.action), str(e.ref), cell, e.error or "")
    console.print(table)
    if health is not None:
        console.print(f"health: {health.health}", markup=False, highlight=False)
    counts = ", ".join(f"{k} {v}" for k, v in changes.counts().items() if v)
    console.print(counts or "nothing to do", markup=False, highlight=False)
