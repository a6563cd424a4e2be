"""Execute every audit notebook headless against demo data made in this run."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import nbformat
import pytest

from gitops_nb.kube.client import Kube
from gitops_nb.localcluster.demo import DemoResult
from gitops_nb.model import FIELD_MANAGER, Outcome
from tests.notebooks.nbrun import (
    KERNEL,
    NOTEBOOKS,
    RunNotebook,
    history_params,
    parameter_names,
    parameters_cell,
    read_notebook,
    stream_text,
)

NAMES = (
    "01_sync_history.ipynb",
    "02_drift_timeline.ipynb",
    "03_git_history.ipynb",
    "04_live_audit.ipynb",
    "05_fleet_overview.ipynb",
)
WIDGET = "application/vnd.jupyter.widget-view+json"
# collections the live audit could touch in the demo namespace (the ApplySet parent is a
# ConfigMap); Deployments are compared by spec generation: their status belongs to the
# controller-manager, which may update it at any time
LIVE_COLLECTIONS = (
    "/api/v1/namespaces/prod/configmaps",
    "/api/v1/namespaces/prod/services",
    "/api/v1/namespaces/prod/secrets",
    "/apis/networking.k8s.io/v1/namespaces/prod/ingresses",
    "/apis/coordination.k8s.io/v1/namespaces/prod/leases",
)
WRITE_CALL = re.compile(r"\.(apply|apply_report|create|replace|merge_patch|delete|patch)\(")


def outputs(nb: nbformat.NotebookNode) -> list[Any]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def html_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(str(o.get("data", {}).get("text/html", "")) for o in outputs(nb))


def count(nb: nbformat.NotebookNode, mime: str) -> int:
    return sum(1 for o in outputs(nb) if mime in o.get("data", {}))


def stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(stream_text(c) for c in nb.cells if c.cell_type == "code")


def no_stderr(nb: nbformat.NotebookNode) -> None:
    err = "".join(stream_text(c, "stderr") for c in nb.cells if c.cell_type == "code")
    assert err == "", f"notebook wrote to stderr:\n{err}"


def responsible(html: str) -> str:
    """The 'most responsible managers' summary row and manager tables of a notebook."""
    parts = []
    i = html.find("most responsible managers")
    if i >= 0:
        parts.append(html[i : html.find("</tr>", i)])
    for table in html.split("<table")[1:]:
        table = table.split("</table>")[0]
        if ">manager<" in table and ">episodes<" in table:
            parts.append(table)
    assert parts, "no responsible-manager table"
    return "".join(parts)


# --- the committed files ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_clean(name: str) -> None:
    nb = read_notebook(NOTEBOOKS / name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == KERNEL
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: stale outputs in cell {cell.get('id')}"
            assert cell.execution_count is None
    assert parameter_names(nb), f"{name}: the parameters cell assigns nothing"


def test_live_audit_notebook_calls_no_write_path() -> None:
    nb = read_notebook(NOTEBOOKS / "04_live_audit.ipynb")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert WRITE_CALL.search(code) is None
    assert "Engine" not in code and "Kube(" not in code  # the diff goes through data.live_audit
    assert "REPORT_PATH" in parameter_names(nb)
    assert "live_audit" in code


# --- execution ----------------------------------------------------------------------------


def test_sync_history(demo: DemoResult, run_notebook: RunNotebook) -> None:
    nb = run_notebook("01_sync_history.ipynb", history_params(demo))
    no_stderr(nb)
    html = html_text(nb)
    for run in demo.runs:
        assert run.revision is not None
        assert run.revision.commit[:7] in html  # the runs table lists every run's commit
    assert "succeeded" in html and "detect" in html
    assert "success rate" in html and "sync frequency" in html
    assert f"{len(demo.runs)} sync runs of shop" in stdout(nb)
    assert "Degraded" in html and "Healthy" in html  # the runs table shows health next to drift
    assert html.index("superseded by commit") < html.index("web: debug logging")  # drift first
    assert FIELD_MANAGER not in responsible(html)
    assert count(nb, "image/png") >= 1
    assert count(nb, WIDGET) >= 2  # the filter panels


def test_drift_timeline(demo: DemoResult, run_notebook: RunNotebook) -> None:
    nb = run_notebook("02_drift_timeline.ipynb", {**history_params(demo), "NOW": None})
    no_stderr(nb)
    html = html_text(nb)
    for manager in ("kubectl-set", "kubectl-label", "kubectl-patch"):
        assert manager in html
    assert "Deployment/prod/web" in html and "data.FEATURE_CHECKOUT" in html
    assert "corrected by reconciler" in html and "(still open)" in html
    assert "superseded by commit" in html and "nginx:1.27.3-hotfix" in html
    assert "changed in git by commit" in html
    assert "1 still open; 8 deployments" in stdout(nb)  # 6 + the bad rollout and its revert
    # health next to drift: the bad rollout's Deployment, Failed on its progress deadline
    assert "ProgressDeadlineExceeded" in html and ">time_to_restore<" in html
    # the episodes are "not Current after the run"; `synced` tells the synced ones apart
    headings = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "not Current after the run" in headings and ">synced<" in html
    # deployments come after the drift, and our own manager is never responsible
    assert html.index("nginx:1.27.3-hotfix") < html.index("web: debug logging")
    assert FIELD_MANAGER not in responsible(html)
    assert count(nb, "image/png") == 1
    assert count(nb, WIDGET) >= 2


def test_git_history(demo: DemoResult, run_notebook: RunNotebook) -> None:
    params = {
        "REPO": str(demo.repo),
        "REF": "main",
        "APP_PATH": ".",
        "VERIFY_KEYS": [],
        "SINCE": None,
        **history_params(demo),
    }
    nb = run_notebook("03_git_history.ipynb", params)
    no_stderr(nb)
    html = html_text(nb)
    commits = {r.revision.commit for r in demo.runs if r.revision}
    for sha in commits:
        assert sha[:7] in html
    for author in ("Alice Ops", "Bob Dev", "Carol SRE"):
        assert author in html
    assert "Revert &quot;web: debug logging&quot;" in html or 'Revert "web: debug logging"' in html
    # the ingress is added by a kustomization.yaml edit: only rendering each commit sees it
    assert "Ingress/prod/web" in html
    assert "mean lead time" in html and "change failure rate" in html
    assert "8 commits" in stdout(nb)
    assert "8 of 8 commits unsigned or unverified" in stdout(nb)  # the demo signs nothing
    assert "8 unsigned" in stdout(nb)  # not "signed, not verified": nothing is signed
    # which commits: the table of unsigned or unverified commits names every one
    [table] = [t for t in html.split("<table")[1:] if ">finding<" in t.split("</table>")[0]]
    assert table.count(">unsigned<") == 8
    for sha in commits:
        assert sha[:7] in table
    assert "signature_type" in html
    # delivery to a running change: time to healthy per commit, and the DORA table
    assert ">time_to_healthy<" in html
    # two different change failure rates, never under one name
    assert ">change failure rate (runs ended Degraded/Failed)<" in html  # DORA
    assert "change failure rate (reverted commits)" in html  # the headline
    # the lead table per Git-log commit: commit → applied → healthy
    tables = [t.split("</table>")[0] for t in html.split("<table")[1:]]
    [lead] = [t for t in tables if ">subject<" in t and ">applied_at<" in t]
    assert ">lead_time<" in lead and ">healthy_at<" in lead and ">time_to_healthy<" in lead
    assert "Revert" in html and "FEATURE_CHECKOUT" in html  # open drift, then deployments
    assert html.index("FEATURE_CHECKOUT") < html.index(">in_sync_at<")  # the deployments table
    # every drift episode (open first), not only the open one; lead times per deployment
    assert html.index("FEATURE_CHECKOUT") < html.index("corrected by reconciler")
    assert ">time_to_sync<" in html


def live_versions(kube: Kube) -> dict[str, str]:
    """``Kind/name`` → resourceVersion of the demo objects (generation for Deployments)."""
    out = {"Namespace/prod": kube.get("/api/v1/namespaces/prod")["metadata"]["resourceVersion"]}
    for path in LIVE_COLLECTIONS:
        for item in kube.list(path):
            meta = item["metadata"]
            out[f"{path.rsplit('/', 1)[-1]}/{meta['name']}"] = meta["resourceVersion"]
    for item in kube.list("/apis/apps/v1/namespaces/prod/deployments"):
        meta = item["metadata"]
        spec_managers = sorted(
            (m.get("manager", ""), m.get("operation", ""), m.get("time", ""))
            for m in meta.get("managedFields", [])
            if m.get("subresource") != "status"
        )
        out[f"deployments/{meta['name']}"] = f"{meta['generation']} {spec_managers}"
    return out


def test_live_audit_reads_only_and_writes_the_report(
    demo: DemoResult, run_notebook: RunNotebook, node_kube: Kube, tmp_path: Path
) -> None:
    kube = node_kube  # the demo runs on the cluster with nodes
    report = tmp_path / "out" / "live-drift-report.html"
    params = {
        "REPO": str(demo.repo),
        "REF": "main",
        "APP_PATH": ".",
        "KUBECONFIG": str(demo.kubeconfig),
        "APP": demo.app,
        "NAMESPACE": demo.namespace,
        "REPORT_PATH": str(report),
        "CACHE_DIR": str(tmp_path / "cache"),
        "CONFIG": None,
        "IGNORE": ["manager=ops-robot"],  # a rule that covers nothing here changes nothing
    }
    before = live_versions(kube)
    assert "configmaps/web-config" in before and "deployments/web" in before
    nb = run_notebook("04_live_audit.ipynb", params)
    after = live_versions(kube)
    assert after == before, "the live audit changed the cluster"

    no_stderr(nb)
    html = html_text(nb)
    # the demo leaves one open drift: FEATURE_CHECKOUT patched by hand
    assert "ConfigMap/prod/web-config" in html and "Drifted" in html
    assert "data.FEATURE_CHECKOUT" in html and "kubectl-patch" in html
    # objects in sync are hidden by default, and the caption says how many
    assert "InSync" not in html and "4 in sync hidden" in html
    assert count(nb, WIDGET) == 1  # the object picker
    text = report.read_text(encoding="utf-8")
    assert "web-config" in text and "FEATURE_CHECKOUT" in text and "kubectl-patch" in text
    assert f"wrote {report}" in stdout(nb)


def test_parameters_cell_is_replaced_not_appended(
    run_notebook: RunNotebook, tmp_path: Path
) -> None:
    # a history that does not exist must fail: proves the notebook reads the injected value
    nb = read_notebook(NOTEBOOKS / "01_sync_history.ipynb")
    assert "demo-output" in parameters_cell(nb).source
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError, match="no sync history here"):
        run_notebook(
            "01_sync_history.ipynb", {"HISTORY_DIR": str(tmp_path / "none"), "APP": "shop"}
        )


def test_fleet_overview_from_postgres(
    demo: DemoResult, run_notebook: RunNotebook, pg_dsn: str, tmp_path: Path
) -> None:
    from gitops_nb.records.files import read_dir
    from gitops_nb.records.postgres import PostgresStore

    records = read_dir(demo.history_dir)
    dsn_file = tmp_path / "dsn"
    dsn_file.write_text(pg_dsn)
    store = PostgresStore.from_dsn_file(dsn_file)
    try:  # the demo's records, plus a second app that is failing now
        for r in records:
            store.write(r)
        last = records[-1]
        store.write(replace(last, app="billing", run_id="b-1", outcome=Outcome.FAILED))
    finally:
        store.close()
    nb = run_notebook(
        "05_fleet_overview.ipynb",
        {"HISTORY_DIR": "unused", "DSN_FILE": str(dsn_file), "SINCE": None},
    )
    no_stderr(nb)
    html = html_text(nb)
    runs = sum(r.repeats for r in records) + 1
    assert (
        f"2 apps, {runs} sync runs in {len(records) + 1} records; failing now: billing"
        in stdout(nb)
    )
    for manager in ("kubectl-set", "kubectl-label", "kubectl-patch"):
        assert manager in html
    assert FIELD_MANAGER not in responsible(html)
    assert count(nb, "image/png") == 1  # the app x day heatmap
    assert count(nb, WIDGET) >= 2  # app table and episode filters
