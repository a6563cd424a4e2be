"""The demo's simulated clock (``StoryClock``) and where its story starts."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from gitops_nb.localcluster.demo import STORY_MINUTES, StoryClock, story_start

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def test_a_moment_reads_exactly_then_runs_in_real_time() -> None:
    clock = StoryClock(T0)
    moment = clock.at(45)
    assert moment == T0 + dt.timedelta(minutes=45)
    assert clock() == moment  # a run's start is the moment itself: reruns agree
    time.sleep(0.05)
    later = clock()
    assert dt.timedelta(seconds=0.04) < later - moment < dt.timedelta(seconds=5)


def test_the_next_moment_starts_again_from_its_own_time() -> None:
    clock = StoryClock(T0)
    clock.at(5)
    clock()
    time.sleep(0.02)
    assert clock.at(75) == T0 + dt.timedelta(minutes=75)
    assert clock() == T0 + dt.timedelta(minutes=75)


def test_the_story_never_goes_back() -> None:
    clock = StoryClock(T0)
    clock.at(100)
    with pytest.raises(ValueError, match="forward only"):
        clock.at(99)


def test_the_story_ends_on_the_current_minute() -> None:
    now = dt.datetime(2026, 11, 29, 1, 47, 31, 500, tzinfo=dt.UTC)
    start = story_start(now)
    assert start + dt.timedelta(minutes=STORY_MINUTES) == now.replace(second=0, microsecond=0)
