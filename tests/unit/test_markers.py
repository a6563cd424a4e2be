"""The ``cluster`` marker is on every test that needs the control plane (collection only).

Collects the whole suite in a subprocess with ``-m "not cluster"`` and a probe plugin that
records, for every test, its fixtures, its marker and whether ``-m`` kept it. Nothing runs,
so no control plane starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import CLUSTER_FIXTURES

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, os

from tests.conftest import fixtures_of

_deselected = []


def pytest_deselected(items):
    _deselected.extend(items)


def pytest_collection_finish(session):
    def row(item, kept):
        return {
            "id": item.nodeid,
            "fixtures": sorted(fixtures_of(item)),
            "cluster": item.get_closest_marker("cluster") is not None,
            "kept": kept,
        }

    rows = [row(i, True) for i in session.items] + [row(i, False) for i in _deselected]
    with open(os.environ["MARKER_PROBE_OUT"], "w") as f:
        json.dump(rows, f)
"""
# Tests that start a control plane of their own, without the session fixtures.
SELF_STARTED = {
    "tests/integration/test_localcluster.py::test_failed_start_names_the_component_and_stops_the_rest",
    "tests/integration/test_localcluster.py::test_cli_local_cluster_up_detach_and_down",
    "tests/integration/test_demo_time.py::"
    "test_every_demo_starts_on_a_fresh_cluster_and_gives_the_same_numbers",
}


def collect(tmp_path: Path) -> list[dict[str, Any]]:
    (tmp_path / "marker_probe.py").write_text(PROBE)
    out = tmp_path / "rows.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "MARKER_PROBE_OUT": str(out),
    }
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"),
            *("-p", "marker_probe", "-m", "not cluster", "tests"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows: list[dict[str, Any]] = json.loads(out.read_text())
    return rows


def test_cluster_marker_covers_every_control_plane_test(tmp_path: Path) -> None:
    rows = collect(tmp_path)
    by_id = {r["id"]: r for r in rows}
    assert __name__.rpartition(".")[2] in " ".join(by_id)  # the probe saw this very file

    uses_cluster = {r["id"] for r in rows if CLUSTER_FIXTURES & set(r["fixtures"])}
    marked = {r["id"] for r in rows if r["cluster"]}
    assert uses_cluster, "no test uses the control plane fixtures: the probe is broken"
    assert uses_cluster <= marked, sorted(uses_cluster - marked)
    assert marked == uses_cluster | SELF_STARTED, sorted(marked ^ (uses_cluster | SELF_STARTED))

    # -m "not cluster" keeps exactly the unmarked tests
    assert {r["id"] for r in rows if not r["kept"]} == marked
    # fixtures that need the cluster through another fixture are caught too
    assert any(r["cluster"] and "demo" in r["fixtures"] for r in rows)
    # every test of the engine-against-the-server files is marked
    for name in ("test_sync", "test_job", "test_history_e2e", "test_cli"):
        ids = [i for i in by_id if i.startswith(f"tests/integration/{name}.py::")]
        assert ids and all(by_id[i]["cluster"] for i in ids), name
    # and nothing under tests/unit needs it
    assert not [i for i in marked if i.startswith("tests/unit/")]
