"""GitHub-flavoured Markdown export: summary table, field tables per object, diff fences.

Deterministic for a given report (golden-tested). Every value is escaped so it shows as
text, by :func:`gitops_nb.escaping.markdown` (shared with ``diff -o markdown``): Markdown
punctuation is backslash-escaped and line breaks become ``<br>`` in tables.
"""

from __future__ import annotations

import re

from gitops_nb.escaping import markdown as escape
from gitops_nb.escaping import markdown_table as table
from gitops_nb.history.healthframes import EPISODES_TITLE
from gitops_nb.history.metrics import HEALTH_DEFINITIONS
from gitops_nb.report.model import Report, ReportObject, safe_report
from gitops_nb.report.rows import (
    CHANGE_HEADER,
    DEPLOYMENT_HEADER,
    EPISODE_HEADER,
    HEALTH_HEADER,
    RESTORE_HEADER,
    UNTRUSTED_HEADER,
    change_row,
    commit_by,
    deployment_rows,
    episode_rows,
    health_rows,
    object_groups,
    object_meta,
    object_title,
    restore_rows,
    summary_rows,
    untrusted_rows,
)


def fence(text: str, lang: str) -> list[str]:
    """A fenced block longer than any backtick run in ``text``, so it cannot be closed early."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    return [f"{marks}{lang}", *text.rstrip("\n").split("\n"), marks]


def _object(obj: ReportObject, by: str = "") -> list[str]:
    lines = [f"### {escape(object_title(obj))}", ""]
    lines.extend(f"- {escape(k)}: {escape(v)}" for k, v in object_meta(obj))
    if obj.changes:
        lines.extend(["", *table(CHANGE_HEADER, [change_row(c, by) for c in obj.changes])])
    if obj.diff_text:
        lines.extend(["", *fence(obj.diff_text, "diff")])
    return [*lines, ""]


def to_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown: drift (episodes, then the drifted objects)
    before deployments, then health and the other differences."""
    report = safe_report(report)
    lines = [f"# Drift report: {escape(report.app)}", ""]
    lines.extend([*table(("Summary", ""), summary_rows(report)), ""])
    episodes = episode_rows(report.intervals)
    if episodes:
        lines.extend(["## Drift episodes", "", *table(EPISODE_HEADER, episodes), ""])
    drift = [o for o in report.objects if o.is_drift]
    lines.extend(["## Drifted objects", ""])
    if not drift:
        lines.extend(["No drift.", ""])
    for obj in drift:
        lines.extend(_object(obj, commit_by(report, obj)))
    deploys = deployment_rows(report.deployments)
    if report.deployments is not None:
        lines.extend(["## Deployments (Git changes)", ""])
        lines.extend([*table(DEPLOYMENT_HEADER, deploys), ""] if deploys else ["None.", ""])
    untrusted = untrusted_rows(report.untrusted)
    if untrusted:
        lines.extend(["## Unsigned or unverified commits", ""])
        lines.extend([*table(UNTRUSTED_HEADER, untrusted), ""])
    if report.health is not None:
        lines.extend(["## Health (kstatus)", ""])
        restored = restore_rows(report.restores)
        lines.extend(
            [
                "### Bad rollouts and time to restore",
                "",
                f"Time to restore: {HEALTH_DEFINITIONS['time_to_restore']} (not the drift "
                "episodes' mean time to restore above).",
                "",
                *table(RESTORE_HEADER, restored),
                "",
            ]
            if restored
            else ["No run ended Degraded.", ""]
        )
        unhealthy = health_rows(report.health)
        if unhealthy:
            lines.extend([f"### {EPISODES_TITLE}", "", *table(HEALTH_HEADER, unhealthy), ""])
    for title, group in object_groups(report):
        lines.extend([f"## {title}", ""])
        for obj in group:
            lines.extend(_object(obj, commit_by(report, obj)))
    return "\n".join(lines).rstrip("\n") + "\n"
