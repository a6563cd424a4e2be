"""Report records from hand-made diffs and sync runs (the scenario is in tests.factories)."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd

from gitops_nb.masking import MASK_DESIRED, MASK_LIVE
from gitops_nb.model import Action, DiffStatus, ObjectResult, Outcome, Revision, Signature
from gitops_nb.report import from_history, render
from gitops_nb.report.model import HISTORY, LIVE, synth_diff
from tests.factories import (
    CM,
    DEP,
    ING,
    NOW,
    OTHER_B64,
    RAW_B64,
    REV,
    SECRET,
    T0,
    at,
    history_report,
    history_runs,
    in_sync,
    live_report,
    report_run,
    sync_run,
)


def test_from_diff_counts_and_order() -> None:
    r = live_report()
    assert r.source == LIVE and r.app == "web" and r.revision == REV
    assert r.generated_at == "2026-11-28T15:00:00Z"
    assert r.counts == {
        "in_sync": 2,
        "drifted": 3,
        "missing": 1,
        "extraneous": 1,
        "error": 1,
        "objects": 8,
    }
    # drift first (most recent change first, no time last), the error last
    assert [str(o.ref) for o in r.objects] == [
        "Deployment/web/api",
        "Secret/web/db",
        "ConfigMap/web/settings",
        "Ingress/web/www",
        "Service/web/old",
        "ConfigMap/web/broken",
    ]
    assert [o.open for o in r.objects] == [True] * 5 + [False]
    assert [o.cause for o in r.objects] == ["both", "cluster", "cluster", "git", "git", None]
    assert r.objects[0].managers == ("kubectl-edit",)  # never our own manager
    assert r.objects[-1].error == "ConfigMap/web/broken: 403 forbidden"


def test_from_diff_masks_secret_changes_and_text() -> None:
    obj = next(o for o in live_report().objects if o.ref == SECRET)
    assert obj.changes[0].live == MASK_LIVE and obj.changes[0].desired == MASK_DESIRED
    assert RAW_B64 not in obj.diff_text and OTHER_B64 not in obj.diff_text
    assert "password: ***" in obj.diff_text


def test_from_history_open_episodes_first() -> None:
    r = history_report()
    assert r.source == HISTORY and r.app == "web"
    assert [(str(o.ref), o.open) for o in r.objects] == [
        ("ConfigMap/web/settings", True),
        ("Secret/web/db", True),
        ("Deployment/web/api", False),
    ]
    dep = r.objects[2]
    assert dep.first_seen == at(1) and dep.resolved_at == at(4)
    # each run renders another commit: Git adopted the value, named with commit and author
    assert dep.resolution == "changed in git by commit c40000000000 (dev)"
    assert dep.changes[0].path == "spec.replicas" and dep.changes[0].live == 5
    assert "-spec.replicas: 5\n+spec.replicas: 3" in dep.diff_text
    cm = r.objects[0]
    assert cm.first_seen == at(2) and cm.resolved_at is None and cm.managers == ("helm",)
    assert r.revision is not None and r.revision.commit.startswith("c4")
    assert r.period == (at(0), at(4.01))


def test_from_history_counts_and_metrics() -> None:
    r = history_report()
    assert r.counts["runs"] == 5 and r.counts["runs_failed"] == 1
    assert r.counts["episodes"] == 3
    assert r.counts["episodes_open"] == 2 and r.counts["episodes_resolved"] == 1
    # state at the last run: DEP in sync, CM and Secret drifted
    assert r.counts["in_sync"] == 1 and r.counts["drifted"] == 2
    assert r.metrics["success_rate"] == 0.8
    assert r.metrics["mean_time_to_restore_s"] == 3 * 3600
    assert r.intervals is not None and len(r.intervals) == 3


def test_from_history_masks_secret_values_everywhere() -> None:
    r = history_report()
    secret = next(o for o in r.objects if o.ref == SECRET)
    assert RAW_B64 not in repr(secret) and OTHER_B64 not in repr(secret)
    assert r.intervals is not None
    row = r.intervals[r.intervals["kind"] == "Secret"].iloc[0]
    assert row["desired_at_start"] == "***" and list(row["live_values"]) == ["***"]
    assert row["live"] == "***" and row["desired_at_end"] == "***"


def test_from_history_end_bound_sees_episodes_open_at_end() -> None:
    end = T0 + timedelta(hours=2, minutes=30)
    r = from_history(history_runs(), end=end, now=NOW)
    assert [(str(o.ref), o.open) for o in r.objects] == [
        ("ConfigMap/web/settings", True),
        ("Deployment/web/api", True),
    ]
    assert r.counts["runs"] == 3
    assert r.period == (at(0), at(2.5))


def test_from_history_start_bound_drops_episodes_resolved_before() -> None:
    runs = [*history_runs(), report_run(5, in_sync(DEP), in_sync(CM), in_sync(SECRET))]
    r = from_history(runs, start=T0 + timedelta(hours=4, minutes=30), now=NOW)
    # DEP resolved at 14:00, before the period: gone; CM and Secret resolved at 15:00
    assert [(str(o.ref), o.open) for o in r.objects] == [
        ("ConfigMap/web/settings", False),
        ("Secret/web/db", False),
    ]
    assert r.counts["runs"] == 1 and r.counts["in_sync"] == 3


def test_from_history_filters_app_and_handles_empty() -> None:
    other = [*history_runs()]
    r = from_history(other, app="shop", now=NOW)
    assert r.app == "shop" and r.objects == () and r.period is None
    assert r.counts["runs"] == 0 and r.intervals is not None and r.intervals.empty


def test_synth_diff_for_whole_object_drift() -> None:
    text = synth_diff(ING, DiffStatus.MISSING, [None])
    assert text.splitlines() == [
        f"--- live/{ING}",
        f"+++ git/{ING}",
        "@@ whole object @@",
        "-(absent in cluster)",
        "+(object in git)",
    ]


def test_missing_object_in_history_has_no_field_changes() -> None:
    missing = ObjectResult(ING, Action.CREATED, DiffStatus.MISSING)
    r = from_history([report_run(0, missing), report_run(1, in_sync(ING))], now=NOW)
    (obj,) = r.objects
    assert obj.status is DiffStatus.MISSING and obj.changes == () and not obj.open
    assert "-(absent in cluster)" in obj.diff_text
    assert isinstance(r.intervals, pd.DataFrame)


def test_from_history_counts_the_runs_a_coalesced_history_stands_for() -> None:
    from gitops_nb.records.coalesce import coalesce
    from tests.factories import run

    raw = history_runs()
    steady = [run(h, in_sync(DEP), in_sync(CM)) for h in range(10, 16)]  # six identical runs
    recs = coalesce([*raw, *steady])
    assert len(recs) < len(raw) + len(steady)
    folded, plain = from_history(recs, now=NOW), from_history([*raw, *steady], now=NOW)
    assert folded.counts == plain.counts
    assert folded.metrics == plain.metrics
    assert folded.period == plain.period


def test_history_report_counts_refused_runs_and_unverified_commits() -> None:
    def rev(sha: str, sig: Signature | None) -> Revision:
        return Revision(sha, "2026-11-01T00:00:00Z", "a <a@x>", "m", sig)

    good = Signature("ssh", True, "SHA256:k", "alice@example.com")
    runs = [
        sync_run("1", "2026-11-01T10:00:00", revision=rev("a" * 40, None)),  # an old record
        sync_run("2", "2026-11-01T10:05:00", revision=rev("b" * 40, Signature("none"))),
        sync_run("3", "2026-11-01T10:10:00", revision=rev("b" * 40, Signature("none"))),
        sync_run("4", "2026-11-01T10:15:00", revision=rev("c" * 40, Signature("gpg"))),
        sync_run("5", "2026-11-01T10:20:00", revision=rev("d" * 40, good)),
        sync_run("6", "2026-11-01T10:25:00", revision=rev("e" * 40, None), outcome=Outcome.REFUSED),
    ]
    counts = from_history(runs).counts
    assert counts["commits_unverified"] == 2 and counts["runs_refused"] == 1
    clean = from_history(runs[:1] + runs[4:5]).counts
    assert "commits_unverified" not in clean and "runs_refused" not in clean


def test_history_report_lists_which_commits_were_unsigned_unverified_or_refused() -> None:
    """Not only counts: which commits, who, what signature, and why. Refused runs count with
    their coalesced repeats."""
    from gitops_nb.records.coalesce import coalesce

    def rev(sha: str, sig: Signature | None) -> Revision:
        return Revision(sha, "2026-11-01T00:00:00Z", "Bob <bob@x>", "m", sig)

    stranger = Signature("ssh", False, "SHA256:eve", "", "commit", "unknown-key")
    good = Signature("ssh", True, "SHA256:k", "alice@example.com")
    refused = [
        sync_run(
            str(i),
            f"2026-11-01T11:{i:02d}:00",
            revision=rev("f" * 40, stranger),
            outcome=Outcome.REFUSED,
            error="verify: commit ffff refused",
        )
        for i in range(10, 14)
    ]
    runs = coalesce(
        [
            sync_run("1", "2026-11-01T10:00:00", revision=rev("a" * 40, None)),  # an old record
            sync_run("2", "2026-11-01T10:05:00", revision=rev("b" * 40, Signature("none"))),
            sync_run("4", "2026-11-01T10:15:00", revision=rev("c" * 40, Signature("gpg"))),
            sync_run("5", "2026-11-01T10:20:00", revision=rev("d" * 40, good)),
            *refused,
        ]
    )
    assert sum(1 for r in runs if r.outcome is Outcome.REFUSED) < 4, "refusals must coalesce"
    rep = from_history(runs)
    assert rep.counts["runs_refused"] == 4  # every refused run, not every record
    assert rep.counts["commits_unverified"] == 2
    assert rep.untrusted is not None
    rows = {r["commit"][0]: r for r in rep.untrusted.to_dict("records")}
    assert set(rows) == {"b", "c", "f"}  # never the old record, never the verified one
    assert (rows["b"]["finding"], rows["b"]["outcome"]) == ("unsigned", "applied")
    assert (rows["c"]["signature_type"], rows["c"]["finding"]) == ("gpg", "signed, not verified")
    assert (rows["f"]["finding"], rows["f"]["outcome"], rows["f"]["runs"]) == (
        "signed by an unknown key",
        "refused",
        4,
    )
    assert (
        rows["f"]["signature_fingerprint"] == "SHA256:eve" and rows["f"]["author"] == "Bob <bob@x>"
    )

    md = render(rep, "markdown")
    section = md.split("## Unsigned or unverified commits", 1)[1].split("\n## ", 1)[0]
    assert "ffffffffffff" in section and "signed by an unknown key" in section
    assert "signed, not verified" in section and "SHA256:eve" in section
    assert "dddddddddddd" not in section
    html = render(rep, "html")
    assert "<h2>Unsigned or unverified commits</h2>" in html and "SHA256:eve" in html
    data = json.loads(render(rep, "json"))
    assert {r["commit"][0] for r in data["untrusted_commits"]} == {"b", "c", "f"}
