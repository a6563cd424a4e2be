"""Live diffs in a notebook: a table of evaluated objects and each object's diff as HTML.

Every value is HTML-escaped and Secret values are masked again (defence in depth: the
engine masks them already).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

import pandas as pd

from gitops_nb.model import DiffStatus, ResourceDiff
from gitops_nb.notebook.styles import STATUS_COLOURS
from gitops_nb.report.fmt import value_text
from gitops_nb.report.html import diff_line_class
from gitops_nb.report.redact import raw_secrets, safe_change, safe_text

# drift first, then failures, in-sync last: the object picker lists what matters on top
_STATUS_ORDER = {
    DiffStatus.DRIFTED: 0,
    DiffStatus.MISSING: 1,
    DiffStatus.EXTRANEOUS: 2,
    DiffStatus.ERROR: 3,
    DiffStatus.IN_SYNC: 4,
}
DIFF_LINE_STYLES = {
    "head": "color:#57606a; font-weight:600;",
    "hunk": "color:#0550ae;",
    "add": "color:#116329; background:#dafbe1;",
    "del": "color:#82071e; background:#ffebe9;",
    "ctx": "",
}


#: the picker's field table: padded cells, a rule between rows, times on one line
CELL_CSS = (
    "text-align:left; padding:3px 10px; border-bottom:1px solid #e5e8eb;"
    " vertical-align:top; white-space:nowrap;"
)


def diff_table(diffs: Iterable[ResourceDiff]) -> pd.DataFrame:
    """One row per evaluated object: identity, status, cause (``git``: a deployment;
    ``cluster`` / ``both``: drift), differing fields and their managers."""
    rows = []
    for d in diffs:
        managers = sorted({c.manager for c in d.changes if c.manager})
        rows.append(
            {
                "object": str(d.ref),
                "kind": d.ref.kind,
                "namespace": d.ref.namespace,
                "name": d.ref.name,
                "status": str(d.status),
                "cause": str(d.cause) if d.cause is not None else "",
                "fields": len(d.changes),
                "changed by": ", ".join(managers),
                "error": d.error or "",
            }
        )
    columns = [
        *("object", "kind", "namespace", "name", "status", "cause"),
        *("fields", "changed by", "error"),
    ]
    return pd.DataFrame(rows, columns=columns).astype({"fields": "int64"})


def object_choices(diffs: Iterable[ResourceDiff]) -> list[tuple[str, ResourceDiff]]:
    """``(label, diff)`` options for a picker: drifted first, then errors, in-sync last."""
    ordered = sorted(diffs, key=lambda d: (_STATUS_ORDER.get(d.status, 9), str(d.ref)))
    return [(f"[{d.status}] {d.ref}", d) for d in ordered]


def diff_text_html(text: str) -> str:
    """A unified diff as a ``<pre>`` with coloured lines (inline styles; escaped)."""
    spans = []
    for line in text.rstrip("\n").split("\n"):
        css = DIFF_LINE_STYLES[diff_line_class(line)]
        spans.append(f'<span style="display:block; {css}">{escape(line) or " "}</span>')
    return (
        '<pre style="font:12px/1.4 ui-monospace,Menlo,Consolas,monospace; background:#f6f8fa;'
        ' border:1px solid #d0d7de; padding:6px; overflow-x:auto;">' + "".join(spans) + "</pre>"
    )


def render_diff_html(diff: ResourceDiff) -> str:
    """One object's diff as HTML: status, who changed each drifted field, and the diff text.

    Every value is HTML-escaped and Secret values are masked again (defence in depth: the
    engine masks them already).
    """
    ref = diff.ref
    secrets = raw_secrets(ref, diff.changes)
    changes = [safe_change(ref, c) for c in diff.changes]
    colour = STATUS_COLOURS.get(str(diff.status), "#57606a")
    parts = [
        f'<div class="gitops-nb-diff"><h4 style="margin:4px 0;">'
        f'<span style="color:{colour};">{escape(str(diff.status))}</span> '
        f"<code>{escape(str(ref))}</code></h4>"
    ]
    if diff.error:
        parts.append(f"<p><b>error:</b> {escape(safe_text(ref, diff.error, secrets))}</p>")
    if changes:
        header = ("field", "cause", "live", "git", "changed by", "operation", "time")
        head = "".join(
            f'<th style="{CELL_CSS} background:#eef1f4;">{escape(h)}</th>' for h in header
        )
        body = []
        for c in changes:
            cells = (
                c.path,
                str(c.cause or ""),
                value_text(c.live),
                value_text(c.desired),
                c.changed_by,
                c.operation or "",
                c.time_text,
            )
            body.append(
                "<tr>"
                + "".join(f'<td style="{CELL_CSS}"><code>{escape(x)}</code></td>' for x in cells)
            )
        parts.append(
            '<table style="border-collapse:collapse; margin:4px 0 8px 0;">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )
    elif diff.status is DiffStatus.IN_SYNC:
        parts.append("<p>In sync with Git.</p>")
    if diff.diff_text:
        parts.append(diff_text_html(safe_text(ref, diff.diff_text, secrets)))
    parts.append("</div>")
    return "".join(parts)


def diffs_html(diffs: Iterable[ResourceDiff], *, in_sync: bool = False) -> str:
    """:func:`render_diff_html` of every object not in sync (or of all, with ``in_sync``)."""
    parts = [render_diff_html(d) for d in diffs if in_sync or d.status is not DiffStatus.IN_SYNC]
    return "<hr>".join(parts) or "<p><i>every object is in sync with Git</i></p>"
