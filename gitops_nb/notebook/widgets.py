"""Notebook dashboards: the ipywidgets builders, wired to pure helpers.

The helpers are plain functions of DataFrames and records, unit-tested without a kernel:
:mod:`~gitops_nb.notebook.filters` (filtering), :mod:`~gitops_nb.notebook.styles` (table
styling) and :mod:`~gitops_nb.notebook.diffview` (live diffs as HTML). This module builds
the widgets and re-exports the helpers, so notebooks need ``widgets`` only. ipywidgets is
imported here and nowhere else.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as widgets
import pandas as pd
from pandas.io.formats.style import Styler

from gitops_nb.model import ResourceDiff
from gitops_nb.notebook.diffview import (
    diff_table,
    diff_text_html,
    diffs_html,
    object_choices,
    render_diff_html,
)
from gitops_nb.notebook.filters import ALL, filter_frame, filter_options, time_column
from gitops_nb.notebook.fleetpanel import app_choices, day_range, fleet_views
from gitops_nb.notebook.plots import drift_days_figure, figure_png
from gitops_nb.notebook.styles import (
    TIME_FORMAT,
    duration_label,
    hide_in_sync,
    short_sha,
    style_deployments,
    style_drift,
    style_intervals,
    style_results,
    style_runs,
    style_status,
    style_table,
    summary_frame,
)


def time_range(df: pd.DataFrame, column: str | None = None) -> widgets.SelectionRangeSlider | None:
    """A range slider over the distinct times of ``column`` (default :func:`time_column`);
    None when the table has fewer than two distinct times."""
    col = column or time_column(df)
    if col is None:
        return None
    times = sorted({pd.Timestamp(t) for t in df[col].dropna()})
    if len(times) < 2:
        return None
    options = [(t.strftime(TIME_FORMAT), t) for t in times]
    # The slider's own readout is cut off for two full timestamps: readout_label shows them.
    return widgets.SelectionRangeSlider(
        options=options,
        index=(0, len(options) - 1),
        description="time",
        readout=False,
        layout=widgets.Layout(width="640px"),
        continuous_update=False,
    )


def readout_label(slider: widgets.SelectionRangeSlider) -> widgets.Label:
    """The slider's range in full (``from → to``), kept up to date. :func:`filter_panel`
    puts it on its own line under the slider, so the notebook's width never cuts it off."""
    label = widgets.Label(layout=widgets.Layout(width="auto", min_width="max-content"))

    def show(_: object = None) -> None:
        lo, hi = slider.index
        label.value = f"{slider.options[lo][0]} → {slider.options[hi][0]} UTC"

    slider.observe(show, names="index")
    show()
    return label


def filter_panel(df: pd.DataFrame, on_change: Callable[[pd.DataFrame], None]) -> widgets.VBox:
    """Dropdowns for the filters ``df`` supports (``description`` = filter name) and a time
    range; every change calls ``on_change`` with :func:`filter_frame`'s result."""
    dropdowns = {
        name: widgets.Dropdown(options=options, value=ALL, description=name)
        for name, options in filter_options(df).items()
        if len(options) > 1
    }
    slider = time_range(df)

    def changed(_: object = None) -> None:
        kwargs: dict[str, Any] = {name: w.value for name, w in dropdowns.items()}
        if slider is not None:
            kwargs["start"], kwargs["end"] = slider.value
        on_change(filter_frame(df, **kwargs))

    for w in dropdowns.values():
        w.observe(changed, names="value")
    controls: list[widgets.Widget] = [widgets.HBox(list(dropdowns.values()))]
    if slider is not None:
        slider.observe(changed, names="value")
        controls.append(widgets.VBox([slider, readout_label(slider)]))
    return widgets.VBox(controls)


def panel_controls(panel: widgets.VBox) -> dict[str, widgets.Widget]:
    """The input widgets of a :func:`filter_panel`, by description."""
    out: dict[str, widgets.Widget] = {}
    stack: list[widgets.Widget] = [panel]
    while stack:
        w = stack.pop()
        if isinstance(w, widgets.Box):
            stack.extend(w.children)
        elif getattr(w, "description", ""):
            out[str(w.description)] = w
    return out


def status_table(table: pd.DataFrame, *, show_in_sync: bool = False) -> Styler:
    """The live status table, objects in sync hidden unless ``show_in_sync`` (the caption
    says how many are hidden)."""
    shown = table if show_in_sync else hide_in_sync(table)
    styler = style_status(shown)
    hidden = len(table) - len(shown)
    if hidden:
        styler = styler.set_caption(
            f"{len(shown)} of {len(table)} objects; {hidden} in sync hidden "
            "(status_table(table, show_in_sync=True) shows them)"
        )
    return styler


def filtered_table(
    df: pd.DataFrame, style: Callable[[pd.DataFrame], Styler] = style_table
) -> widgets.VBox:
    """A :func:`filter_panel` above the styled table it filters (an HTML widget)."""
    count = widgets.Label()
    table = widgets.HTML()

    def show(rows: pd.DataFrame) -> None:
        count.value = f"{len(rows)} of {len(df)} rows"
        table.value = style(rows).to_html() if len(rows) else "<p><i>no rows match</i></p>"

    panel = filter_panel(df, show)
    show(df)
    return widgets.VBox([panel, count, table])


class _LiveHTML(widgets.HTML):  # type: ignore[misc]
    """An HTML widget that also carries its current content as plain ``text/html``: live in
    JupyterLab, still readable where widgets do not run (nbconvert, a diff, a review)."""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)
        return {**bundle, "text/html": self.value}


