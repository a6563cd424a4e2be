"""Issue 13 item 8: permanent errors are "invalid" (exit 2), never "transient" (exit 3).

The API server answers an unknown field and invalid base64 in a Secret with HTTP 500, and
a 50 MB object ends in a reset connection: each read as an outage and was retried.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gitops_nb.errors import ExitCode, InvalidObjectError
from gitops_nb.kube.client import Kube, error_for
from gitops_nb.kube.permanent import MAX_REQUEST_BYTES
from gitops_nb.localcluster import LocalCluster
from tests.gitrepo import GitRepo

from . import jobrunner as jr

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
CASES = {
    "unknown-field": (CONFIGMAP.format(name="cm") + "spec:\n  foo: bar\n", "app/x.yaml:1"),
    "bad-base64": (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: 'not base64!!'\n",
        "app/x.yaml:1",
    ),
}


def reconcile(cluster: LocalCluster, namespace: str, tmp_path: Path, text: str) -> tuple[int, str]:
    r = GitRepo(tmp_path / "repo")
    r.write("app/ok.yaml", CONFIGMAP.format(name="ok"))
    r.write("app/x.yaml", text)
    r.commit("bad object")
    args = jr.reconcile_args(r.path, "app", "bad", namespace, tmp_path / "c")
    code, logs, err = jr.run(args, jr.admin_env(cluster))
    return code, json.dumps(logs) + err


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_object_is_exit_2_with_file_line(
    case: str, cluster: LocalCluster, namespace: str, tmp_path: Path
) -> None:
    text, location = CASES[case]
    started = time.monotonic()
    code, output = reconcile(cluster, namespace, tmp_path, text)
    assert code == ExitCode.ERROR, output
    assert location in output
    assert time.monotonic() - started < 30  # no retry loop on a permanent error


def test_50mb_manifest_refused_before_sending(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    text = CONFIGMAP.format(name="huge") + "data:\n  blob: " + "x" * (50 * 1024 * 1024) + "\n"
    code, output = reconcile(cluster, namespace, tmp_path, text)
    assert code == ExitCode.ERROR, output[-2000:]
    assert "app/x.yaml:1" in output and "limit" in output
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/ok") is None
    assert "transient" not in output.lower()


def test_client_refuses_oversized_body_without_sending(kube: Kube, namespace: str) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}}
    obj["data"] = {"blob": "x" * MAX_REQUEST_BYTES}
    before = kube.requests
    with pytest.raises(InvalidObjectError, match="not sent"):
        kube.apply(f"/api/v1/namespaces/{namespace}/configmaps/big", obj, field_manager="t")
    assert kube.requests == before


@pytest.mark.parametrize(
    "message",
    [
        "failed to create typed patch object (ns/x; /v1, Kind=ConfigMap): .spec: field not "
        "declared in schema",
        "failed to convert new object (ns/s; /v1, Kind=Secret) to proper version: unable to "
        "convert unstructured object to /v1, Kind=Secret: error decoding from json: illegal "
        "base64 data at input byte 3",
    ],
)
def test_error_for_classifies_invalid_500_as_permanent(message: str) -> None:
    body = json.dumps({"kind": "Status", "message": message, "reason": "InternalError"})
    err = error_for(500, body.encode(), "ConfigMap/ns/x")
    assert isinstance(err, InvalidObjectError) and not err.transient
    assert err.exit_code == ExitCode.ERROR
    assert error_for(500, b'{"message": "etcdserver: leader changed"}', "x").transient
    assert not error_for(413, b"Request entity too large", "x").transient
