"""Value, timestamp and duration text used by every exporter."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from gitops_nb.report.fmt import duration_text, iso_now, percent_text, ts_text, value_text


def test_value_text() -> None:
    assert value_text("as is") == "as is"
    assert value_text(3) == "3" and value_text(True) == "true"
    assert value_text({"b": 1, "a": [1, None]}) == '{"a":[1,null],"b":1}'
    assert value_text(None) == "(absent)" and value_text(None, none="") == ""


def test_ts_text_normalises_to_utc() -> None:
    assert ts_text("2026-11-28T12:00:00+02:00") == "2026-11-28T10:00:00Z"
    assert ts_text(pd.Timestamp("2026-11-28 10:00:00.5", tz="UTC")) == "2026-11-28T10:00:00Z"
    assert ts_text(datetime(2026, 11, 28, 10, 0)) == "2026-11-28T10:00:00Z"
    assert ts_text(pd.NaT) == "" and ts_text(None) == "" and ts_text("") == ""
    assert iso_now(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert iso_now(None).endswith("Z")


def test_duration_and_percent() -> None:
    assert duration_text(0) == "0s" and duration_text(59) == "59s"
    assert duration_text(3 * 3600 + 60) == "3h 1m"
    assert duration_text(2 * 86400 + 3600 + 5) == "2d 1h"
    assert duration_text(None) == "" and duration_text(float("nan")) == ""
    assert percent_text(0.8) == "80%" and percent_text(None) == ""


def test_duration_styles_pin_every_call_sites_text() -> None:
    """One formatter, three styles: reports (brief), the fleet table (fixed), CLI tables
    (clock). Each keeps the text its call site printed before they shared one function."""
    seconds = [0, 5, 59.6, 65, 3600, 3 * 3600 + 60, 86400 + 300, 2 * 86400 + 3600 + 5]
    assert [duration_text(s) for s in seconds] == [
        "0s", "5s", "1m", "1m 5s", "1h", "3h 1m", "1d 5m", "2d 1h",
    ]  # fmt: skip
    assert [duration_text(s, style="fixed") for s in seconds] == [
        "0m 0s", "0m 5s", "0m 59s", "1m 5s", "1h 0m", "3h 1m", "1d 0h 5m", "2d 1h 0m",
    ]  # fmt: skip
    assert [duration_text(pd.Timedelta(seconds=s), style="clock") for s in seconds] == [
        "0m00s", "0m05s", "0m59s", "1m05s", "1h00m", "3h01m", "24h05m", "49h00m",
    ]  # fmt: skip
    assert duration_text(None, style="fixed", missing="—") == "—"
    assert duration_text(float("nan"), style="fixed", missing="—") == "—"
    assert duration_text(pd.NaT, style="clock") == ""
