"""Notebook widgets: filters, table styling, diff HTML, and the widget wiring (no kernel)."""

from __future__ import annotations

from datetime import datetime

import ipywidgets
import pandas as pd
import pytest

from gitops_nb.errors import ConfigError
from gitops_nb.history import drift_intervals, resource_results, runs
from gitops_nb.history.views import episodes_view
from gitops_nb.model import (
    Cause,
    DiffStatus,
    FieldChange,
    ObjectRef,
    ObjectResult,
    Outcome,
    ResourceDiff,
    SyncRun,
)
from gitops_nb.notebook import widgets as w
from gitops_nb.notebook.diffview import render_diff_html
from tests.factories import change, drifted, in_sync, revision, sync_run

SHA_A = "a" * 40
SHA_B = "b" * 40
WEB = ObjectRef("apps/v1", "Deployment", "prod", "web")
CFG = ObjectRef("v1", "ConfigMap", "prod", "web-config")
SVC = ObjectRef("v1", "Service", "stage", "api")
SECRET = ObjectRef("v1", "Secret", "prod", "db")


def run(
    run_id: str,
    started: str,
    *objects: ObjectResult,
    app: str = "shop",
    outcome: Outcome = Outcome.SUCCEEDED,
    commit: str = SHA_A,
) -> SyncRun:
    """A 1.5 s run, counted as the reconciler counts."""
    return sync_run(
        run_id,
        started,
        *objects,
        app=app,
        finished=started,
        duration_s=1.5,
        revision=revision(commit, started, "Ann <ann@example.com>"),
        outcome=outcome,
        counts={"desired": len(objects), "drifted": sum(o.status.is_drift for o in objects)},
    )


@pytest.fixture
def records() -> list[SyncRun]:
    return [
        run("r1", "2026-11-28T10:00:00Z", drifted(change(desired=2), ref=WEB), in_sync(CFG)),
        run("r2", "2026-11-28T11:00:00Z", in_sync(WEB), in_sync(CFG)),
        run(
            "r3",
            "2026-11-28T12:00:00Z",
            drifted(change(desired=2, manager="helm"), ref=SVC),
            app="api",
            outcome=Outcome.FAILED,
            commit=SHA_B,
        ),
        run(
            "r4",
            "2026-11-28T13:00:00Z",
            in_sync(WEB),
            drifted(change(desired=2, manager="kubectl-patch"), ref=CFG),
        ),
    ]


# --- filter_frame -------------------------------------------------------------------------


def test_filter_by_app_kind_and_status(records: list[SyncRun]) -> None:
    results = resource_results(records)
    assert list(w.filter_frame(results, app="api")["run_id"]) == ["r3"]
    web = w.filter_frame(results, kind="Deployment", status="Drifted")
    assert list(web["run_id"]) == ["r1"]
    assert len(w.filter_frame(results, namespace=["stage", "prod"])) == len(results)
    assert list(w.filter_frame(results, namespace="stage")["object"]) == ["Service/stage/api"]


def test_filter_all_none_and_empty_mean_no_filter(records: list[SyncRun]) -> None:
    df = runs(records)
    for value in (None, "", w.ALL, [], [w.ALL]):
        assert len(w.filter_frame(df, app=value)) == len(df)


def test_filter_status_applies_to_run_outcome(records: list[SyncRun]) -> None:
    assert list(w.filter_frame(runs(records), status="failed")["run_id"]) == ["r3"]


def test_filter_time_range_is_inclusive_and_naive_times_are_utc(records: list[SyncRun]) -> None:
    df = runs(records)
    got = w.filter_frame(df, start=datetime(2026, 11, 28, 11), end="2026-11-28T12:00:00Z")
    assert list(got["run_id"]) == ["r2", "r3"]
    assert list(w.filter_frame(df, end=pd.Timestamp("2026-11-28T10:00:00Z"))["run_id"]) == ["r1"]


