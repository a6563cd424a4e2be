"""The report's content as rows of plain strings; HTML and Markdown only differ in markup."""

from __future__ import annotations

from typing import Any

import pandas as pd

from gitops_nb.attribution import changed_by
from gitops_nb.attribution import commit_text as sha_text
from gitops_nb.history.metrics import METRIC_DEFINITIONS
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
    "runs_refused": "Runs refused by commit verification",
    "commits_unverified": "Unsigned or unverified commits applied",
    "episodes": "Drift episodes",
    "episodes_open": "Open episodes",
    "episodes_resolved": "Resolved episodes",
}
CHANGE_HEADER = ("Path", "Cause", "Live", "Desired", "Manager", "Operation", "Time")
EPISODE_HEADER = (
    "Object",
    "Path",
    "Cause",
    "Live",
    "Manager",
    "Changed at",
    "Commit in force",
    "First seen",
    "Resolved",
    "Duration",
    "Resolution",
)
DEPLOYMENT_HEADER = (
    "Commit",
    "Author",
    "Message",
    "Committed",
    "Applied",
    "In sync",
    "Lead time",
    "Revert",
    "Changed",
)

UNTRUSTED_HEADER = (
    "Commit",
    "Author",
    "Committed",
    "Signature",
    "Verified",
    "Key",
    "Signer",
    "Finding",
    "Outcome",
    "Runs",
)


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

    def metric(label: str, key: str, text: str) -> None:
        rows.append((label, f"{text or 'n/a'} ({METRIC_DEFINITIONS[key]})"))

    if "success_rate" in m:
        metric("Success rate", "success_rate", percent_text(m["success_rate"]))
    if "mean_time_to_restore_s" in m:
        metric(
            "Mean time to restore",
            "mean_time_to_restore_s",
            duration_text(m["mean_time_to_restore_s"]),
        )
    if m.get("deployments") is not None:
        metric("Deployments", "deployments", str(m["deployments"]))
    if "median_lead_time_s" in m:
        metric("Median lead time", "median_lead_time_s", duration_text(m["median_lead_time_s"]))
    if "change_failure_rate" in m:
        metric(
            "Change failure rate (reverted commits)",
            "change_failure_rate",
            percent_text(m["change_failure_rate"]),
        )
    return rows


def commit_by(report: Report, obj: ReportObject) -> str:
    """The commit (and author) a Git-caused change of ``obj`` comes from: the live diff's
    revision, or (history) the commit in force, its author from the deployments table."""
    rev = report.revision
    commits = (obj.commit or "").split(", ")  # history: every commit in force, oldest first
    commit = commits[-1] or (rev.commit if rev else "")
    author = rev.author if rev and rev.commit == commit else ""
    deploys = report.deployments
    if not author and commit and deploys is not None and not deploys.empty:
        match = deploys[deploys["commit"] == commit]
        author = str(match.iloc[0]["author"]) if len(match) else ""
    return sha_text(commit, author)


def change_row(change: FieldChange, by: str = "") -> list[str]:
    """One change's cells; ``by`` (:func:`commit_by`) names the commit of a Git-caused one
    in the Manager column instead of our own field manager."""
    hand = change.changed_by if change.manager or change.op != "changed" else ""
    return [
        change.path or "(whole object)",
        str(change.cause) if change.cause is not None else "",
        value_text(change.live),
        value_text(change.desired),
        changed_by(change, by, hand),
        change.operation or "",
        ts_text(change.time) if change.time else change.time_text,
    ]


_CAUSE_TEXT = {
    "git": "git (a deployment not yet applied)",
    "cluster": "cluster (drift)",
    "both": "both (drift, and Git moved too)",
}


def object_groups(report: Report) -> list[tuple[str, list[ReportObject]]]:
    """The objects after the drift, titled: Git changes not yet applied, then errors."""
    pending = [o for o in report.objects if o.is_git]
    failed = [o for o in report.objects if not o.is_git and not o.is_drift]
    groups = [("Git changes not yet applied", pending), ("Not evaluated", failed)]
    return [(title, group) for title, group in groups if group]


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
        ("Cause", _CAUSE_TEXT.get(obj.cause or "", obj.cause or "")),
        ("Commit in force", obj.commit or ""),
        ("First seen", obj.first_seen or ""),
        ("Last seen", obj.last_seen or ""),
        ("Resolved", obj.resolved_at or ""),
        ("Resolution", obj.resolution or ""),
        ("Managers", ", ".join(obj.managers)),
        ("Error", obj.error or ""),
    ]
    return [(k, v) for k, v in facts if v]


