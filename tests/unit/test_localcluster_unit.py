"""Control-plane binaries: pinned versions agree, missing binaries say how to build them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gitops_nb import localcluster
from gitops_nb.errors import ControlPlaneError, ToolMissingError
from gitops_nb.localcluster import components, egress

ROOT = Path(__file__).resolve().parents[2]


def test_versions_match_the_go_module() -> None:
    gomod = (ROOT / "tools/controlplane/go.mod").read_text()
    assert f"k8s.io/kubernetes {localcluster.KUBERNETES_VERSION}\n" in gomod
    assert f"go.etcd.io/etcd/server/v3 {localcluster.ETCD_VERSION}\n" in gomod
    staging = localcluster.KUBERNETES_VERSION.replace("v1.", "v0.")
    assert f"k8s.io/api => k8s.io/api {staging}" in gomod


def test_missing_binary_names_the_build_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_NB_CONTROLPLANE_DIR", str(tmp_path))
    with pytest.raises(ToolMissingError) as err:
        localcluster.find_binary("kube-apiserver")
    assert "make controlplane" in str(err.value) and str(tmp_path) in str(err.value)
    with pytest.raises(ToolMissingError):
        localcluster.LocalCluster(workdir=tmp_path / "w").start()


def test_build_script_without_go_says_so(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"  # only what the script needs before it looks for go
    bin_dir.mkdir()
    for tool in ("dirname", "awk"):
        found = shutil.which(tool)
        assert found
        (bin_dir / tool).symlink_to(found)
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "GITOPS_NB_CONTROLPLANE_DIR": str(tmp_path / "bins"),
    }
    out = subprocess.run(
        ["/bin/bash", str(ROOT / "tools/controlplane/build.sh")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 3
    assert "Go is not installed" in out.stderr
    assert not (tmp_path / "bins").exists()


def test_build_script_is_a_no_op_when_cached(tmp_path: Path) -> None:
    bins = tmp_path / "bins"
    bins.mkdir()
    for b in localcluster.BINARIES:
        (bins / b).write_text("#!/bin/sh\n")
        (bins / b).chmod(0o755)
    out = subprocess.run(
        ["/bin/bash", str(ROOT / "tools/controlplane/build.sh")],
        env={"PATH": "/usr/bin:/bin", "GITOPS_NB_CONTROLPLANE_DIR": str(bins)},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and out.stdout.strip() == str(bins)


def test_binary_dir_default_is_versioned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GITOPS_NB_CONTROLPLANE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert localcluster.binary_dir() == (
        tmp_path / "gitops-nb" / "controlplane" / "k8s-v1.36.3_etcd-v3.6.8"
    )


def test_every_address_flag_the_cluster_uses_is_loopback(tmp_path: Path) -> None:
    config = egress.write_selector_config(tmp_path / "egress.yaml", tmp_path)
    args = [
        *components.etcd(Path("etcd"), tmp_path, 1, 2).args,
        *components.apiserver(Path("kube-apiserver"), tmp_path, 3, 1, config).args,
        *components.controller_manager(Path("kube-controller-manager"), tmp_path).args,
        *egress.proxy_process(tmp_path).args,
    ]
    assert any(a.startswith("--service-cluster-ip-range=127.") for a in args)
    assert localcluster.non_loopback(args) == []


@pytest.mark.parametrize(
    "flag",
    [
        "--service-cluster-ip-range=10.0.0.0/24",
        "--service-cluster-ip-range=127.200.0.0/24,fd00::/108",
        "--cluster-cidr=192.168.0.0/16",
        "--bind-address=0.0.0.0",
        "--advertise-address=10.1.2.3",
        "--etcd-servers=http://10.0.0.5:2379",
        "--enable-aggregator-routing=true",
        "--enable-aggregator-routing",
        "--egress-selector-config-file=/tmp/direct.yaml",
    ],
)
def test_flags_that_leave_the_machine_are_refused(flag: str, tmp_path: Path) -> None:
    ours = "--egress-selector-config-file=/w/egress-selector.yaml"  # an extra one overrides it
    assert localcluster.non_loopback([ours, flag]) == [flag]
    with pytest.raises(ControlPlaneError) as err:
        localcluster.check_loopback("kube-apiserver", ["kube-apiserver", ours, flag])
    assert "127.0.0.0/8" in str(err.value) and flag in str(err.value)


def test_extra_flags_that_leave_the_machine_stop_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bins = tmp_path / "bins"
    bins.mkdir()
    for b in localcluster.BINARIES:  # never run: the check comes first
        (bins / b).write_text("#!/bin/sh\nsleep 30\n")
        (bins / b).chmod(0o755)
    monkeypatch.setenv("GITOPS_NB_CONTROLPLANE_DIR", str(bins))
    c = localcluster.LocalCluster(
        workdir=tmp_path / "w",
        controller_manager=False,
        extra_apiserver_args=("--service-cluster-ip-range=10.0.0.0/24",),
    )
    with pytest.raises(ControlPlaneError) as err:
        c.start()
    assert "10.0.0.0/24" in str(err.value)
    assert c._procs == {}