def test_filter_intervals_keeps_episodes_overlapping_the_range(records: list[SyncRun]) -> None:
    iv = drift_intervals(records)
    # web drifted 10:00 → resolved 11:00; the api service (12:00) and config (13:00) are open
    late = w.filter_frame(iv, start="2026-11-28T12:30:00Z")
    assert set(late["object"]) == {"ConfigMap/prod/web-config", "Service/stage/api"}
    assert list(w.filter_frame(iv, start="2026-11-28T12:30:00Z", app="shop")["path"]) == [
        "spec.replicas"
    ]
    early = w.filter_frame(iv, start="2026-11-28T10:30:00Z", end="2026-11-28T10:45:00Z")
    assert list(early["object"]) == ["Deployment/prod/web"]


def test_filter_on_a_missing_column_is_a_config_error(records: list[SyncRun]) -> None:
    with pytest.raises(ConfigError, match="cannot filter by kind"):
        w.filter_frame(runs(records), kind="Deployment")
    with pytest.raises(ConfigError, match="by time"):
        w.filter_frame(pd.DataFrame({"app": ["x"]}), start="2026-01-01")


def test_filter_options_list_all_then_sorted_values(records: list[SyncRun]) -> None:
    opts = w.filter_options(resource_results(records))
    assert opts["app"] == [w.ALL, "api", "shop"]
    assert opts["kind"] == [w.ALL, "ConfigMap", "Deployment", "Service"]
    assert "kind" not in w.filter_options(runs(records))
    assert w.filter_options(runs(records))["status"] == [w.ALL, "failed", "succeeded"]


# --- styling ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (pd.Timedelta(milliseconds=520), "0.52s"),
        (pd.Timedelta(hours=1, minutes=2), "1h 2m"),
        (75.0, "1m 15s"),
        (None, ""),
        (pd.NaT, ""),
    ],
)
def test_duration_label(value: object, text: str) -> None:
    assert w.duration_label(value) == text


def test_style_table_formats_escapes_and_hides_the_index() -> None:
    df = pd.DataFrame(
        {
            "time": pd.to_datetime(["2026-11-28T10:00:00.123Z"]),
            "commit": [SHA_A],
            "note": ["<b>x</b> & y"],
            "files": [["a.yaml", "b.yaml"]],
            "error": pd.Series([None], dtype=object),
            "n": [3],
        },
        index=["row-label-xyz"],
    )
    html = w.style_table(df).to_html()
    assert "2026-11-28 10:00:00<" in html
    assert ">aaaaaaa<" in html and SHA_A not in html
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in html and "<b>x</b>" not in html
    assert "a.yaml, b.yaml" in html
    assert "None" not in html
    assert "row-label-xyz" not in html


def test_style_table_selects_columns_and_overrides_formats() -> None:
    df = pd.DataFrame({"a": [1.0], "b": ["x"], "c": ["y"]})
    styler = w.style_table(df, columns=["b", "a", "missing"], formats={"a": lambda v: "A!"})
    html = styler.to_html()
    assert ">A!<" in html and ">x<" in html and ">y<" not in html


def test_style_runs_colours_outcomes_and_flags_drift(records: list[SyncRun]) -> None:
    html = w.style_runs(runs(records)).to_html()
    assert "#cf222e" in html  # failed outcome / non-zero drifted
    assert "#1a7f37" in html  # succeeded
    assert ">bbbbbbb<" in html
    assert "Ann &lt;ann@example.com&gt;" in html
    assert "1.50s" in html
    assert "message" not in html  # long columns are left out of the runs table


def test_style_intervals_highlights_open_episodes(records: list[SyncRun]) -> None:
    iv = drift_intervals(records)
    html = w.style_intervals(iv).set_uuid("iv").to_html()
    rule = next(r for r in html.split("}") if "background: #fff1f0" in r)
    shown = episodes_view(iv)  # open episodes first
    assert list(shown["open"]) == sorted(iv["open"], reverse=True)
    for pos, is_open in enumerate(shown["open"]):
        assert (f"#T_iv_row{pos}_col0," in rule) is bool(is_open)
    assert "kubectl-patch" in html


