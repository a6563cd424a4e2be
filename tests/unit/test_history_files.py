"""Local history directory and JSONL / JSON / Parquet files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gitops_nb.errors import GitOpsError
from gitops_nb.model import Action, Mode, SyncRun
from gitops_nb.records.files import (
    export_jsonl,
    export_parquet,
    load_file,
    prune_dir,
    read_dir,
    write_run,
)
from tests.factories import change, drifted, revision, sync_run


def record(run_id: str, hour: int, app: str = "web") -> SyncRun:
    """A correcting run at ``hour``:00 that scaled the api Deployment back."""
    return sync_run(
        run_id,
        f"2026-11-28T{hour:02d}:00:00Z",
        drifted(change(time=None), action=Action.CONFIGURED),
        app=app,
        mode=Mode.CORRECT,
        revision=revision("abc", "2026-11-28T09:00:00Z", message="bump"),
        counts={"desired": 1, "configured": 1},
    )


def test_write_run_names_file_by_start_and_id_and_leaves_no_temp(tmp_path: Path) -> None:
    path = write_run(tmp_path / "h", record("r/../1", 10))
    assert path.parent == tmp_path / "h"
    assert path.name == "20261128T100000Z_r-..-1.json"
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert SyncRun.from_dict(json.loads(path.read_text())) == record("r/../1", 10)


def test_read_dir_sorted_and_filtered_by_app(tmp_path: Path) -> None:
    for rec in (record("b", 12), record("a", 9), record("x", 10, app="other")):
        write_run(tmp_path, rec)
    assert [r.run_id for r in read_dir(tmp_path)] == ["a", "x", "b"]
    assert [r.run_id for r in read_dir(tmp_path, app="web")] == ["a", "b"]
    assert read_dir(tmp_path / "missing") == []


def test_read_dir_names_a_bad_file(tmp_path: Path) -> None:
    write_run(tmp_path, record("a", 9))
    bad = tmp_path / "20261128T110000Z_bad.json"
    bad.write_text('{"schema": 1,\n  oops}')
    with pytest.raises(GitOpsError, match=r"_bad\.json:2: invalid JSON"):
        read_dir(tmp_path)
    bad.write_text(json.dumps({"schema": 1, "run_id": "x"}))
    with pytest.raises(GitOpsError, match=r"_bad\.json: invalid sync-run record"):
        read_dir(tmp_path)


def test_prune_dir_keeps_newest_per_app(tmp_path: Path) -> None:
    for h in range(5):
        write_run(tmp_path, record(f"w{h}", h))
    write_run(tmp_path, record("o1", 1, app="other"))
    assert prune_dir(tmp_path, "web", keep=2) == 3
    assert [r.run_id for r in read_dir(tmp_path)] == ["o1", "w3", "w4"]
    assert prune_dir(tmp_path, "web", keep=2) == 0
    with pytest.raises(GitOpsError):
        prune_dir(tmp_path, "web", keep=-1)


def test_jsonl_round_trip_and_bad_line(tmp_path: Path) -> None:
    runs = [record("b", 12), record("a", 9)]
    path = tmp_path / "out" / "runs.jsonl"
    export_jsonl(runs, path)
    assert len(path.read_text().splitlines()) == 2
    assert load_file(path) == [runs[1], runs[0]]
    path.write_text(path.read_text() + "\n{not json}\n")
    with pytest.raises(GitOpsError, match=r"runs\.jsonl:4"):
        load_file(path)


def test_json_list_or_single_record(tmp_path: Path) -> None:
    many = tmp_path / "many.json"
    many.write_text(json.dumps([record("b", 12).to_dict(), record("a", 9).to_dict()]))
    assert [r.run_id for r in load_file(many)] == ["a", "b"]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(record("a", 9).to_dict()))
    assert load_file(single) == [record("a", 9)]
    with pytest.raises(GitOpsError, match="unknown history file type"):
        load_file(tmp_path / "x.csv")


def test_parquet_round_trip_with_key_columns(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    runs = [record("b", 12), record("a", 9, app="other")]
    path = tmp_path / "runs.parquet"
    export_parquet(runs, path)
    table = pq.read_table(path)
    assert {"run_id", "app", "started", "outcome", "commit", "record"} <= set(table.column_names)
    assert table.column("app").to_pylist() == ["web", "other"]
    assert load_file(path) == [runs[1], runs[0]]


def test_reads_list_the_directory_again_only_after_another_process_changed_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fleet shares one directory: its own writes, rewrites and trims must not cost a new
    listing per read (O(N²) per fleet run), but another writer's files must be seen."""
    listings: list[str] = []
    real = os.listdir

    def listdir(d: str | Path) -> list[str]:
        listings.append(str(d))
        return real(d)

    monkeypatch.setattr(os, "listdir", listdir)
    h = tmp_path / "h"
    for i in range(6):
        write_run(h, record(f"w{i}", 1 + i))
        write_run(h, record(f"o{i}", 1 + i, app="other"))
    assert [r.run_id for r in read_dir(h, app="web")] == [f"w{i}" for i in range(6)]
    assert len(listings) == 1
    write_run(h, record("w9", 20))  # our own writes and trims keep the listing
    assert prune_dir(h, "web", keep=2) == 5
    assert [r.run_id for r in read_dir(h, app="web")] == ["w5", "w9"]
    assert len(listings) == 1

    # another process adds a record (and a later clock tick moves the directory's mtime)
    foreign = record("f1", 21)
    (h / "20261128T210000Z_f1.json").write_text(json.dumps(foreign.to_dict()))
    st = h.stat()
    os.utime(h, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert [r.run_id for r in read_dir(h, app="web")] == ["w5", "w9", "f1"]
    assert len(listings) == 2
    # and removes one: gone from the next read
    (h / "20261128T210000Z_f1.json").unlink()
    os.utime(h, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert [r.run_id for r in read_dir(h, app="web")] == ["w5", "w9"]
    assert [r.run_id for r in read_dir(h, app="other")] == [f"o{i}" for i in range(6)]

    # reading every app's records (history, notebooks) lists the directory every time, so a
    # file another process wrote in the same clock tick is never missed
    (h / "20261128T220000Z_f2.json").write_text(json.dumps(record("f2", 22).to_dict()))
    os.utime(h, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))  # the mtime did not move
    before = len(listings)
    assert "f2" in [r.run_id for r in read_dir(h)]
    assert len(listings) == before + 1
