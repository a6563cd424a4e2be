"""Coalesced records on hand-made run sequences: what folds, what never does, and that drift
episodes keep their exact timing."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from gitops_nb.history.frames import runs as runs_frame
from gitops_nb.history.metrics import summary
from gitops_nb.history.timeline import REVERTED, drift_intervals
from gitops_nb.model import Action, DiffStatus, Mode, ObjectResult, Outcome, SyncRun
from gitops_nb.records.coalesce import can_fold, coalesce
from gitops_nb.records.files import read_dir
from gitops_nb.records.store import DirectoryStore
from tests.factories import CM, DEP, at, change, drifted, in_sync, run


def steady(hours: range, *objects: ObjectResult, **kw: object) -> list[SyncRun]:
    return [run(h, *objects, **kw) for h in hours]  # type: ignore[arg-type]


def test_steady_state_runs_fold_into_one_record() -> None:
    runs = steady(range(100), in_sync(), in_sync(CM))
    [rec] = coalesce(runs)
    assert rec.repeats == 100
    assert rec.run_id == runs[0].run_id and rec.first_started == at(0)
    assert rec.finished == runs[0].finished  # the first run's own times stay
    assert rec.last_started == at(99)
    assert rec.last_finished == runs[-1].finished
    assert rec.last_run_id == runs[-1].run_id


@pytest.mark.parametrize(
    "other",
    [
        run(1, in_sync(), commit="c2"),  # Git moved
        run(1, drifted(change())),  # a status changed
        run(1, in_sync(), outcome=Outcome.FAILED),  # another outcome
        run(1, in_sync(), mode=Mode.CORRECT),  # another mode
        run(1, in_sync(), in_sync(CM)),  # another object set
        replace(run(1, in_sync()), error="boom"),
        replace(run(1, in_sync()), trigger="manual"),
        replace(run(1, in_sync()), ignore=("manager=x",)),
    ],
)
def test_any_difference_starts_a_new_record(other: SyncRun) -> None:
    assert not can_fold(run(0, in_sync()), other)
    assert [r.repeats for r in coalesce([run(0, in_sync()), other])] == [1, 1]


def test_a_new_hand_value_under_the_same_status_is_not_merged_away() -> None:
    seq = [run(0, drifted(change(live=5))), run(1, drifted(change(live=6)))]
    assert len(coalesce(seq)) == 2
    # the same value written again by hand (a new managedFields time) is news too
    seq = [run(0, drifted(change(time="2026-11-28T10:00:00Z"))), run(1, drifted(change()))]
    assert len(coalesce(seq)) == 1
    seq[1] = run(1, drifted(change(time="2026-11-28T10:30:00Z")))
    assert len(coalesce(seq)) == 2


def test_runs_that_write_always_keep_their_own_record() -> None:
    wrote = ObjectResult(DEP, Action.CONFIGURED, DiffStatus.DRIFTED, (change(),))
    seq = [run(0, wrote, mode=Mode.CORRECT), run(1, wrote, mode=Mode.CORRECT)]
    assert len(coalesce(seq)) == 2
    after = [run(2, in_sync(), mode=Mode.CORRECT), run(3, in_sync(), mode=Mode.CORRECT)]
    assert [r.repeats for r in coalesce([*seq, *after])] == [1, 1, 2]


def test_a_retried_write_of_the_same_run_is_not_counted_twice() -> None:
    a, b = run(0, in_sync()), run(1, in_sync())
    assert [r.repeats for r in coalesce([a, a, b, b])] == [2]


def test_apps_fold_independently_when_interleaved() -> None:
    seq = []
    for h in range(10):
        seq += [run(h, in_sync(), app="web"), run(h, in_sync(), app="shop")]
    out = coalesce(seq)
    assert sorted((r.app, r.repeats) for r in out) == [("shop", 10), ("web", 10)]


def test_old_schema_records_are_never_extended() -> None:
    old = SyncRun.from_dict({**run(0, in_sync()).to_dict(), "schema": 2})
    assert old.repeats == 1 and old.last_started == old.started
    assert not can_fold(old, run(1, in_sync()))


def test_schema_3_round_trips_and_older_schemas_load_as_one_run() -> None:
    [rec] = coalesce(steady(range(5), drifted(change())))
    d = rec.to_dict()
    assert (d["schema"], d["repeats"], d["first_started"], d["last_started"]) == (
        3,
        5,
        at(0),
        at(4),
    )
    assert SyncRun.from_dict(json.loads(json.dumps(d))) == rec
    v2 = {k: v for k, v in d.items() if k not in ("repeats", "last_started", "last_finished")}
    loaded = SyncRun.from_dict({**v2, "schema": 2, "repeats": 7})
    assert loaded.repeats == 1  # a schema 2 record is one run, whatever else it carries
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        SyncRun.from_dict({**d, "repeats": 0})


# --- drift timing ---------------------------------------------------------------------------


def test_episode_opens_at_first_sighting_and_ends_at_first_run_without_it() -> None:
    raw = [
        *steady(range(0, 3), in_sync()),
        *steady(range(3, 8), drifted(change())),
        *steady(range(8, 12), in_sync()),
    ]
    recs = coalesce(raw)
    assert [r.repeats for r in recs] == [3, 5, 4]
    ep = drift_intervals(recs).iloc[0]
    assert ep["first_seen"] == pd.Timestamp(at(3))
    assert ep["last_seen"] == pd.Timestamp(at(7))
    assert ep["resolved_at"] == pd.Timestamp(at(8))  # the first run that saw it gone
    assert ep["runs_seen"] == 5
    assert ep["resolution"] == REVERTED
    assert drift_intervals(recs).equals(drift_intervals(raw))


def _random_sequence(rng: random.Random, n: int) -> list[SyncRun]:
    states = [
        (in_sync(), in_sync(CM)),
        (drifted(change()), in_sync(CM)),
        (drifted(change(live=7)), in_sync(CM)),
        (drifted(change()), drifted(change(path="data.k", live="x", desired="y"), ref=CM)),
        (in_sync(),),  # CM removed from Git
        (ObjectResult(DEP, Action.UNCHANGED, DiffStatus.ERROR, error="timeout"), in_sync(CM)),
    ]
    out, state, commit, outcome = [], states[0], "c1", Outcome.SUCCEEDED
    for i in range(n):
        if rng.random() < 0.15:
            state = rng.choice(states)
        if rng.random() < 0.03:
            commit = rng.choice(["c1", "c2", "c3"])
        outcome = Outcome.FAILED if rng.random() < 0.05 else Outcome.SUCCEEDED
        app = rng.choice(["web", "shop"])
        out.append(run(i / 12, *state, commit=commit, outcome=outcome, app=app))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_coalesced_history_has_exactly_the_episodes_of_the_raw_one(seed: int) -> None:
    raw = _random_sequence(random.Random(seed), 400)
    recs = coalesce(raw)
    assert len(recs) < len(raw) / 2  # it does fold
    assert sum(r.repeats for r in recs) == len(raw)
    pd.testing.assert_frame_equal(drift_intervals(recs), drift_intervals(raw))


def test_frames_and_summary_count_runs_not_records() -> None:
    raw = [*steady(range(0, 6), in_sync()), run(6, in_sync(), outcome=Outcome.FAILED)]
    recs = coalesce(raw)
    df = runs_frame(recs)
    assert list(df["repeats"]) == [6, 1]
    assert df["last_started"].iloc[0] == pd.Timestamp(at(5))
    s = summary(df, drift_intervals(recs))
    assert s["runs"] == 7
    assert s["success_rate"] == pytest.approx(6 / 7)
    assert s == summary(runs_frame(raw), drift_intervals(raw))


# --- the directory store ----------------------------------------------------------------------


def test_directory_store_folds_rewrites_and_reads_back(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    raw = [
        *steady(range(0, 20), in_sync()),
        *steady(range(20, 30), drifted(change())),
        *steady(range(30, 40), in_sync()),
    ]
    for r in raw:
        store.write(r)
    store.write(raw[-1])  # a retry after a lost reply
    assert len(list(tmp_path.glob("*.json"))) == 3
    assert read_dir(tmp_path) == coalesce(raw)
    assert [r.repeats for r in store.read("web")] == [20, 10, 10]
    assert store.trim("web", 2) == 1


def test_directory_store_trims_by_age_of_the_last_run(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    for h in range(0, 10):
        store.write(run(h, in_sync()))  # one record, its last run at hour 9
    store.write(run(10, in_sync(), commit="c2"))
    store.write(run(11, in_sync(), commit="c3"))
    # started at hour 0, but its last run (hour 9) is younger than the cut: it stays
    assert store.trim_before("web", pd.Timestamp(at(8.5)).to_pydatetime()) == 0
    assert store.trim_before("web", pd.Timestamp(at(10.5)).to_pydatetime()) == 2
    assert [r.started for r in store.read("web")] == [at(11)]


def test_notebook_outcome_counts_count_runs_not_records() -> None:
    from gitops_nb.notebook.data import outcome_counts

    raw = [*steady(range(0, 6), in_sync()), run(6, in_sync(), outcome=Outcome.FAILED)]
    folded = outcome_counts(runs_frame(coalesce(raw))).set_index("mode")
    assert folded.loc["detect"].to_dict() == {"failed": 1, "succeeded": 6, "total": 7}
    pd.testing.assert_frame_equal(
        outcome_counts(runs_frame(coalesce(raw))), outcome_counts(runs_frame(raw))
    )