class _LiveImage(widgets.Image):  # type: ignore[misc]
    """A PNG image widget that also carries its current image as ``image/png``."""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)
        return {**bundle, "image/png": base64.b64encode(bytes(self.value)).decode()}


class FleetDashboard:
    """Notebook 05: one app filter and one time range driving every fleet view.

    Display :attr:`controls` once, then each view (:attr:`heatmap`, :attr:`most_drifting`,
    :attr:`mttr`, :attr:`managers`, :attr:`apps`, :attr:`episodes`) in its own cell; a
    change of either control recomputes them all with
    :func:`~gitops_nb.notebook.fleetpanel.fleet_views`.
    """

    def __init__(self, runs_df: pd.DataFrame, intervals_df: pd.DataFrame) -> None:
        self._runs, self._intervals = runs_df, intervals_df
        self.app = widgets.Dropdown(options=app_choices(runs_df), value=ALL, description="app")
        days: list[pd.Timestamp | None] = list(day_range(runs_df, intervals_df)) or [None]
        self.days = widgets.SelectionRangeSlider(
            options=[(d.strftime("%Y-%m-%d") if d is not None else "-", d) for d in days],
            index=(0, len(days) - 1),
            description="days",
            continuous_update=False,
            layout=widgets.Layout(width="640px"),
        )
        self.summary = widgets.Label()
        self.heatmap = _LiveImage(format="png")
        self.most_drifting, self.mttr = _LiveHTML(), _LiveHTML()
        self.managers, self.apps, self.episodes = _LiveHTML(), _LiveHTML(), _LiveHTML()
        self.controls = widgets.VBox(
            [widgets.HBox([self.app, self.days]), self.summary],
        )
        self.app.observe(self.refresh, names="value")
        self.days.observe(self.refresh, names="value")
        self.refresh()

    def selection(self) -> dict[str, Any]:
        """The controls as :func:`fleet_views` arguments (the range's end day included)."""
        lo, hi = self.days.value
        full = self.days.index == (0, len(self.days.options) - 1)
        return {
            "app": self.app.value,
            "start": None if full or lo is None else lo,
            "end": None if full or hi is None else hi + pd.Timedelta(days=1),
        }

    def refresh(self, _: object = None) -> None:
        v = fleet_views(self._runs, self._intervals, **self.selection())
        app = "every app" if self.app.value == ALL else f"app {self.app.value}"
        lo, hi = (self.days.options[i][0] for i in self.days.index)
        self.summary.value = f"{v.summary()} ({app}, {lo} → {hi})"  # and what it shows
        self.heatmap.value = figure_png(drift_days_figure(v.heatmap))
        self.most_drifting.value = _html(v.most_drifting, "no drift in the selection")
        self.mttr.value = _html(v.mttr, "no drift episode resolved in the selection")
        self.managers.value = _html(v.managers, "no hand changes in the selection")
        self.apps.value = _html(v.apps, "no runs in the selection")
        self.episodes.value = (
            style_intervals(v.episodes).to_html()
            if len(v.episodes)
            else "<p><i>no drift episodes in the selection</i></p>"
        )


def _html(df: pd.DataFrame, empty: str) -> str:
    return style_table(df).to_html() if len(df) else f"<p><i>{empty}</i></p>"


def results_table(df: pd.DataFrame, *, show_in_sync: bool = False) -> widgets.VBox:
    """Each run's per-object results to filter (:func:`filtered_table`, key columns first),
    rows in sync hidden until the ``show in sync`` checkbox is ticked."""
    toggle = widgets.Checkbox(value=show_in_sync, description="show in sync", indent=False)
    hidden = widgets.Label()
    body = widgets.VBox()

    def show(_: object = None) -> None:
        rows = df if toggle.value else hide_in_sync(df)
        n = len(df) - len(rows)
        hidden.value = f"{n} rows in sync hidden (tick to show them)" if n else ""
        body.children = [filtered_table(rows, style_results)]

    toggle.observe(show, names="value")
    show()
    return widgets.VBox([widgets.HBox([toggle, hidden]), body])


def object_picker(diffs: Iterable[ResourceDiff]) -> widgets.VBox:
    """A dropdown of objects (drifted first) and, below it, the picked object's diff."""
    choices = object_choices(diffs)
    view = widgets.HTML()
    if not choices:
        view.value = "<p><i>no objects</i></p>"
        return widgets.VBox([view])
    picker = widgets.Dropdown(
        options=choices, value=choices[0][1], description="object", layout={"width": "640px"}
    )

    def show(_: object = None) -> None:
        view.value = render_diff_html(picker.value)

    picker.observe(show, names="value")
    show()
    return widgets.VBox([picker, view])


__all__ = [
    "ALL",
    "FleetDashboard",
    "diff_table",
    "diff_text_html",
    "diffs_html",
    "duration_label",
    "filter_frame",
    "filter_options",
    "filter_panel",
    "filtered_table",
    "hide_in_sync",
    "object_choices",
    "object_picker",
    "panel_controls",
    "readout_label",
    "render_diff_html",
    "results_table",
    "short_sha",
    "status_table",
    "style_deployments",
    "style_drift",
    "style_intervals",
    "style_results",
    "style_runs",
    "style_status",
    "style_table",
    "summary_frame",
    "time_column",
    "time_range",
]
