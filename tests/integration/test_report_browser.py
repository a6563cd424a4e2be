"""The HTML report in a real browser (headless Chromium): renders, shows values as text, and
logs nothing to the console. No cluster needed.

Chromium 15x logs every console message, whatever its level, as ``INFO:CONSOLE`` (no level in
the line). The report holds no scripts, so any console line can only come from the browser
itself (a CSP violation, a blocked fetch, a parse error): the test allows none. A canary
page checks that such lines are still captured, so a changed log format cannot make the
test pass silently.

Needs Debian's ``chromium`` (``apt-get install -y chromium``); fails, not skips, without it.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from matplotlib import image as mpimg

from gitops_nb.report import from_history, write
from tests.factories import CM, DEP, XSS, at, in_sync, report_drift, report_run

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)
TIMEOUT = 60


def chromium() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    assert found, "headless Chromium is required: apt-get update && apt-get install -y chromium"
    return found


def start(tmp: Path, name: str, *args: str) -> subprocess.Popen[str]:
    profile = tmp / f"profile-{name}"  # one profile per instance: they run side by side
    return subprocess.Popen(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-2000:]
    return out, err


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


def report_file(tmp: Path) -> Path:
    runs = [
        report_run(0, in_sync(DEP), in_sync(CM)),
        report_run(1, report_drift(DEP, "spec.replicas", 5, 3, "kubectl-edit"), in_sync(CM)),
        report_run(
            2,
            report_drift(DEP, "spec.replicas", 5, 3, "kubectl-edit"),
            report_drift(CM, "data.note", XSS, "ok", "helm"),
        ),
        report_run(3, in_sync(DEP), report_drift(CM, "data.note", XSS, "ok", "helm")),
    ]
    report = from_history(runs, now=datetime(2026, 11, 28, 15, 0, tzinfo=UTC))
    assert report.period is not None and report.period[0] == at(0)
    return write(report, "html", tmp / "report.html")


def test_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = report_file(tmp_path)
    shot = tmp_path / "shot.png"
    url = page.resolve().as_uri()
    dom_proc = start(tmp_path, "dom", "--dump-dom", url)
    shot_proc = start(tmp_path, "shot", f"--screenshot={shot}", "--window-size=1280,2000", url)
    dom, dom_err = finish(dom_proc)
    _, shot_err = finish(shot_proc)

    # the hostile value is text in the DOM, never an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom.lower()
    assert "ConfigMap/web/settings" in dom and 'src="data:image/png;base64,' in dom
    assert console_lines(dom_err) == [] and console_lines(shot_err) == []

    assert shot.exists() and shot.stat().st_size > 20_000
    pixels = np.asarray(mpimg.imread(shot))
    assert pixels.shape[:2] == (2000, 1280)
    # a real page: many non-background pixels and more than a handful of colours
    ink = (pixels[..., :3] < 0.9).any(axis=-1).mean()
    assert ink > 0.02
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50


def test_console_canary_catches_browser_errors(tmp_path: Path) -> None:
    """The same flags on a page the CSP must block: the console line has to show up."""
    page = tmp_path / "canary.html"
    page.write_text(
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="img-src data:">'
        '<img src="https://example.invalid/x.png">',
        encoding="utf-8",
    )
    _, err = finish(start(tmp_path, "canary", "--dump-dom", page.as_uri()))
    assert any("Content Security Policy" in line for line in console_lines(err))
