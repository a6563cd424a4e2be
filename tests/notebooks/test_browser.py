"""Each audit notebook in real JupyterLab, in headless Chromium: every cell runs, widgets
render (no "Loading widget…", no error output), and changing one widget changes the output.

JupyterLab is started from this venv by the same code as ``make notebooks``
(:func:`gitops_nb.notebook.server.lab_command`, which adds ``--allow-root`` as root), on a
free loopback port without a token. Screenshots are kept in ``test-artifacts/notebooks/``
(``$GITOPS_NB_ARTIFACTS`` overrides). Needs Debian's ``chromium`` and ``chromium-driver``,
which ``make test`` installs; fails, not skips, without them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from gitops_nb.localcluster.demo import DemoResult
from gitops_nb.notebook.server import lab_command
from tests.notebooks.nbrun import (
    NOTEBOOKS,
    history_params,
    parameter_names,
    parameters_cell,
    read_notebook,
)

pytestmark = pytest.mark.cluster  # notebook 04 reads the demo's live objects

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 240


def _artifacts() -> Path:
    out = Path(os.environ.get("GITOPS_NB_ARTIFACTS") or ROOT / "test-artifacts") / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _params(name: str, demo: DemoResult, tmp: Path) -> dict[str, Any]:
    repo = {"REPO": str(demo.repo), "REF": "main", "APP_PATH": "."}
    return {
        "01_sync_history.ipynb": history_params(demo),
        "02_drift_timeline.ipynb": {**history_params(demo), "NOW": None},
        "03_git_history.ipynb": {
            **repo,
            **history_params(demo),
            "VERIFY_KEYS": [],
            "SINCE": None,
        },
        "04_live_audit.ipynb": {
            **repo,
            "KUBECONFIG": str(demo.kubeconfig),
            "APP": demo.app,
            "NAMESPACE": demo.namespace,
            "REPORT_PATH": str(tmp / "live-drift-report.html"),
            "CACHE_DIR": str(tmp / "cache"),
            "CONFIG": None,
            "IGNORE": [],
        },
        "05_fleet_overview.ipynb": {
            "HISTORY_DIR": str(demo.history_dir),
            "DSN_FILE": None,
            "SINCE": None,
        },
    }[name]


NAMES = sorted(p.name for p in NOTEBOOKS.glob("0*.ipynb"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(demo: DemoResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab serving copies of the notebooks with this run's parameters."""
    work = tmp_path_factory.mktemp("lab")
    for name in NAMES:
        nb = read_notebook(NOTEBOOKS / name)
        params = _params(name, demo, work)
        missing = parameter_names(nb) - set(params)  # a cell that replaces them all
        assert not missing, f"{name}: the test must set every parameter, missing {missing}"
        parameters_cell(nb).source = "\n".join(f"{k} = {v!r}" for k, v in params.items())
        nbformat.write(nb, work / name)  # type: ignore[no-untyped-call]
    port = _free_port()
    log = (work / "lab.log").open("w")
    command = lab_command(work, port=port, token="", open_browser=False, expose_app=True)
    assert ("--allow-root" in command) == (os.geteuid() == 0)
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/status", timeout=2):
                break
        except OSError:
            assert proc.poll() is None, (work / "lab.log").read_text()
            assert time.monotonic() < deadline, "JupyterLab did not start"
            time.sleep(0.3)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "needs Debian's chromium and chromium-driver (make browser)"
    opts = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        opts.add_argument(flag)
    opts.binary_location = chromium
    d = webdriver.Chrome(options=opts, service=Service(driver))
    d.set_script_timeout(RUN_TIMEOUT_S)
    try:
        yield d
    finally:
        d.quit()


def _wait(d: WebDriver, script: str, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = d.execute_script(script)
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


_READY = """
const app = window.jupyterapp;
const nb = app && app.shell.currentWidget;
return !!(nb && nb.sessionContext && nb.content && nb.content.widgets.length);
"""
_RUN_ALL = """
const done = arguments[arguments.length - 1];
(async () => {
  const app = window.jupyterapp; const nb = app.shell.currentWidget;
  await nb.context.ready; await nb.sessionContext.ready;
  await app.commands.execute('notebook:clear-all-cell-outputs');
  for (const c of nb.content.widgets) {
    if (c.model.type === 'code') c.model.executionCount = null;
  }
  await app.commands.execute('notebook:run-all-cells');
  done('ok');
})().catch(e => done('error: ' + e));
"""
_FINISHED = """
const nb = window.jupyterapp.shell.currentWidget;
const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
const code = nb.content.widgets.filter(c => c.model.type === 'code');
return kernel && kernel.status === 'idle' && code.every(c => c.model.executionCount !== null);
"""
_ERRORS = """
const nb = window.jupyterapp.shell.currentWidget;
const out = [];
for (const c of nb.content.widgets) {
  if (c.model.type !== 'code') continue;
  for (const o of c.model.outputs.toJSON()) {
    if (o.output_type === 'error') out.push(o.ename + ': ' + o.evalue);
    if (o.output_type === 'stream' && o.name === 'stderr') out.push('stderr: ' + o.text);
  }
}
return out;
"""


def _cell_text(d: WebDriver, element: Any) -> str:
    text: str = d.execute_script("return arguments[0].closest('.jp-Cell').innerText", element)
    return text


def _change_something(d: WebDriver) -> bool:
    for target in d.find_elements("css selector", ".jupyter-widgets select"):
        choice = Select(target)
        current = choice.first_selected_option.get_attribute("textContent") or ""
        for index, option in enumerate(choice.options):
            if (option.get_attribute("textContent") or "") == current:
                continue
            d.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
            before = _cell_text(d, target)
            choice.select_by_index(index)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if _cell_text(d, target) != before:
                    return True
                time.sleep(0.25)
    return False


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_jupyterlab_with_live_widgets(
    name: str, lab: str, browser: WebDriver
) -> None:
    d = browser
    d.get(f"{lab}/lab/tree/{name}?reset")
    _wait(d, _READY, 60, f"{name} to open")
    assert d.execute_async_script(_RUN_ALL) == "ok"
    _wait(d, _FINISHED, RUN_TIMEOUT_S, f"{name} to run every cell")
    time.sleep(1)  # widget views render after the kernel goes idle
    assert d.execute_script(_ERRORS) == []
    shots = _artifacts()
    d.save_screenshot(str(shots / f"{name}.png"))
    body = d.execute_script("return document.body.innerText")
    assert "Loading widget" not in body
    assert "Error displaying widget" not in body
    assert d.execute_script("return document.querySelectorAll('.jupyter-widgets').length") > 0

    # change one widget: the first drop-down choice that changes what the cell shows (a
    # filter whose every value selects the same rows rightly changes nothing)
    assert _change_something(d), f"{name}: no drop-down choice changed the output"
    d.save_screenshot(str(shots / f"{name}.changed.png"))
    assert d.execute_script(_ERRORS) == []
