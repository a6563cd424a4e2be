"""Simulated nodes: loopback addresses, kwok's configuration and our failure Stages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gitops_nb import binaries
from gitops_nb.localcluster import is_loopback, non_loopback
from gitops_nb.localcluster import nodes as simulated

ROOT = Path(__file__).resolve().parents[2]


def test_node_addresses_and_pod_cidrs_are_loopback_and_distinct() -> None:
    manifests = [simulated.node_manifest(i) for i in range(simulated.MAX_NODES)]
    cidrs = [m["spec"]["podCIDR"] for m in manifests]
    ips = [
        a["address"]
        for m in manifests
        for a in m["status"]["addresses"]
        if a["type"] == "InternalIP"
    ]
    assert all(is_loopback(x) for x in cidrs + ips)
    assert len(set(cidrs)) == len(set(ips)) == simulated.MAX_NODES


def test_kwok_command_line_is_loopback_and_the_check_covers_its_flags(tmp_path: Path) -> None:
    p = simulated.kwok_process(Path("kwok"), tmp_path, tmp_path / "k", tmp_path / "c")
    assert non_loopback(p.args) == []
    assert non_loopback(["--cidr=10.0.0.0/24"]) == ["--cidr=10.0.0.0/24"]
    assert non_loopback(["--node-ip=196.168.0.1"]) == ["--node-ip=196.168.0.1"]
    assert non_loopback(["--server-address=0.0.0.0:10247"]) == ["--server-address=0.0.0.0:10247"]
    assert is_loopback("127.201.0.0/16") and not is_loopback("128.0.0.1") and not is_loopback("x")


def test_kwok_serves_nothing() -> None:
    options = simulated.kwok_configuration()["options"]
    assert "serverAddress" not in options and "nodePort" not in options
    assert options["podPlayStageParallelism"] > 0 and options["nodePlayStageParallelism"] > 0


def test_stock_stages_skip_simulated_pods_and_ours_apply_once(tmp_path: Path) -> None:
    stock = tmp_path / "pod-ready.yaml"
    stock.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kwok.x-k8s.io/v1alpha1",
                "kind": "Stage",
                "metadata": {"name": "pod-ready"},
                "spec": {"selector": {"matchExpressions": []}},
            }
        )
    )
    config = simulated.write_kwok_config(tmp_path / "kwok.yaml", [stock])
    docs = list(yaml.safe_load_all(config.read_text()))
    assert docs[0]["kind"] == "KwokConfiguration"
    ready = docs[1]["spec"]["selector"]["matchExpressions"]
    assert {
        "key": f'.metadata.labels["{simulated.SIMULATE_LABEL}"]',
        "operator": "DoesNotExist",
    } in ready
    ours = {d["metadata"]["name"]: d for d in docs[2:]}
    assert set(ours) == {f"gitops-nb-pod-{f}" for f in simulated.FAILURES}
    for stage in ours.values():
        keys = {e["key"]: e["operator"] for e in stage["spec"]["selector"]["matchExpressions"]}
        assert keys[".status.containerStatuses"] == "DoesNotExist"  # applied once, no loop


def test_kwok_version_matches_its_go_module_and_build_script() -> None:
    gomod = (ROOT / "tools/kwok/go.mod").read_text()
    assert f"sigs.k8s.io/kwok {binaries.KWOK_VERSION}" in gomod
    script = (ROOT / "tools/kwok/build.sh").read_text()
    assert all(s in script for s in binaries.KWOK_STAGES)
    assert "kube-scheduler" in binaries.BINARIES
    assert "tools/kwok/build.sh" in (ROOT / "Makefile").read_text()


def _complete_kwok_cache(d: Path) -> None:
    (d / "stages").mkdir(parents=True)
    (d / "kwok").write_text("#!/bin/sh\n")
    (d / "kwok").chmod(0o755)
    for s in binaries.KWOK_STAGES:
        (d / "stages" / s).write_text("kind: Stage\n")


def test_kwok_build_script_and_find_kwok_agree_on_the_cache_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("GITOPS_NB_KWOK_DIR", raising=False)
    _complete_kwok_cache(binaries.kwok_dir())
    done = subprocess.run(
        [str(ROOT / "tools/kwok/build.sh")], capture_output=True, text=True, check=True
    )
    assert Path(done.stdout.strip()) == binaries.kwok_dir()  # complete: nothing rebuilt
    binary, _ = binaries.find_kwok()
    assert binary == tmp_path / "gitops-nb" / "kwok" / f"kwok-{binaries.KWOK_VERSION}" / "kwok"


@pytest.mark.skipif(shutil.which("go") is None, reason="Go builds kwok")
def test_kwok_build_is_pinned_by_the_modules_go_sum(tmp_path: Path) -> None:
    """The build runs inside tools/kwok with -mod=readonly: a go.sum without kwok's entries
    stops it before anything is fetched or written (``go install …@v`` ignored go.sum)."""
    module = tmp_path / "kwok-module"
    shutil.copytree(ROOT / "tools/kwok", module)
    (module / "go.sum").write_text("")
    out = tmp_path / "out"
    env = {**os.environ, "GITOPS_NB_KWOK_DIR": str(out), "GOPROXY": "off", "GOFLAGS": ""}
    failed = subprocess.run(
        [str(module / "build.sh")], capture_output=True, text=True, env=env, check=False
    )
    assert failed.returncode != 0
    assert "missing go.sum entry" in failed.stderr
    assert not (out / "kwok").exists()
