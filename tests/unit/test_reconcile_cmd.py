"""Issue 13 item 10: every line `gitops-nb reconcile` writes is JSON, failures included."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.errors import ExitCode


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("argv", "event"),
    [
        (["--app", "Not_A_Label", "--repo", "x"], "config-invalid"),
        (["--app", "a", "--repo", "x", "--kubeconfig", "/nonexistent"], "run-not-started"),
    ],
)
def test_failures_before_the_run_are_json(
    argv: list[str], event: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["reconcile", *argv, "--cache-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == ExitCode.ERROR
    assert err == ""
    assert [e["event"] for e in json_lines(out)] == [event]


def test_library_warnings_become_json(capsys: pytest.CaptureFixture[str]) -> None:
    from gitops_nb.usecases.jsonlog import capture_stray_output, json_logger

    capture_stray_output(json_logger("t.stray"))
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("Unverified HTTPS request", stacklevel=1)
    logging.getLogger("urllib3.connectionpool").warning("Connection pool is full")
    out, err = capsys.readouterr()
    assert err == ""
    assert len(json_lines(out)) == 2
