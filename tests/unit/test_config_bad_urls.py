"""Issue 13 item 13: a bad ``repo:`` in a config is refused as the config loads.

``reconcile --config`` (one app or a fleet) and ``apps --config`` give a one-line error and
exit 2 before any Lease or API call: a listening socket stands in for the API server and
must never see a connection.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gitops_nb.cli import main
from gitops_nb.errors import ExitCode

BAD = "https://[x"


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


class FakeApiServer:
    """Accepts and at once closes every connection, counting them: any API call shows up
    here (and fails fast rather than hanging the test if the check ever regresses)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.connections = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.done.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[tuple[FakeApiServer, Path]]:
    """A stand-in API server and a kubeconfig naming it."""
    server = FakeApiServer()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.port}"}}
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    yield server, kubeconfig
    server.close()


def write_config(tmp_path: Path, doc: dict[str, object]) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


@pytest.mark.parametrize(
    "doc",
    [
        {"app": "web", "repo": BAD, "namespace": "web"},
        {"repo": BAD, "apps": [{"name": "web"}]},
        {"repo": "https://git.example.com/r.git", "apps": [{"name": "web", "repo": BAD}]},
    ],
    ids=["app", "fleet-default", "fleet-app"],
)
def test_reconcile_config_with_bad_repo_is_exit_2_before_any_api_call(
    doc: dict[str, object],
    tmp_path: Path,
    api_server: tuple[FakeApiServer, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, kubeconfig = api_server
    cfg = write_config(tmp_path, {**doc, "kubeconfig": str(kubeconfig)})
    code = main(["reconcile", "--config", str(cfg), "--cache-dir", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    assert code == ExitCode.ERROR
    assert err == ""
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [e["event"] for e in lines] == ["config-invalid"]
    error = str(lines[0]["error"])
    assert str(cfg) in error and "repo" in error and "malformed" in error
    assert "\n" not in error
    assert server.connections == 0


def test_reconcile_flag_with_bad_repo_is_exit_2_before_any_api_call(
    tmp_path: Path, api_server: tuple[FakeApiServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    server, kubeconfig = api_server
    argv = ["reconcile", "--app", "web", "--repo", BAD, "--kubeconfig", str(kubeconfig)]
    code = main([*argv, "--cache-dir", str(tmp_path / "c")])
    out, _err = capsys.readouterr()
    assert code == ExitCode.ERROR
    event = json.loads(out)
    assert event["event"] == "config-invalid"
    assert str(event["error"]).startswith("--repo: git URL")
    assert server.connections == 0


@pytest.mark.parametrize(
    "doc",
    [{"repo": BAD, "apps": [{"name": "web"}]}, {"repo": "r", "apps": [{"name": "w", "repo": BAD}]}],
    ids=["default", "app"],
)
def test_apps_config_with_bad_repo_is_one_line_exit_2(
    doc: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path, doc)
    code = main(["apps", "--config", str(cfg), "--cache-dir", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    assert code == ExitCode.ERROR
    assert out == ""
    assert "Traceback" not in err
    assert err.strip().count("\n") == 0, err
    assert str(cfg) in err and "malformed" in err
