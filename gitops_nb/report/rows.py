"""The report's content as rows of plain strings; HTML and Markdown only differ in markup."""

from __future__ import annotations

from typing import Any

import pandas as pd

from gitops_nb.model import FieldChange, Revision
from gitops_nb.report.fmt import duration_text, percent_text, ts_text, value_text
from gitops_nb.report.model import Report, ReportObject

COUNT_LABELS = {
    "objects": "Objects compared",
    "in_sync": "In sync",
    "drifted": "Drifted",
    "missing": "Missing",
    "extraneous": "Extraneous",
    "error": "Errors",
    "runs": "Runs",
    "runs_failed": "Failed runs",
    "episodes": "Drift episodes",
    "episodes_open": "Open episodes",
    "episodes_resolved": "Resolved episodes",
}
CHANGE_HEADER = ("Path", "Live", "Desired", "Manager", "Operation", "Time")
EPISODE_HEADER = ("Object", "Path", "First seen", "Resolved", "Duration", "Resolution", "Managers")


def commit_text(rev: Revision | None) -> str:
    if rev is None:
        return "(unknown)"
    subject = rev.message.strip().splitlines()[0] if rev.message.strip() else ""
    who = ", ".join(x for x in (rev.author, ts_text(rev.time)) if x)
    return " ".join(x for x in (rev.commit[:12], subject, f"({who})" if who else "") if x)


def summary_rows(report: Report) -> list[tuple[str, str]]:
    """(label, value) pairs: identity, period, counts (known keys first), metrics."""
    rows = [
        ("App", report.app or "(none)"),
        ("Source", report.source),
        ("Generated", report.generated_at),
        ("Commit", commit_text(report.revision)),
    ]
    if report.period is not None:
        rows.append(("Period", f"{report.period[0]} → {report.period[1]}"))
    known = [k for k in COUNT_LABELS if k in report.counts]
    extra = sorted(k for k in report.counts if k not in COUNT_LABELS)
    rows.extend((COUNT_LABELS.get(k, k), str(report.counts[k])) for k in [*known, *extra])
    m = report.metrics
    if "success_rate" in m:
        rows.append(("Success rate", percent_text(m["success_rate"]) or "n/a"))
    if "mean_time_to_restore_s" in m:
        rows.append(("Mean time to restore", duration_text(m["mean_time_to_restore_s"]) or "n/a"))
    return rows


def change_row(change: FieldChange) -> list[str]:
    return [
        change.path or "(whole object)",
        value_text(change.live),
        value_text(change.desired),
        change.manager or "",
        change.operation or "",
        ts_text(change.time),
    ]


def object_state(obj: ReportObject) -> str:
    """ "open" / "resolved" for history episodes; "" for a live diff (all drift is current)."""
    if obj.first_seen is None:
        return ""
    return "open" if obj.open else "resolved"


def object_title(obj: ReportObject) -> str:
    state = object_state(obj)
    return f"{obj.ref} — {obj.status}" + (f" ({state})" if state else "")


def object_meta(obj: ReportObject) -> list[tuple[str, str]]:
    """(label, value) facts about an object, only those that are known."""
    facts = [
        ("API version", obj.ref.api_version),
        ("First seen", obj.first_seen or ""),
        ("Last seen", obj.last_seen or ""),
        ("Resolved", obj.resolved_at or ""),
        ("Resolution", obj.resolution or ""),
        ("Managers", ", ".join(obj.managers)),
        ("Error", obj.error or ""),
    ]
    return [(k, v) for k, v in facts if v]


def episode_rows(intervals: pd.DataFrame | None) -> list[list[str]]:
    """One row per drift episode, open ones first (as in the object list)."""
    if intervals is None or intervals.empty:
        return []
    ordered = intervals.sort_values(
        ["open", "first_seen", "object", "path"], ascending=[False, True, True, True], kind="stable"
    )
    out = []
    for row in ordered.itertuples():
        duration: Any = row.duration
        out.append(
            [
                str(row.object),
                str(row.path) or "(whole object)",
                ts_text(row.first_seen),
                "open" if row.open else ts_text(row.resolved_at),
                "" if pd.isna(duration) else duration_text(pd.Timedelta(duration).total_seconds()),
                "" if row.resolution is None else str(row.resolution),
                str(row.managers),
            ]
        )
    return out
