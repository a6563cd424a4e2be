"""CLI output of cluster values: Rich tables never read them as markup, Markdown escapes them.

Values come from the cluster (live values, manager names, API errors) and may be hostile.
"""

from __future__ import annotations

import io
import json

from rich.console import Console

from gitops_nb.cli.output import diff_markdown, render_changeset, render_diff
from gitops_nb.escaping import markdown as report_escape
from gitops_nb.model import (
    Action,
    Cause,
    ChangeSet,
    DiffStatus,
    FieldChange,
    Health,
    HealthStatus,
    ObjectRef,
    ResourceDiff,
    Revision,
)

CM = ObjectRef("v1", "ConfigMap", "prod", "settings")
REV = Revision("a" * 40, "2026-11-28T10:00:00Z", "dev", "msg")
HTML = "</td><script>alert(1)</script>"


def hostile_diffs() -> list[ResourceDiff]:
    return [
        ResourceDiff(
            CM,
            DiffStatus.DRIFTED,
            (
                FieldChange("metadata.annotations.note", "[/bold]", "hello", "[/x]", "Update"),
                FieldChange("data.colour", "[red]RED[/red]", HTML, HTML, "Update"),
            ),
        ),
        ResourceDiff(
            ObjectRef("v1", "ConfigMap", "prod", "broken"),
            DiffStatus.ERROR,
            error='metadata.labels: Invalid value: "[/x]" | <b>x</b>',
        ),
    ]


def rendered(fmt: str, diffs: list[ResourceDiff] | None = None, terminal: bool = False) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=300, force_terminal=terminal, soft_wrap=True)
    render_diff("shop", REV, hostile_diffs() if diffs is None else diffs, fmt, console)
    return buf.getvalue()


def test_diff_table_prints_markup_in_values_as_text() -> None:
    out = rendered("table")  # closing tags without an opening one made Rich raise
    for text in ("[/bold]", "[/x]", "[red]RED[/red]", '"[/x]"'):
        assert text in out


def test_diff_table_does_not_style_values() -> None:
    red = FieldChange("data.colour", "[red]RED[/red]", "blue", "kubectl-edit", "Update")
    out = rendered("table", [ResourceDiff(CM, DiffStatus.DRIFTED, (red,))], terminal=True)
    assert "[red]RED[/red]" in out
    assert "\x1b[31mRED" not in out


def test_changeset_table_prints_markup_in_errors_as_text() -> None:
    changes = ChangeSet()
    changes.add(CM, Action.CREATED)
    changes.add(ObjectRef("v1", "ConfigMap", "prod", "bad"), Action.FAILED, 'label "[/x]" [b]')
    buf = io.StringIO()
    render_changeset(changes, "table", Console(file=buf, width=300), dry_run=False)
    assert 'label "[/x]" [b]' in buf.getvalue()


def test_diff_markdown_emits_no_raw_html() -> None:
    out = diff_markdown("shop", REV, hostile_diffs())
    assert "<script>" not in out and "</td>" not in out and "<b>" not in out
    assert report_escape(HTML) in out  # the same escaper as `report --format markdown`
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    # no value adds or removes a column: seven cells (with cause) in every row
    assert {line.replace("\\|", "").count("|") for line in rows} == {8}


def test_diff_markdown_has_a_health_column_when_diff_read_health() -> None:
    health = {CM: Health(HealthStatus.IN_PROGRESS, "LessReady", "Ready: 1/3 <b>")}
    out = diff_markdown("shop", REV, hostile_diffs(), health)
    lines = [line for line in out.splitlines() if line.startswith("| ")]
    assert lines[0].startswith("| status | health | cause | object |")
    # both changed fields of the ConfigMap carry its health; the unread object an empty cell
    assert sum("| InProgress LessReady |" in line for line in lines) == 2
    assert "| Error |  |" in out
    assert {line.replace("\\|", "").count("|") for line in lines} == {9}
    buf = io.StringIO()
    render_diff("shop", REV, hostile_diffs(), "markdown", Console(file=buf, width=300), health)
    assert buf.getvalue() == out


def test_diff_markdown_via_render_diff_is_the_same_text() -> None:
    assert rendered("markdown") == diff_markdown("shop", REV, hostile_diffs())