def test_summary_frame_formats_each_kind_of_metric() -> None:
    table = w.summary_frame(
        {
            "runs": 4,
            "sync_frequency": 2.0,
            "success_rate": 0.75,
            "mean_lead_time_s": 30.0,
            "change_failure_rate": None,
            "most_drifted_objects": [("Deployment/prod/web", 3)],
        }
    )
    values = dict(zip(table["metric"], table["value"], strict=True))
    assert values == {
        "runs": "4",
        "sync frequency": "2.0 runs/hour",
        "success rate": "75%",
        "mean lead time": "30.00s",
        "change failure rate (reverted commits)": "n/a",
        "most drifted objects": "Deployment/prod/web (3)",
    }


# --- live diffs ---------------------------------------------------------------------------


def diffs() -> list[ResourceDiff]:
    return [
        ResourceDiff(CFG, DiffStatus.IN_SYNC),
        ResourceDiff(
            WEB,
            DiffStatus.DRIFTED,
            (FieldChange("spec.replicas", 5, 2, "kubectl-scale", "Update", "2026-11-28T10:00Z"),),
            "--- live\n+++ git\n@@ spec @@\n-  replicas: 5\n+  replicas: 2\n",
        ),
        ResourceDiff(SVC, DiffStatus.ERROR, error="forbidden <by RBAC>"),
        ResourceDiff(ObjectRef("v1", "ConfigMap", "prod", "old"), DiffStatus.EXTRANEOUS),
    ]


def test_diff_table_has_one_row_per_object_with_managers() -> None:
    table = w.diff_table(diffs())
    assert list(table["object"]) == [str(d.ref) for d in diffs()]
    row = table[table["object"] == "Deployment/prod/web"].iloc[0]
    assert (row["status"], row["fields"], row["changed by"]) == ("Drifted", 1, "kubectl-scale")
    assert w.diff_table([]).empty


def test_object_choices_list_drift_first_and_in_sync_last() -> None:
    labels = [label for label, _ in w.object_choices(diffs())]
    assert labels == [
        "[Drifted] Deployment/prod/web",
        "[Extraneous] ConfigMap/prod/old",
        "[Error] Service/stage/api",
        "[InSync] ConfigMap/prod/web-config",
    ]
    assert all(d.ref == WEB for label, d in w.object_choices(diffs())[:1])


def test_render_diff_html_shows_attribution_and_coloured_lines() -> None:
    html = w.render_diff_html(diffs()[1])
    assert "kubectl-scale" in html and "Update" in html and "spec.replicas" in html
    assert 'background:#dafbe1;">+  replicas: 2' in html
    assert 'background:#ffebe9;">-  replicas: 5' in html


