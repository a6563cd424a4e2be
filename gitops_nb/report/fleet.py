"""The fleet report (``gitops-nb report --fleet``): many apps at once, for a review meeting.

Built from sync-run records of any number of apps with the fleet views of
:mod:`gitops_nb.history.fleetview`: one row per app (failing apps first, then the most
drift), who makes the hand changes, and an app × day grid of open drift episodes. Exported
as self-contained HTML, GitHub Markdown, JSON or CSV (the per-app table). Cells hold app
names, counts, times and field-manager names — never a live value — and every text cell is
escaped for its format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from gitops_nb.errors import ConfigError
from gitops_nb.escaping import markdown_table
from gitops_nb.history.fleetview import drift_days, fleet, managers
from gitops_nb.history.frames import runs as runs_frame
from gitops_nb.history.timeline import drift_intervals
from gitops_nb.model import SyncRun, format_time
from gitops_nb.report.csvexport import csv_text
from gitops_nb.report.fmt import duration_text
from gitops_nb.report.html import page, table

APP_HEADER = (
    "App",
    "Failing now",
    "Last outcome",
    "Last run",
    "Runs",
    "Records",
    "Drift episodes",
    "Open",
    "Mean time to restore",
    "Top manager",
)
MANAGER_HEADER = ("Manager", "Drift episodes", "Apps")


@dataclass(frozen=True)
class FleetReport:
    """The fleet at a glance: per-app rows, managers, and open episodes per app and day."""

    generated_at: str
    apps: pd.DataFrame
    managers: pd.DataFrame
    days: pd.DataFrame

    @property
    def failing(self) -> list[str]:
        return [str(a) for a in self.apps.loc[self.apps["failing_now"].astype(bool), "app"]]


def from_fleet(records: Iterable[SyncRun], now: pd.Timestamp | None = None) -> FleetReport:
    """The fleet report of ``records`` (any apps; already limited to the period)."""
    recs = list(records)
    intervals = drift_intervals(recs)
    generated = now if now is not None else pd.Timestamp.now(tz="UTC")
    return FleetReport(
        generated_at=format_time(generated.to_pydatetime()),
        apps=fleet(runs_frame(recs), intervals),
        managers=managers(intervals),
        days=drift_days(intervals),
    )


def _time(value: Any) -> str:
    return "" if pd.isna(value) else format_time(pd.Timestamp(value).to_pydatetime())


def app_rows(rep: FleetReport) -> list[list[str]]:
    return [
        [
            str(r["app"]),
            "yes" if r["failing_now"] else "no",
            str(r["last_outcome"]),
            _time(r["last_run"]),
            str(r["runs"]),
            str(r["records"]),
            str(r["episodes"]),
            str(r["open_episodes"]),
            duration_text(r["mean_time_to_restore_s"], style="fixed", missing="—"),
            str(r["top_manager"] or "—"),
        ]
        for r in rep.apps.to_dict("records")
    ]


def manager_rows(rep: FleetReport) -> list[list[str]]:
    return [
        [str(r["manager"]), str(r["episodes"]), str(r["apps"])]
        for r in rep.managers.to_dict("records")
    ]


def _day_header(rep: FleetReport) -> list[str]:
    return ["App", *(pd.Timestamp(d).strftime("%m-%d") for d in rep.days.columns)]


def _day_rows(rep: FleetReport) -> list[list[str]]:
    return [[str(app), *(str(int(v)) for v in row)] for app, row in rep.days.iterrows()]


def to_markdown(rep: FleetReport) -> str:
    lines = [f"# Fleet report ({len(rep.apps)} apps)", ""]
    failing = ", ".join(rep.failing) or "none"
    lines += [f"Generated {rep.generated_at}. Failing now: {failing}.", "", "## Apps", ""]
    lines += markdown_table(APP_HEADER, app_rows(rep))
    lines += ["", "## Who makes the hand changes", ""]
    mrows = manager_rows(rep)
    lines += markdown_table(MANAGER_HEADER, mrows) if mrows else ["No drift."]
    if not rep.days.empty:
        lines += ["", "## Open drift episodes per app and day (UTC)", ""]
        lines += markdown_table(_day_header(rep), _day_rows(rep))
    return "\n".join(lines) + "\n"


def _heatmap(rep: FleetReport) -> str:
    """App × day as a table whose cells are shaded by open episodes (no script, no image)."""
    top = max(1, int(rep.days.to_numpy().max()))
    head = "".join(f"<th>{escape(h)}</th>" for h in _day_header(rep))
    body = []
    for app, row in rep.days.iterrows():
        cells = []
        for v in row:
            alpha = 0.15 + 0.85 * int(v) / top if int(v) else 0.0
            cells.append(
                f'<td style="background: rgba(207, 34, 46, {alpha:.2f})">{int(v) or ""}</td>'
            )
        body.append(f"<tr><td>{escape(str(app))}</td>{''.join(cells)}</tr>")
    rows = "".join(body)
    return f'<table class="heatmap"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def to_html(rep: FleetReport) -> str:
    title = f"Fleet report ({len(rep.apps)} apps)"
    failing = ", ".join(rep.failing) or "none"
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">Failing now: {escape(failing)}.</p>',
        "<h2>Apps</h2>",
        table(APP_HEADER, app_rows(rep), "apps"),
        "<h2>Who makes the hand changes</h2>",
        table(MANAGER_HEADER, manager_rows(rep), "managers")
        if len(rep.managers)
        else '<p class="note">No drift.</p>',
    ]
    if not rep.days.empty:
        body += ["<h2>Open drift episodes per app and day (UTC)</h2>", _heatmap(rep)]
    return page(title, body, rep.generated_at)


def to_json(rep: FleetReport) -> str:
    apps = json.loads(rep.apps.to_json(orient="records", date_format="iso") or "[]")
    days = {
        str(app): {pd.Timestamp(str(d)).strftime("%Y-%m-%d"): int(v) for d, v in row.items() if v}
        for app, row in rep.days.iterrows()
    }
    doc = {
        "generated_at": rep.generated_at,
        "apps": apps,
        "failing_now": rep.failing,
        "managers": rep.managers.to_dict("records"),
        "open_episodes_per_day": days,
    }
    return json.dumps(doc, indent=2, default=str) + "\n"


def to_csv(rep: FleetReport) -> str:
    """The per-app table (what a spreadsheet wants), cells guarded against formulas."""
    return csv_text(rep.apps)


FLEET_FORMATS: dict[str, Callable[[FleetReport], str]] = {
    "html": to_html,
    "markdown": to_markdown,
    "json": to_json,
    "csv": to_csv,
}


def render_fleet(rep: FleetReport, fmt: str) -> str:
    export = FLEET_FORMATS.get(fmt)
    if export is None:
        raise ConfigError(f"unknown report format {fmt!r}: use one of {', '.join(FLEET_FORMATS)}")
    return export(rep)
