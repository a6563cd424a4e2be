"""GitHub-flavoured Markdown export: summary table, field tables per object, diff fences.

Deterministic for a given report (golden-tested). Every value is escaped so it shows as
text: Markdown punctuation is backslash-escaped and line breaks become ``<br>`` in tables.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gitops_nb.report.model import Report, ReportObject, safe_report
from gitops_nb.report.rows import (
    CHANGE_HEADER,
    EPISODE_HEADER,
    change_row,
    episode_rows,
    object_meta,
    object_title,
    summary_rows,
)

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that act
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")


def escape(text: str) -> str:
    """Text safe in a Markdown table cell or heading."""
    escaped = _SPECIAL.sub(r"\\\1", text.replace("\r\n", "\n"))
    return escaped.replace("\n", "<br>")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(escape(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines.extend("| " + " | ".join(escape(c) for c in row) + " |" for row in rows)
    return lines


def fence(text: str, lang: str) -> list[str]:
    """A fenced block longer than any backtick run in ``text``, so it cannot be closed early."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    return [f"{marks}{lang}", *text.rstrip("\n").split("\n"), marks]


def _object(obj: ReportObject) -> list[str]:
    lines = [f"### {escape(object_title(obj))}", ""]
    lines.extend(f"- {escape(k)}: {escape(v)}" for k, v in object_meta(obj))
    if obj.changes:
        lines.extend(["", *table(CHANGE_HEADER, [change_row(c) for c in obj.changes])])
    if obj.diff_text:
        lines.extend(["", *fence(obj.diff_text, "diff")])
    return [*lines, ""]


def to_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown."""
    report = safe_report(report)
    lines = [f"# Drift report: {escape(report.app)}", ""]
    lines.extend([*table(("Summary", ""), summary_rows(report)), ""])
    episodes = episode_rows(report.intervals)
    if episodes:
        lines.extend(["## Drift episodes", "", *table(EPISODE_HEADER, episodes), ""])
    lines.extend(["## Drifted objects", ""])
    if not report.objects:
        lines.extend(["No drift.", ""])
    for obj in report.objects:
        lines.extend(_object(obj))
    return "\n".join(lines).rstrip("\n") + "\n"
