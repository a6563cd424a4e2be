"""Delivery and drift metrics from the history frames: lead time, restore time, failure rate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, NamedTuple

import pandas as pd

from gitops_nb.history.delivery import change_failure, effective
from gitops_nb.history.frames import NAT, NO_DURATION, TIME_DTYPE, frame
from gitops_nb.model import FIELD_MANAGER

LEAD_COLUMNS: dict[str, str] = {
    "commit": "str",
    "time": TIME_DTYPE,
    "applied_at": TIME_DTYPE,
    "run_id": "object",
    "lead_time": "timedelta64[us]",
    "healthy_at": TIME_DTYPE,
    "healthy_run_id": "object",
    "time_to_applied": "timedelta64[us]",
    "time_to_healthy": "timedelta64[us]",
}

TOP = 5

#: what each :func:`summary` number means, written next to it wherever it is shown
#: (notebook headline tables, HTML and Markdown reports)
METRIC_DEFINITIONS: dict[str, str] = {
    "runs": "sync runs recorded in the period",
    "sync_frequency": "runs per hour between the first and the last run's start",
    "success_rate": "runs that succeeded, of all runs that were not skipped",
    "mean_lead_time_s": "mean time from a commit to the end of the run that applied it",
    "median_lead_time_s": "median time from a commit to the end of the run that applied it",
    "drift_episodes": "one field (or object) changed outside Git, from first sighting to end",
    "open_episodes": "drift episodes not yet ended",
    "mean_time_to_restore_s": "mean time from a resolved drift episode's first sighting to "
    "the run that found it gone",
    "deployments": "commits the reconciler rendered and applied that changed something for the app",
    "failed_changes": "deployments that are a revert or were reverted later",
    "change_failure_rate": "failed changes / deployments: deployments that are a revert "
    "or were reverted later",
    "most_drifted_objects": "objects with the most drift episodes",
    "most_responsible_managers": "field managers that wrote the most drifted values",
}
#: what ``summary_frame`` and the reports call :data:`METRIC_DEFINITIONS` keys when the
#: plain name would clash with a health (DORA) figure of the same name
METRIC_LABELS: dict[str, str] = {
    "change_failure_rate": "change failure rate (reverted commits)",
}
#: the columns of ``time_to_healthy``, ``dora`` and ``restores`` (health, kstatus): shown
#: under those tables (:func:`definition_lines`)
HEALTH_DEFINITIONS: dict[str, str] = {
    "commit_time": "when the commit was made",
    "applied_at": "start of the first succeeded run at the commit",
    "healthy_at": "when a run at the commit first found every object Current (kstatus)",
    "lead_time": "commit → applied_at",
    "time_to_healthy": "commit → healthy_at",
    "degraded": "a run at the commit ended Degraded or failed",
    "deployments": "commits the reconciler applied that changed something for the app",
    "lead_time_median": "median time from a deployed commit to its first Healthy run",
    "change_failure_rate": "change failure rate (runs ended Degraded/Failed): failed_changes "
    "/ deployments",
    "failed_changes": "deployments with a run that ended Degraded or failed",
    "restores": "Degraded periods that ended: a run ended Degraded, a later one Healthy",
    "time_to_restore": "from the start of the run that ended Degraded to when the next "
    "Healthy run found every object Current",
    "time_to_restore_median": "median of the restores' time from the start of the run that "
    "ended Degraded to when the next Healthy run found every object Current",
}
#: table headers for :data:`HEALTH_DEFINITIONS` columns whose plain name would clash
HEALTH_LABELS: dict[str, str] = {
    "change_failure_rate": "change failure rate (runs ended Degraded/Failed)",
}


def definition_lines(columns: Iterable[str], indent: str = "  ") -> list[str]:
    """``name: definition`` for each of ``columns`` that :data:`HEALTH_DEFINITIONS` defines."""
    return [f"{indent}{c}: {HEALTH_DEFINITIONS[c]}" for c in columns if c in HEALTH_DEFINITIONS]


class _Seen(NamedTuple):
    """A succeeded run placed on the commit list: the newest commit it carries (position in
    ``commits_df``), when it started, its id and when it was Healthy (NaT: never)."""

    pos: int
    started: Any
    run_id: str
    healthy_at: Any


def _run_positions(commits_df: pd.DataFrame, runs_df: pd.DataFrame) -> list[_Seen]:
    """One :class:`_Seen` per succeeded run.

    A run at a commit outside ``commits_df`` (a commit that didn't touch the app path) is
    placed by its commit time: it applies every listed commit no newer than that.
    """
    position = {sha: i for i, sha in enumerate(commits_df["commit"])}
    times = list(commits_df["time"])
    ok = runs_df[runs_df["outcome"] == "succeeded"]
    # frames.runs fills healthy_at (frames.healthy_time); older hand-made frames lack it
    healthy = ok["healthy_at"] if "healthy_at" in ok.columns else pd.Series(NAT, ok.index)
    out = []
    for sha, ctime, started, run_id, h in zip(
        ok["commit"], ok["commit_time"], ok["started"], ok["run_id"], healthy, strict=True
    ):
        pos = position.get(sha)
        if pos is None and not pd.isna(ctime):
            pos = next((i for i, t in enumerate(times) if t <= ctime), None)
        if pos is not None:
            out.append(_Seen(pos, started, str(run_id), h))
    return out


def _earliest(
    commits_df: pd.DataFrame, seen: list[tuple[int, Any, str]]
) -> list[tuple[Any, str] | None]:
    """Per commit, the earliest (time, run id) among runs at that commit or a newer one (a
    run at commit C carries C and every commit listed after, older than, C)."""
    first: list[tuple[Any, str] | None] = [None] * len(commits_df)
    for pos, when, run_id in seen:
        best = first[pos]
        if best is None or when < best[0]:
            first[pos] = (when, run_id)
    out: list[tuple[Any, str] | None] = []
    best = None
    for here in first:
        if here is not None and (best is None or here[0] < best[0]):
            best = here
        out.append(best)
    return out


def changed_render(commits_df: pd.DataFrame) -> pd.DataFrame:
    """The commits that changed the app's render (``effect == "changed"``): a commit with
    effect ``none`` (a comment, a no-op edit) or ``error`` (the build broke) deployed nothing.
    A frame without ``effect`` (built by hand, or before the column existed) is kept whole."""
    if "effect" not in commits_df.columns:
        return commits_df
    return commits_df[commits_df["effect"] == "changed"]


def lead_times(commits_df: pd.DataFrame, runs_df: pd.DataFrame) -> pd.DataFrame:
    """Per commit that changed the render (``commits_df`` order, newest first; effect
    ``none``/``error`` commits are left out, :func:`changed_render`), its delivery: commit →
    applied → healthy. A run at commit C carries C and every commit listed after (older
    than) C; a run at a left-out commit is placed by its commit time.

    - ``applied_at``, ``run_id``: the first succeeded run that carried it (its ``started``);
    - ``healthy_at``, ``healthy_run_id``: the first succeeded run carrying it that ended
      Healthy, at that run's ``healthy_at`` (when its wait saw everything Current, see
      :func:`gitops_nb.history.frames.healthy_time`, the same rule as
      :func:`~gitops_nb.history.healthframes.time_to_healthy`);
    - ``time_to_applied = applied_at - time`` (``lead_time`` is the same figure, its older
      name) and ``time_to_healthy = healthy_at - time``. NaT: not applied / never Healthy
      (also for runs recorded before health was).

    ``runs_df`` is :func:`gitops_nb.history.frames.runs` output for the same app.
    """
    commits_df = changed_render(commits_df)
    seen = _run_positions(commits_df, runs_df)
    applied = _earliest(commits_df, [(s.pos, s.started, s.run_id) for s in seen])
    healthy = _earliest(
        commits_df, [(s.pos, s.healthy_at, s.run_id) for s in seen if not pd.isna(s.healthy_at)]
    )
    rows = []
    for sha, ctime, a, h in zip(
        commits_df["commit"], commits_df["time"], applied, healthy, strict=True
    ):
        to_applied = (a[0] - ctime) if a else NO_DURATION
        rows.append(
            {
                "commit": sha,
                "time": ctime,
                "applied_at": a[0] if a else NAT,
                "run_id": a[1] if a else None,
                "lead_time": to_applied,
                "healthy_at": h[0] if h else NAT,
                "healthy_run_id": h[1] if h else None,
                "time_to_applied": to_applied,
                "time_to_healthy": (h[0] - ctime) if h else NO_DURATION,
            }
        )
    return frame(rows, LEAD_COLUMNS)


def _seconds(values: pd.Series) -> tuple[float | None, float | None]:
    s = values.dropna()
    if s.empty:
        return None, None
    secs = s.dt.total_seconds()
    return float(secs.mean()), float(secs.median())


def _change_failure_rate(commits_df: pd.DataFrame) -> float | None:
    commits_df = changed_render(commits_df)  # effect none/error changed nothing
    if commits_df.empty:
        return None
    targets = [str(t) for t in commits_df["reverts"].dropna()]
    reverted = commits_df["commit"].map(lambda c: any(str(c).startswith(t) for t in targets))
    failed = commits_df["is_revert"].astype(bool) | reverted.astype(bool)
    return float(failed.sum()) / len(commits_df)


def _top(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]


def summary(
    runs_df: pd.DataFrame,
    intervals_df: pd.DataFrame,
    commits_df: pd.DataFrame | None = None,
    lead_df: pd.DataFrame | None = None,
    deployments_df: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Headline numbers as plain Python values (JSON-ready); ``None`` where undefined.

    - ``sync_frequency``: runs per hour between the first and last start ((n-1) / hours);
    - ``success_rate``: succeeded / runs that were not skipped;
    - ``mean_lead_time_s`` / ``median_lead_time_s``: over applied effective deployments
      (``deployments_df``, :func:`~gitops_nb.history.delivery.deployments`), else over
      applied commits (``lead_df``, or computed from ``commits_df`` and ``runs_df``);
    - ``mean_time_to_restore_s``: mean duration of resolved drift episodes;
    - ``change_failure_rate``: share of deployments (else of commits that changed the
      render) that are reverts or were reverted; ``deployments`` / ``failed_changes`` count
      them;
    - ``most_drifted_objects`` / ``most_responsible_managers``: top 5 ``(name, episodes)``;
      our own field manager is never responsible for drift and is never ranked.
    """
    # a coalesced record stands for ``repeats`` runs (frames built before schema 3: one each)
    repeats = runs_df["repeats"] if "repeats" in runs_df.columns else pd.Series(1, runs_df.index)
    last = runs_df["last_started"] if "last_started" in runs_df.columns else runs_df["started"]
    starts = runs_df["started"].dropna()
    n_runs = int(repeats.sum())
    hours = (last.max() - starts.min()).total_seconds() / 3600 if n_runs > 1 else 0.0
    attempted = runs_df["outcome"] != "skipped"
    n_attempted = int(repeats[attempted].sum())
    n_succeeded = int(repeats[attempted & (runs_df["outcome"] == "succeeded")].sum())
    if lead_df is None and commits_df is not None:
        lead_df = lead_times(commits_df, runs_df)
    if deployments_df is not None:
        mean_lead, median_lead = _seconds(effective(deployments_df)["lead_time"])
        failures: dict[str, Any] = change_failure(deployments_df)
    else:
        mean_lead, median_lead = (
            _seconds(lead_df["lead_time"]) if lead_df is not None else (None, None)
        )
        failures = {
            "deployments": None,
            "failed_changes": None,
            "change_failure_rate": (
                _change_failure_rate(commits_df) if commits_df is not None else None
            ),
        }
    resolved = intervals_df[~intervals_df["open"].astype(bool)]
    managers: Counter[str] = Counter()
    for joined in intervals_df["managers"].dropna():
        managers.update(m for m in str(joined).split(", ") if m and m != FIELD_MANAGER)
    return {
        "runs": n_runs,
        "sync_frequency": (n_runs - 1) / hours if hours > 0 else None,
        "success_rate": n_succeeded / n_attempted if n_attempted else None,
        "mean_lead_time_s": mean_lead,
        "median_lead_time_s": median_lead,
        "drift_episodes": len(intervals_df),
        "open_episodes": int(intervals_df["open"].astype(bool).sum()),
        "mean_time_to_restore_s": _seconds(resolved["duration"])[0],
        "deployments": failures["deployments"],
        "failed_changes": failures["failed_changes"],
        "change_failure_rate": failures["change_failure_rate"],
        "most_drifted_objects": _top(Counter(str(o) for o in intervals_df["object"])),
        "most_responsible_managers": _top(managers),
    }