def _episode_manager(manager: Any, path: str, live: Any) -> str:
    """Who made the change; a deletion or a removal leaves no manager to name."""
    if manager is not None and not (isinstance(manager, float) and pd.isna(manager)):
        return str(manager)
    if not path:
        return "(unknown: deleted by hand)"
    return "(unknown: removed by hand)" if live in (None, "null") else "(unknown)"


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
                str(row.cause),
                "" if row.live is None else str(row.live),
                _episode_manager(row.manager, str(row.path), row.live),
                ts_text(getattr(row, "changed_at", None)),
                str(row.commit)[:12],
                ts_text(row.first_seen),
                "open" if row.open else ts_text(row.resolved_at),
                "" if pd.isna(duration) else duration_text(pd.Timedelta(duration).total_seconds()),
                "" if row.resolved_by is None else str(row.resolved_by),
            ]
        )
    return out


def _seconds(value: Any) -> str:
    return "" if pd.isna(value) else duration_text(pd.Timedelta(value).total_seconds())


HEALTH_HEADER = (
    "Object",
    "Health",
    "Reason",
    "Message",
    "In sync",
    "Commit in force",
    "First seen",
    "Current again",
    "Duration",
    "Restored by",
)
RESTORE_HEADER = ("Degraded at", "Commit", "Restored at", "Restored by", "Time to restore")


def health_rows(health: pd.DataFrame | None) -> list[list[str]]:
    """Unhealthy episodes (``history.health_intervals``), oldest first."""
    if health is None or health.empty:
        return []
    return [
        [
            str(row["object"]),
            str(row["status"]),
            str(row["reason"]),
            str(row["message"]),
            "yes" if row["synced"] else "no",
            str(row["commit"])[:12],
            ts_text(row["first_seen"]),
            "open" if row["open"] else ts_text(row["healthy_at"]),
            _seconds(row["duration"]),
            str(row["restored_by_commit"] or "")[:12],
        ]
        for row in health.to_dict("records")
    ]


def restore_rows(restored: pd.DataFrame | None) -> list[list[str]]:
    """Runs that ended Degraded and the next Healthy run (``history.restores``)."""
    if restored is None or restored.empty:
        return []
    return [
        [
            ts_text(row["degraded_at"]),
            str(row["degraded_commit"])[:12],
            ts_text(row["restored_at"]) or "not yet",
            str(row["restored_by_commit"] or "")[:12],
            _seconds(row["time_to_restore"]),
        ]
        for row in restored.to_dict("records")
    ]


def deployment_rows(deployments: pd.DataFrame | None) -> list[list[str]]:
    """One row per deployment (``history.deployments``), oldest first."""
    if deployments is None or deployments.empty:
        return []
    out = []
    for row in deployments.to_dict("records"):
        revert = f"reverts {str(row['reverts'])[:12]}" if row["reverts"] else ""
        if row["reverted_by"]:
            revert = f"reverted by {str(row['reverted_by'])[:12]}"
        elif row["is_revert"] and not revert:
            revert = "revert"
        applied, in_sync = row["applied_at"], row["in_sync_at"]
        fields: list[str] = list(row["fields"])
        out.append(
            [
                str(row["commit"])[:12],
                str(row["author"]),
                str(row["message"]),
                ts_text(row["commit_time"]),
                ts_text(applied) if not pd.isna(applied) else "not applied",
                ts_text(in_sync) if not pd.isna(in_sync) else "",
                _seconds(row["lead_time"]),
                revert,
                "; ".join(fields) or _no_fields(row),
            ]
        )
    return out


def _no_fields(row: dict[Any, Any]) -> str:
    """The Changed cell of a commit whose runs saw no Git-caused difference."""
    if row.get("effective", True):
        return "(the cluster already matched: Git adopted the live value)"
    return "(nothing for this app: not counted as its deployment)"


def untrusted_rows(untrusted: pd.DataFrame | None) -> list[list[str]]:
    """One row per commit a run applied or refused without a trusted key vouching for it
    (``history.untrusted_runs``): which commit, who, what signature, and the finding."""
    if untrusted is None or untrusted.empty:
        return []
    return [
        [
            str(row["commit"])[:12],
            str(row["author"]),
            ts_text(row["commit_time"]),
            str(row["signature_type"]),
            "yes" if row["signature_verified"] else "no",
            str(row["signature_fingerprint"]),
            str(row["signature_signer"]),
            str(row["finding"]),
            str(row["outcome"]),
            str(row["runs"]),
        ]
        for row in untrusted.to_dict("records")
    ]
