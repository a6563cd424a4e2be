"""Formatting of records for the terminal: table, JSON, YAML, Markdown. No logic here.

Values come from the cluster and may be hostile: table cells are :class:`~rich.text.Text`
(never read as Rich markup) and Markdown goes through :mod:`gitops_nb.escaping`, like the
Markdown report.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gitops_nb.attribution import changed_by, commit_keys, object_changed_by, revision_text
from gitops_nb.escaping import markdown, markdown_table
from gitops_nb.model import (
    Action,
    Cause,
    ChangeSet,
    DiffStatus,
    Health,
    ObjectRef,
    ResourceDiff,
    Revision,
)

if TYPE_CHECKING:
    from gitops_nb.engine.wait import HealthReport


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cause(cause: Cause | None) -> str:
    return str(cause) if cause is not None else ""


def _health_cell(h: Health | None) -> str:
    return f"{h.status} {h.reason}".strip() if h is not None else ""


def diff_document(
    app: str,
    revision: Revision | None,
    diffs: Sequence[ResourceDiff],
    health: Mapping[ObjectRef, Health] | None = None,
) -> dict[str, Any]:
    """The ``diff -o json`` contract: {app, revision, resources: [...]}; with ``health``
    each resource has ``"health": {"status", "reason", "message"}`` (null if not read).
    A resource or change whose cause is ``git`` or ``both`` also has ``commit`` and
    ``author``: the commit the desired state comes from."""
    resources = []
    for d in diffs:
        doc = {**d.to_dict(), **commit_keys(d.cause, revision)}
        doc["changes"] = [
            {**c.to_dict(), **commit_keys(c.cause, revision)} for c in d.changes
        ]  # Git-caused changes name their commit and author
        if health is not None:
            h = health.get(d.ref)
            doc["health"] = h.to_dict() if h is not None else None
        resources.append(doc)
    return {"app": app, "revision": revision.commit if revision else None, "resources": resources}


def write_plain(console: Console, text: str) -> None:
    """``text`` to the console's file as it is: machine-readable output needs no styling,
    and going through Rich's renderer costs seconds for thousands of objects."""
    console.file.write(text)
    console.file.flush()


def write_json(console: Console, doc: object) -> None:
    """Indented JSON, non-ASCII kept as it is (as Rich's ``print_json`` printed it); control
    characters are escaped by the encoder, so values cannot drive the terminal."""
    write_plain(console, json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")


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
        write_json(console, doc)
    elif fmt == "yaml":
        write_plain(console, yaml.safe_dump(doc, sort_keys=False))
    elif fmt == "markdown":
        text = diff_markdown(app, revision, diffs, health)
        console.print(text, end="", markup=False, highlight=False)
    else:
        console.print(diff_table(app, revision, diffs, health))
        for d in diffs:
            if d.diff_text and d.status.is_drift:
                console.print(d.diff_text, markup=False, highlight=False, end="")


_DELETED = "deleted by hand (manager unknown)"


def _deleted_by_hand(d: ResourceDiff) -> bool:
    """A Missing object this app applied before: a deletion leaves no manager to name."""
    return d.status is DiffStatus.MISSING and d.cause in (Cause.CLUSTER, Cause.BOTH)


def diff_rows(
    diffs: Sequence[ResourceDiff], *, with_time: bool, revision: Revision | None = None
) -> Iterator[tuple[ResourceDiff, tuple[str, ...]]]:
    """One row per changed field (one per object without changes): status, cause, object,
    field, live, git, changed by (with the time of the change when ``with_time``). A change
    Git caused is "changed by" the commit of ``revision`` and its author, never by us."""
    by = revision_text(revision)
    for d in diffs:
        if not d.changes:
            who = d.error or (_DELETED if _deleted_by_hand(d) else object_changed_by(d.cause, by))
            yield d, (str(d.status), _cause(d.cause), str(d.ref), "", "", "", who)
        for c in d.changes:
            when = f", {c.time_text}" if with_time else ""
            hand = f"{c.changed_by} ({c.operation}{when})" if c.manager else c.changed_by
            who = changed_by(c, by, hand)
            yield (
                d,
                (
                    str(d.status),
                    _cause(c.cause or d.cause),
                    str(d.ref),
                    c.path,
                    _short(c.live),
                    _short(c.desired),
                    who,
                ),
            )


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
    for d, cells in diff_rows(diffs, with_time=True, revision=revision):
        if health is None:
            _row(table, *cells)
        else:
            _row(table, cells[0], _health_cell(health.get(d.ref)), *cells[1:])
    return table


def _row(table: Table, *cells: str) -> None:
    """Cells as plain text: a value like ``[/x]`` or ``[red]`` is shown, never interpreted."""
    table.add_row(*(Text(cell) for cell in cells))


def diff_markdown(
    app: str,
    revision: Revision | None,
    diffs: Sequence[ResourceDiff],
    health: Mapping[ObjectRef, Health] | None = None,
) -> str:
    """A GitHub-flavoured Markdown table; every cell escaped as ``report --format markdown``
    escapes it (so ``</td><script>`` in a value stays text). With ``health`` (what ``diff``
    read), a health column after the status, as in the table output."""
    rev = revision.commit[:12] if revision else "-"
    header: tuple[str, ...] = ("status", "cause", "object", "field", "live", "git", "changed by")
    pairs = list(diff_rows(diffs, with_time=False, revision=revision))
    rows = [cells for _, cells in pairs]
    if health is not None:
        header = (header[0], "health", *header[1:])
        rows = [(c[0], _health_cell(health.get(d.ref)), *c[1:]) for d, c in pairs]
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
    changes: ChangeSet,
    fmt: str,
    console: Console,
    *,
    dry_run: bool,
    verbose: bool = False,
    health: HealthReport | None = None,
) -> None:
    """JSON: the whole ChangeSet. Table: the objects that changed (every one with
    ``verbose``; with ``health`` from ``apply --wait`` also every one not Current, in a
    HEALTH column), then the run's health and the summary line."""
    objects = health.objects if health is not None else {}
    if fmt == "json":
        doc = {**changes.to_dict(), "dryRun": dry_run}
        if health is not None:
            for entry in doc["entries"]:
                h = objects.get(ObjectRef.from_dict(entry))
                entry["health"] = h.to_dict() if h is not None else None
            doc["health"] = str(health.health)
            doc["healthyAt"] = health.healthy_at
        write_json(console, doc)
        return

    def shown(ref: ObjectRef, action: Action) -> bool:
        h = objects.get(ref)
        unhealthy = h is not None and not h.status.is_healthy
        return verbose or unhealthy or action is not Action.UNCHANGED

    entries = [e for e in changes.entries if shown(e.ref, e.action)]
    if entries:
        title = "ChangeSet (dry run: nothing written)" if dry_run else "ChangeSet"
        table = Table(title=title, title_justify="left")
        cols = ["ACTION", "OBJECT", "ERROR"]
        if health is not None:
            cols.insert(2, "HEALTH")
        for col in cols:
            table.add_column(col, overflow="fold")
        for e in entries:
            cells = [str(e.action), str(e.ref), e.error or ""]
            if health is not None:
                cells.insert(2, _health_cell(objects.get(e.ref)))
            _row(table, *cells)
        console.print(table)
    if health is not None:
        console.print(f"health: {health.health}", markup=False, highlight=False)
    console.print(changeset_summary(changes, dry_run=dry_run), markup=False, highlight=False)
