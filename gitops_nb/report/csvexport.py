"""CSV export: one row per object × field change (an object without changes gets one row).

:func:`csv_text` is the one CSV writer: the report and ``history … -o csv`` both write
through it, so spreadsheet formulas in cluster values are neutralised in both.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gitops_nb.escaping import csv_cell as cell
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
    "cause",
    "path",
    "live",
    "desired",
    "manager",
    "operation",
    "time",
    "first_seen",
    "resolved_at",
    "op",
)


def _safe(value: Any) -> Any:
    return cell(value) if isinstance(value, str) else value


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV with a header row and ``\\n`` line ends, every text cell through
    :func:`gitops_nb.escaping.csv_cell`; other cells as pandas writes them."""
    out = frame.copy()
    for col in out.columns:
        if not (
            pd.api.types.is_numeric_dtype(out[col])
            or pd.api.types.is_datetime64_any_dtype(out[col])
            or pd.api.types.is_timedelta64_dtype(out[col])
        ):
            out[col] = out[col].map(_safe)
    return out.to_csv(index=False, lineterminator="\n")


def _row(app: str, obj: ReportObject, change: FieldChange | None) -> list[str]:
    values = [
        app,
        str(obj.ref),
        obj.ref.kind,
        obj.ref.namespace,
        obj.ref.name,
        str(obj.status),
        "true" if obj.open else "false",
        (str(change.cause) if change is not None and change.cause else obj.cause) or "",
    ]
    op = change.op if change is not None else ""
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
    values.extend([obj.first_seen or "", obj.resolved_at or "", op])
    return values


def to_csv(report: Report) -> str:
    """The report's field changes as CSV with a header row (``\\n`` line ends)."""
    report = safe_report(report)
    rows = [
        _row(report.app, obj, change) for obj in report.objects for change in obj.changes or (None,)
    ]
    return csv_text(pd.DataFrame(rows, columns=list(COLUMNS), dtype=object))


def deployments_csv(report: Report) -> str:
    """The history report's deployments (``history.deployments`` rows) as CSV; the header
    only when there are none. Lists become ``;``-joined cells."""
    report = safe_report(report)
    df = report.deployments if report.deployments is not None else pd.DataFrame()
    df = df.assign(
        **{
            c: df[c].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list) else v)
            for c in ("objects", "fields")
            if c in df.columns
        }
    )
    return csv_text(df)
