"""Markdown export: golden file for a fixed live-diff report, escaping, fences."""

from __future__ import annotations

import os
from pathlib import Path

from gitops_nb.escaping import markdown as escape
from gitops_nb.history import deployments
from gitops_nb.history.timeline import drift_intervals
from gitops_nb.model import Action, Cause, DiffStatus, FieldChange, ObjectResult, SyncRun
from gitops_nb.report import to_markdown
from gitops_nb.report.markdown import fence
from gitops_nb.report.rows import deployment_rows, episode_rows
from tests.factories import (
    CM,
    DEP,
    RAW_B64,
    XSS,
    history_report,
    history_runs,
    in_sync,
    live_report,
    run,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "report.md"


def test_markdown_matches_golden() -> None:
    text = to_markdown(live_report())
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), "run with UPDATE_GOLDEN=1 and review"


def test_markdown_is_deterministic_and_masked() -> None:
    assert to_markdown(live_report()) == to_markdown(live_report())
    assert RAW_B64 not in to_markdown(live_report())


def test_escape_table_breakers() -> None:
    assert escape("a | b `c`") == r"a \| b \`c\`"
    assert escape(XSS) == r"\<script\>alert(1)\</script\>"
    assert escape("two\nlines") == "two<br>lines"
    assert escape(r"back\slash") == r"back\\slash"


def test_fence_outlasts_backticks_in_text() -> None:
    lines = fence("x\n````\ny\n", "diff")
    assert lines[0] == "`````diff" and lines[-1] == "`````"
    assert lines[1:-1] == ["x", "````", "y"]


def test_history_markdown_has_episode_table_open_first() -> None:
    text = to_markdown(history_report())
    assert "## Drift episodes" in text
    table = text.split("## Drift episodes", 1)[1].split("\n## ", 1)[0]  # up to the next section
    rows = [ln for ln in table.splitlines() if ln.startswith("| ") and "Object" not in ln]
    assert [r.split(" | ")[0] for r in rows] == [
        "| ConfigMap/web/settings",
        "| Secret/web/db",
        "| Deployment/web/api",
    ]
    assert "| open |" in rows[0]
    assert "Success rate | 80%" in text
    # when the cluster moved (the managedFields time), before a run first saw it
    header = next(ln for ln in table.splitlines() if ln.startswith("| Object"))
    cells = dict(zip(header.split(" | "), rows[2].split(" | "), strict=True))
    assert cells["Changed at"] == "2026-11-28T09:30:00Z"
    assert cells["First seen"] == "2026-11-28T11:00:00Z"


def test_markdown_lists_drift_then_deployments_and_never_blames_our_manager() -> None:
    for text in (to_markdown(live_report()), to_markdown(history_report())):
        for line in text.splitlines():
            if line.startswith("- Managers:"):
                assert "gitops-nb" not in line
    live = to_markdown(live_report())
    assert live.index("## Drifted objects") < live.index("## Git changes not yet applied")
    hist = to_markdown(history_report())
    assert hist.index("## Drift episodes") < hist.index("## Deployments (Git changes)")


def test_episodes_without_a_manager_say_why() -> None:
    removed = FieldChange("data.k", None, "v", cause=Cause.CLUSTER, op="removed")
    gone = ObjectResult(DEP, Action.SKIPPED, DiffStatus.MISSING, cause=Cause.CLUSTER)
    key = ObjectResult(CM, Action.SKIPPED, DiffStatus.DRIFTED, (removed,), cause=Cause.CLUSTER)
    rows = episode_rows(drift_intervals([run(0, gone, key), run(1, in_sync(DEP), in_sync(CM))]))
    managers = {r[0]: r[4] for r in rows}
    assert managers == {
        str(DEP): "(unknown: deleted by hand)",
        str(CM): "(unknown: removed by hand)",
    }


def test_deployment_rows_say_why_a_commit_changed_no_field() -> None:
    rows = {r[0]: r[-1] for r in deployment_rows(deployments(history_runs()))}
    assert rows["c10000000000"] == "(nothing for this app: not counted as its deployment)"
    assert rows["c40000000000"] == "(the cluster already matched: Git adopted the live value)"


HISTORY_GOLDEN = GOLDEN.with_name("history-report.md")


def _history_story() -> list[SyncRun]:
    """A hand scale corrected by the reconciler, a Git image bump (a deployment), a hand
    hotfix superseded by a commit (both), and a hand label still open."""
    from dataclasses import replace

    from gitops_nb.model import FIELD_MANAGER, Mode
    from tests.factories import change, drifted

    image = "spec.template.spec.containers[name=api].image"
    hand = replace(change(manager="kubectl-scale", time=None), cause=Cause.CLUSTER)
    bump = replace(change(image, "api:1", "api:2", FIELD_MANAGER, "Apply"), cause=Cause.GIT)
    hotfix = replace(change(image, "api:2-hotfix", "api:3", "kubectl-set"), cause=Cause.BOTH)
    label = replace(
        change("metadata.labels.team", "ops", None, "kubectl-label"),
        cause=Cause.CLUSTER,
        op="added",
    )
    wrote, fix = Action.CONFIGURED, Mode.CORRECT

    def seen(change_: FieldChange, cause: Cause, action: Action = Action.UNCHANGED) -> ObjectResult:
        return replace(drifted(change_, action=action), cause=cause)

    return [
        run(0, in_sync(DEP), commit="c1"),
        run(1, seen(hand, Cause.CLUSTER), commit="c1"),
        run(2, seen(hand, Cause.CLUSTER, wrote), mode=fix, commit="c1"),
        run(3, in_sync(DEP), commit="c1"),
        run(4, seen(bump, Cause.GIT, wrote), mode=fix, commit="c2"),
        run(5, in_sync(DEP), commit="c2"),
        run(6, seen(hotfix, Cause.BOTH, wrote), mode=fix, commit="c3"),
        run(7, seen(label, Cause.CLUSTER), commit="c3"),
    ]  # fmt: skip


def test_history_markdown_matches_golden_and_never_blames_our_manager() -> None:
    from gitops_nb.model import FIELD_MANAGER
    from gitops_nb.report import from_history
    from tests.factories import NOW

    text = to_markdown(from_history(_history_story(), now=NOW))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        HISTORY_GOLDEN.write_text(text, encoding="utf-8")
    assert text == HISTORY_GOLDEN.read_text(encoding="utf-8"), "run with UPDATE_GOLDEN=1 and review"
    # drift (episodes, then the drifted objects) before deployments
    assert text.index("## Drift episodes") < text.index("## Drifted objects")
    assert text.index("## Drifted objects") < text.index("## Deployments (Git changes)")
    episodes = text.split("## Drift episodes", 1)[1].split("## Drifted objects", 1)[0]
    assert "kubectl-scale" in episodes and "kubectl-set" in episodes
    assert "superseded by commit" in episodes
    deploys = text.split("## Deployments (Git changes)", 1)[1]
    assert "c2" in deploys and "c3" in deploys
    # our own manager is never responsible: not in the episodes, the managers, or the
    # Manager column of a Git-caused change (a commit and its author are named instead)
    assert FIELD_MANAGER not in text
