"""CSV export: one row per object × field change (an object without changes gets one row)."""

from __future__ import annotations

import csv
import io

from gitops_nb.model import FieldChange
from gitops_nb.report.fmt import ts_text, value_text
from gitops_nb.report.model import Report, ReportObject, safe_report

COLUMNS = (
    "app",
    "object",
    "kind",
    "namespace",
    "name",
    "status",
    "open",
    "path",
    "live",
    "desired",
    "manager",
    "operation",
    "time",
    "first_seen",
    "resolved_at",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """Neutralise spreadsheet formulas (``=cmd|...``) from cluster values; numbers stay."""
    if text.startswith(_FORMULA):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def _row(app: str, obj: ReportObject, change: FieldChange | None) -> list[str]:
    values = [
        app,
        str(obj.ref),
        obj.ref.kind,
        obj.ref.namespace,
        obj.ref.name,
        str(obj.status),
        "true" if obj.open else "false",
    ]
    if change is None:
        values.extend([""] * 6)
    else:
        values.extend(
            [
                change.path,
                value_text(change.live, none=""),
                value_text(change.desired, none=""),
                change.manager or "",
                change.operation or "",
                ts_text(change.time),
            ]
        )
    values.extend([obj.first_seen or "", obj.resolved_at or ""])
    return [cell(v) for v in values]


def to_csv(report: Report) -> str:
    """The report's field changes as CSV with a header row (``\\n`` line ends)."""
    report = safe_report(report)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for obj in report.objects:
        for change in obj.changes or (None,):
            writer.writerow(_row(report.app, obj, change))
    return buf.getvalue()
