"""JSON export: stable keys (sorted), indent 2, timestamps as ISO UTC, durations in seconds."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from gitops_nb.report.fmt import ts_text
from gitops_nb.report.model import Report, safe_report


def _cell(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return ts_text(value) or None
    if isinstance(value, pd.Timedelta):
        return None if pd.isna(value) else value.total_seconds()
    if isinstance(value, list | tuple):
        return [_cell(v) for v in value]
    if value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def intervals_records(intervals: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    """Timeline rows as JSON-ready dicts."""
    if intervals is None:
        return None
    return [{str(k): _cell(v) for k, v in row.items()} for row in intervals.to_dict("records")]


def report_dict(report: Report) -> dict[str, Any]:
    """The (masked) report as plain JSON-ready data."""
    report = safe_report(report)
    return {
        "app": report.app,
        "source": report.source,
        "generated_at": report.generated_at,
        "revision": report.revision.to_dict() if report.revision else None,
        "period": list(report.period) if report.period else None,
        "counts": dict(report.counts),
        "metrics": dict(report.metrics),
        "objects": [o.to_dict() for o in report.objects],
        "intervals": intervals_records(report.intervals),
        "deployments": intervals_records(report.deployments),
        "untrusted_commits": intervals_records(report.untrusted),
    }


def to_json(report: Report) -> str:
    """The report as JSON (sorted keys, indent 2, trailing newline)."""
    return json.dumps(report_dict(report), indent=2, sort_keys=True, default=str) + "\n"