def test_a_manager_without_a_time_says_time_unknown() -> None:
    scaled = ResourceDiff(
        ObjectRef("apps/v1", "Deployment", "prod", "web"),
        DiffStatus.DRIFTED,
        (FieldChange("spec.replicas", 5, 2, "kubectl", "Update", None),),
    )
    out = rendered("table", [scaled])
    assert "kubectl (Update, time unknown)" in out
    assert "None" not in out
    assert FieldChange("spec.replicas", 5, 2, None, None, None).time_text == ""


def test_a_deletion_and_a_removal_by_hand_say_so_and_a_new_object_does_not() -> None:
    deleted = ResourceDiff(CM, DiffStatus.MISSING, cause=Cause.CLUSTER)
    new = ResourceDiff(
        ObjectRef("v1", "ConfigMap", "prod", "new"), DiffStatus.MISSING, cause=Cause.GIT
    )
    removed = ResourceDiff(
        ObjectRef("v1", "ConfigMap", "prod", "keys"),
        DiffStatus.DRIFTED,
        (FieldChange("data.k", None, "v", cause=Cause.CLUSTER, op="removed"),),
        cause=Cause.CLUSTER,
    )
    out = rendered("table", [deleted, new, removed])
    lines = {ln.split("│")[3].strip(): ln for ln in out.splitlines() if ln.count("│") > 5}
    assert "deleted by hand (manager unknown)" in lines["ConfigMap/prod/settings"]
    assert "by hand" not in lines["ConfigMap/prod/new"]
    assert "removed by hand (manager unknown)" in lines["ConfigMap/prod/keys"]


def test_json_output_is_plain_and_identical_to_richs_print_json() -> None:
    """Machine-readable output skips Rich's renderer (seconds for thousands of objects) and
    stays byte for byte what ``print_json`` wrote: indented, non-ASCII kept, control
    characters escaped, markup never interpreted."""
    import io

    from rich.console import Console

    from gitops_nb.cli.output import write_json

    doc = {"v": "héllo \u001b[31m [red]x[/red] <b>", "n": [1, 2.5, None, True], "e": {}}
    rich_buf, plain_buf = io.StringIO(), io.StringIO()
    Console(file=rich_buf, soft_wrap=True).print_json(json.dumps(doc), indent=2, highlight=False)
    write_json(Console(file=plain_buf, soft_wrap=True), doc)
    assert plain_buf.getvalue() == rich_buf.getvalue()
    assert "\u001b" not in plain_buf.getvalue() and "[red]x[/red]" in plain_buf.getvalue()


def _deploy_and_drift() -> list[ResourceDiff]:
    image = FieldChange("spec.image", "nginx:1", "nginx:2", "gitops-nb", "Apply", cause=Cause.GIT)
    hand = FieldChange("spec.replicas", 5, 2, "kubectl-scale", "Update", cause=Cause.CLUSTER)
    both = FieldChange("data.x", "hot", "new", "kubectl-edit", "Update", cause=Cause.BOTH)
    return [
        ResourceDiff(CM, DiffStatus.DRIFTED, (image, hand, both), cause=Cause.BOTH),
        ResourceDiff(
            ObjectRef("v1", "Service", "prod", "new"), DiffStatus.MISSING, cause=Cause.GIT
        ),
    ]


def test_a_git_caused_change_names_its_commit_and_author_never_our_manager() -> None:
    import json

    by = f"commit {'a' * 12} (dev)"
    for fmt in ("table", "markdown"):
        text = rendered(fmt, _deploy_and_drift())
        assert by in text, fmt
        assert "gitops-nb (Apply" not in text and "| gitops-nb |" not in text, fmt
        plain = text.replace("\\", "")  # Markdown escapes punctuation
        assert "kubectl-scale" in plain and f"; Git: {by}" in plain, fmt
    doc = json.loads(rendered("json", _deploy_and_drift()))
    changes = {c["path"]: c for c in doc["resources"][0]["changes"]}
    assert changes["spec.image"]["commit"] == "a" * 40 and changes["spec.image"]["author"] == "dev"
    assert changes["data.x"]["commit"] == "a" * 40
    assert "commit" not in changes["spec.replicas"]  # drift names its manager only
    assert changes["spec.image"]["manager"] == "gitops-nb"  # existing keys unchanged
    assert doc["resources"][1]["commit"] == "a" * 40  # a new object: Git's