def test_render_diff_html_escapes_everything() -> None:
    evil = ResourceDiff(
        ObjectRef("v1", "ConfigMap", "prod", "<img src=x onerror=alert(1)>"),
        DiffStatus.DRIFTED,
        (FieldChange("data.x", "<script>alert(1)</script>", "ok", "<mgr>"),),
        "+ <script>bad()</script>\n",
        error="<b>boom</b>",
    )
    html = w.render_diff_html(evil)
    for raw in ("<script>", "<img", "<mgr>", "<b>boom"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;boom" in html


def test_render_diff_html_masks_secret_values() -> None:
    leaked = ResourceDiff(
        SECRET,
        DiffStatus.DRIFTED,
        (FieldChange("data.password", "aHVudGVyMg==", "c2VjcmV0", "kubectl-edit"),),
        "--- live\n+++ git\n@@ data @@\n data:\n-  password: aHVudGVyMg==\n+  password: c2VjcmV0\n",
    )
    html = w.render_diff_html(leaked)
    assert "aHVudGVyMg==" not in html and "c2VjcmV0" not in html
    assert "*** (live)" in html and "kubectl-edit" in html


def test_render_diff_html_in_sync_and_diffs_html() -> None:
    assert "In sync with Git" in w.render_diff_html(diffs()[0])
    page = w.diffs_html(diffs())
    assert "Deployment/prod/web" in page and "web-config" not in page
    assert "in sync" in w.diffs_html([diffs()[0]])


# --- widget builders ----------------------------------------------------------------------


def test_filter_panel_calls_back_with_the_filtered_frame(records: list[SyncRun]) -> None:
    results = resource_results(records)
    seen: list[pd.DataFrame] = []
    panel = w.filter_panel(results, seen.append)
    controls = w.panel_controls(panel)
    assert {"app", "namespace", "kind", "status", "time"} <= set(controls)
    controls["kind"].value = "ConfigMap"
    assert set(seen[-1]["kind"]) == {"ConfigMap"}
    controls["status"].value = "Drifted"
    assert list(seen[-1]["run_id"]) == ["r4"]
    controls["kind"].value = w.ALL
    controls["time"].index = (0, 0)  # first run only
    assert list(seen[-1]["run_id"]) == ["r1"]


def test_time_range_needs_two_distinct_times() -> None:
    one = pd.DataFrame({"started": pd.to_datetime(["2026-11-28T10:00:00Z"] * 2)})
    assert w.time_range(one) is None
    assert w.time_range(pd.DataFrame({"x": [1]})) is None


def test_filtered_table_updates_its_html_and_count(records: list[SyncRun]) -> None:
    box = w.filtered_table(runs(records), w.style_runs)
    panel, count, table = box.children
    assert count.value == "4 of 4 rows" and "bbbbbbb" in table.value
    w.panel_controls(panel)["app"].value = "shop"
    assert count.value == "3 of 4 rows" and "bbbbbbb" not in table.value
    w.panel_controls(panel)["status"].value = "failed"
    assert count.value == "0 of 4 rows" and "no rows match" in table.value


def test_object_picker_shows_the_picked_diff() -> None:
    box = w.object_picker(diffs())
    picker, view = box.children
    assert isinstance(picker, ipywidgets.Dropdown)
    assert "kubectl-scale" in view.value  # the first choice: the drifted Deployment
    picker.value = diffs()[2]
    assert "forbidden &lt;by RBAC&gt;" in view.value and "kubectl-scale" not in view.value


def test_object_picker_without_objects() -> None:
    box = w.object_picker([])
    assert "no objects" in box.children[0].value


# --- issue 14: readable tables and defined metrics -----------------------------------------


def test_every_headline_number_carries_its_definition() -> None:
    from gitops_nb.history import summary

    frames = w.summary_frame(
        summary(runs(_story()), drift_intervals(_story()), deployments_df=None)
    )
    assert list(frames.columns) == ["metric", "value", "definition"]
    assert all(frames["definition"].str.len() > 10)
    rate = frames[frames["metric"] == "change failure rate (reverted commits)"]["definition"].iloc[
        0
    ]
    assert "revert" in rate


def _story() -> list[SyncRun]:
    return [
        sync_run("r1", "2026-11-28T10:00:00Z", in_sync(WEB)),
        sync_run("r2", "2026-11-28T10:30:00Z", drifted(change(), ref=WEB)),
        sync_run("r3", "2026-11-28T11:00:00Z", in_sync(WEB)),
    ]


def test_episode_tables_put_the_key_columns_first_and_never_wrap_times() -> None:
    html = w.style_intervals(drift_intervals(_story())).to_html()
    headers = [h.split(">")[-1] for h in html.split("</th>")[:-1]]
    assert headers[:7] == [
        "object",
        "field",
        "live",
        "desired (git)",
        "manager",
        "changed at",
        "first seen",
    ]
    assert "white-space: nowrap" in html


def test_run_ids_are_short_in_tables() -> None:
    table = runs([sync_run("0123456789abcdef" * 2, "2026-11-28T10:00:00Z", in_sync(WEB))])
    html = w.style_table(table, columns=["run_id", "started"]).to_html()
    assert ">01234567<" in html and "0123456789abcdef" not in html


def test_status_table_hides_objects_in_sync_by_default() -> None:
    table = w.diff_table(diffs())
    html = w.status_table(table).to_html()
    assert "web-config" not in html and "Deployment/prod/web" in html
    assert "1 in sync hidden" in html
    assert "web-config" in w.status_table(table, show_in_sync=True).to_html()


def test_the_range_readout_shows_both_ends_in_full() -> None:
    slider = w.time_range(runs(_story()))
    assert slider is not None and slider.readout is False
    label = w.readout_label(slider)
    assert label.value == "2026-11-28 10:00:00 → 2026-11-28 11:00:00 UTC"
    slider.index = (1, 2)
    assert label.value.startswith("2026-11-28 10:30:00 → ")


def test_the_pickers_field_table_is_padded() -> None:
    html = w.render_diff_html(diffs()[1])
    assert "padding:3px 10px" in html and "kubectl-scale" in html


def _scaled() -> list[SyncRun]:
    """kubectl scale writes the scale subresource: a manager, no time."""
    return [
        sync_run("r1", "2026-11-28T10:00:00Z", in_sync(WEB), in_sync(CFG)),
        sync_run(
            "r2",
            "2026-11-28T10:30:00Z",
            drifted(change(manager="kubectl", time=None), ref=WEB),
            in_sync(CFG),
        ),
    ]


def _headers(html: str) -> list[str]:
    return [h.split(">")[-1] for h in html.split("</th>")[:-1]]


def test_a_manager_without_a_time_reads_time_unknown_in_drift_and_episode_tables() -> None:
    from gitops_nb.history import drift

    for html in (
        w.style_drift(drift(_scaled())).to_html(),
        w.style_intervals(drift_intervals(_scaled())).to_html(),
    ):
        assert "time unknown" in html
        assert "None" not in html and "NaT" not in html


def test_the_drift_explorer_puts_the_key_columns_first() -> None:
    from gitops_nb.history import drift

    df = drift(_scaled())
    headers = _headers(w.style_drift(df).to_html())
    assert headers[:6] == ["object", "field", "live", "desired", "manager", "changed at"]
    renamed = {"path": "field", "time": "changed at"}
    assert sorted(headers) == sorted(renamed.get(c, c) for c in df.columns)  # only reordered


def test_per_object_results_put_the_key_columns_first_and_hide_in_sync_rows() -> None:
    df = resource_results(_scaled())
    assert _headers(w.style_results(df).to_html())[:3] == ["object", "status", "action"]
    box = w.results_table(df)
    toggle = box.children[0].children[0]
    assert isinstance(toggle, ipywidgets.Checkbox) and toggle.value is False
    html = box.children[1].children[0].children[-1].value
    assert "Deployment/prod/web" in html and "ConfigMap/prod/web-config" not in html
    assert "3 rows in sync hidden" in box.children[0].children[1].value
    toggle.value = True
    html = box.children[1].children[0].children[-1].value
    assert "ConfigMap/prod/web-config" in html


def test_the_range_readout_has_a_line_of_its_own() -> None:
    panel = w.filter_panel(runs(_story()), lambda _df: None)
    row = panel.children[-1]
    assert isinstance(row, ipywidgets.VBox)  # not squeezed next to the 640 px slider
    slider, label = row.children
    assert isinstance(slider, ipywidgets.SelectionRangeSlider)
    assert label.layout.min_width == "max-content"


def test_live_audit_tables_say_the_cause_of_each_difference() -> None:
    deploy = FieldChange("spec.replicas", 2, 3, "gitops-nb", "Apply", cause=Cause.GIT)
    hand = FieldChange("metadata.labels.team", "ops", None, "kubectl-label", cause=Cause.CLUSTER)
    d = ResourceDiff(WEB, DiffStatus.DRIFTED, (deploy, hand), cause=Cause.BOTH)
    row = w.diff_table([d]).iloc[0]
    assert row["cause"] == "both"
    assert w.diff_table(diffs()).set_index("object").loc["Deployment/prod/web", "cause"] == ""
    html = render_diff_html(d)
    assert ">cause<" in html and ">git<" in html and ">cluster<" in html
