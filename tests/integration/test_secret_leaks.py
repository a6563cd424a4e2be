"""Issue 13 item 2: a Secret value must not leak through the API server's error text.

A nested value under ``stringData`` (or a list) is echoed by the server's error. It is now
refused before sending, naming file:line; and whatever the server echoes is scrubbed leaf
by leaf, plain and base64.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.engine import Engine, SyncOptions
from gitops_nb.errors import ExitCode, GitOpsError, RenderError
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.masking import secret_values
from gitops_nb.model import Manifest
from tests.gitrepo import GitRepo

from . import jobrunner as jr
from .helpers import cli_flags

VALUE = "S3CR3T-n3sted-77"
FORMS = (VALUE, base64.b64encode(VALUE.encode()).decode())
HISTORY = [sys.executable, "-m", "gitops_nb.cli", "history", "runs", "-o", "json"]
NESTED = {
    "mapping": f"stringData:\n  token:\n    nested: {VALUE}\n",
    "list": f"stringData:\n  token:\n  - {VALUE}\n  - other\n",
    "data": f"data:\n  token: {{nested: {VALUE}}}\n",
}


def secret_yaml(body: str) -> str:
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\n" + (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaky\n{body}"
    )


@pytest.mark.parametrize("shape", sorted(NESTED))
def test_nested_secret_value_refused_before_sending_cli(
    shape: str,
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    r = GitRepo(tmp_path / "repo")
    r.write("app/secret.yaml", secret_yaml(NESTED[shape]))
    r.commit("nested secret")
    flags = cli_flags(cluster, r.path, namespace, tmp_path / "c", app="leaky")
    for verb in ("diff", "apply"):
        code = main([verb, *flags])
        out, err = capsys.readouterr()
        assert code == ExitCode.ERROR
        assert "app/secret.yaml:6" in err and "must be a string" in err
        for form in FORMS:
            assert form not in out + err
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/ok") is None


def test_nested_secret_value_reconcile_logs_records_events(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    r = GitRepo(tmp_path / "repo")
    r.write("app/secret.yaml", secret_yaml(NESTED["mapping"]))
    r.commit("nested secret")
    args = jr.reconcile_args(r.path, "app", "leaky", namespace, tmp_path / "c")
    for extra in ([], ["--history-dir", str(tmp_path / "hist")]):
        code, logs, err = jr.run(args + extra, jr.admin_env(cluster))
        assert code == ExitCode.ERROR, (logs, err)
        text = json.dumps(logs) + err
        assert "app/secret.yaml:6" in text
        for form in FORMS:
            assert form not in text
    stored = json.dumps(kube.list(f"/api/v1/namespaces/{namespace}/configmaps"))
    stored += json.dumps(kube.list(f"/api/v1/namespaces/{namespace}/events"))
    stored += "".join(p.read_text() for p in (tmp_path / "hist").rglob("*") if p.is_file())
    history = subprocess.run(
        [*HISTORY, "--app", "leaky", "-n", namespace, "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert history.returncode == 0, history.stderr
    assert json.loads(history.stdout)
    for form in FORMS:
        assert form not in stored + history.stdout + history.stderr


def test_engine_refuses_nested_secret_without_render(kube: Kube, namespace: str) -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "leaky"},
        "stringData": {"token": [VALUE, 12345]},
    }
    with pytest.raises(RenderError) as e:
        Engine(kube).diff([Manifest(obj, "s.yaml", 9)], SyncOptions(app="s", namespace=namespace))
    assert e.value.location == "s.yaml:9"
    assert VALUE not in str(e.value)


@pytest.mark.parametrize(
    "values",
    [
        {"stringData": {"token": {"nested": VALUE}}},
        {"stringData": {"token": [VALUE, "x"]}},
        {"data": {"token": {"deeper": [{"x": VALUE}]}}},
    ],
)
def test_server_echo_is_scrubbed_leaf_by_leaf(
    kube: Kube, namespace: str, values: dict[str, object]
) -> None:
    """The last line of defence: what the server echoes (it does) is scrubbed."""
    from gitops_nb.masking import scrub_error

    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "echo"}, **values}
    path = f"/api/v1/namespaces/{namespace}/secrets/echo"
    with pytest.raises(GitOpsError) as e:
        kube.apply(path, obj, field_manager="t", force=False, what="Secret/echo")
    assert VALUE in str(e.value)  # the server does echo it
    scrubbed = str(scrub_error(e.value, secret_values(obj)))
    assert VALUE not in scrubbed and "Secret/echo" in scrubbed
