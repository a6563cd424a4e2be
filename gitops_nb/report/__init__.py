"""Drift reports: build a :class:`Report` from a live diff or from history, export it as
self-contained HTML, GitHub Markdown, JSON or CSV."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from gitops_nb.errors import ConfigError, GitOpsError
from gitops_nb.report.csvexport import deployments_csv, to_csv
from gitops_nb.report.fleet import FleetReport, from_fleet, render_fleet
from gitops_nb.report.html import to_html
from gitops_nb.report.jsonexport import to_json
from gitops_nb.report.markdown import to_markdown
from gitops_nb.report.model import Report, ReportObject, from_diff, from_history

FORMATS: dict[str, Callable[[Report], str]] = {
    "html": to_html,
    "markdown": to_markdown,
    "json": to_json,
    "csv": to_csv,
}


def render(report: Report, fmt: str) -> str:
    """``report`` as ``fmt`` (html, markdown, json, csv) text."""
    export = FORMATS.get(fmt)
    if export is None:
        raise ConfigError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    return export(report)


def deployments_path(path: Path) -> Path:
    """Where a history report's CSV puts its deployments: ``<name>-deployments.csv`` next
    to ``path`` (a CSV file holds one table; the field changes are in ``path``)."""
    return path.with_name(f"{path.stem}-deployments.csv")


def write(report: Report | FleetReport, fmt: str, path: Path) -> Path:
    """Export ``report`` (one app's, or the fleet's) as ``fmt`` (html, markdown, json, csv)
    to ``path``, atomically. A history report as CSV also writes its deployments table to
    :func:`deployments_path`."""
    path = Path(path)
    if fmt == "csv" and isinstance(report, Report) and report.deployments is not None:
        _write_text(deployments_csv(report), "csv", deployments_path(path))
    text = render_fleet(report, fmt) if isinstance(report, FleetReport) else render(report, fmt)
    return _write_text(text, fmt, path)


def _write_text(text: str, fmt: str, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a plain open (not mkstemp) so the report gets the umask's permissions: it is shared
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            # newline="" keeps the exporters' line ends (CSV rows, diff lines) byte for byte
            with tmp.open("w", encoding="utf-8", newline="") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as e:
        raise GitOpsError(f"{path}: cannot write {fmt} report: {e}") from e
    return path


__all__ = [
    "FORMATS",
    "FleetReport",
    "Report",
    "ReportObject",
    "deployments_path",
    "from_diff",
    "from_fleet",
    "from_history",
    "render",
    "render_fleet",
    "to_csv",
    "to_html",
    "to_json",
    "to_markdown",
    "write",
]
