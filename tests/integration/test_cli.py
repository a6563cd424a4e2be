"""The `gitops-nb diff/apply` contract against a real API server and real Git repos."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from tests.gitrepo import GitRepo

from .helpers import REPO, cli_flags, kubectl

SECRET_VALUE = "s3cr3t-value-42"  # in tests/fixtures/platform/config.yaml


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def flags(
    cluster: LocalCluster,
    repo: GitRepo,
    namespace: str,
    tmp_path: Path,
    path: str = "shop/overlays/prod",
) -> list[str]:
    return cli_flags(cluster, repo.path, namespace, tmp_path / "cache", path=path)


def objects_in(kube: Kube, namespace: str) -> set[str]:
    names = set()
    for path in (
        "/api/v1/namespaces/{ns}/configmaps",
        "/api/v1/namespaces/{ns}/services",
        "/apis/apps/v1/namespaces/{ns}/deployments",
    ):
        names |= {o["metadata"]["name"] for o in kube.list(path.format(ns=namespace))}
    return names - {"kube-root-ca.crt"}


def test_diff_exit_codes_and_json_contract(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    namespace: str,
    repo: GitRepo,
    tmp_path: Path,
) -> None:
    f = flags(cluster, repo, namespace, tmp_path)
    code, out, _ = run(capsys, "diff", *f, "-o", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["app"] == "shop" and doc["revision"] == repo.git("rev-parse", "HEAD")
    assert {r["status"] for r in doc["resources"]} == {"Missing"}
    assert {r["cause"] for r in doc["resources"]} == {"git"}  # new objects: Git moved
    assert set(doc["resources"][0]) >= {
        "apiVersion",
        "kind",
        "namespace",
        "name",
        "status",
        "changes",
    }

    code, out, _ = run(capsys, "apply", *f, "-o", "json")
    assert code == 0
    assert {e["action"] for e in json.loads(out)["entries"]} == {"created"}
    code, out, _ = run(capsys, "diff", *f, "-o", "json")
    assert code == 0, out
    assert {r["status"] for r in json.loads(out)["resources"]} == {"InSync"}

    kubectl(cluster, "set", "image", "deployment/prod-shop", "shop=evil:1", "-n", namespace)
    code, out, _ = run(capsys, "diff", *f, "-o", "json")
    assert code == 1
    drifted = [r for r in json.loads(out)["resources"] if r["status"] == "Drifted"]
    assert len(drifted) == 1
    change = drifted[0]["changes"][0]
    assert set(change) == {"path", "live", "desired", "manager", "operation", "time", "cause", "op"}
    assert change["manager"] == "kubectl-set" and change["live"] == "evil:1"
    assert change["cause"] == "cluster" and drifted[0]["cause"] == "cluster"
    code, out, _ = run(capsys, "diff", *f)  # table + unified diff for humans
    assert code == 1 and "kubectl-set" in out and "-        image: evil:1" in out

    code, out, _ = run(capsys, "apply", *f, "--force-conflicts", "-o", "json")
    assert code == 0
    actions = {e["name"]: e["action"] for e in json.loads(out)["entries"]}
    assert actions["prod-shop"] == "configured"
    assert run(capsys, "diff", *f)[0] == 0


CM_NOTE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: note\n"
    "  annotations: {note: hello}\ndata: {colour: blue}\n"
)


def test_markup_in_cluster_values_is_printed_as_text(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    """Issue 13 item 7: Rich read cluster values as markup ([/x] raised, [red] coloured)."""
    r = GitRepo(tmp_path / "markup")
    r.write("app/note.yaml", CM_NOTE)
    r.commit("a ConfigMap")
    f = flags(cluster, r, namespace, tmp_path, "app")
    assert run(capsys, "apply", *f)[0] == 0

    kubectl(cluster, "annotate", "--overwrite", "cm/note", "note=[/bold]", "-n", namespace)
    patch = json.dumps({"data": {"colour": "[red]RED[/red]"}})
    kubectl(cluster, "patch", "cm/note", "-n", namespace, "--type=merge", "-p", patch)
    code, out, err = run(capsys, "diff", *f)
    assert code == 1, err  # drift, not a crash
    assert "[/bold]" in out and "[red]RED[/red]" in out
    code, out, _ = run(capsys, "diff", *f, "-o", "markdown")
    assert code == 1 and r"\[red\]RED\[/red\]" in out

    # a label the API server refuses comes back in the error text of the ChangeSet
    r.write(
        "app/bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  labels: {x: '[/x]'}\n",
    )
    r.commit("an invalid label")
    code, out, err = run(capsys, "apply", *f, "--force-conflicts")
    assert code == 2, out + err
    assert "[/x]" in out  # in the ChangeSet table, which is printed after the writes
    assert "2 objects: 1 configured, 1 failed" in out
    assert "bad" not in objects_in(kube, namespace)
    note = kube.get(f"/api/v1/namespaces/{namespace}/configmaps/note")
    assert note["data"] == {"colour": "blue"}  # the valid object was still applied


def test_second_commit_and_revert_roll_the_cluster(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    repo: GitRepo,
    tmp_path: Path,
) -> None:
    f = flags(cluster, repo, namespace, tmp_path)
    assert run(capsys, "apply", *f, "--prune")[0] == 0
    svc = "shop/base/service.yaml"
    repo.write(svc, (repo.path / svc).read_text().replace("targetPort: 8080", "targetPort: 8181"))
    change = repo.commit("shop: new port")
    assert run(capsys, "apply", *f, "--prune")[0] == 0
    live = kube.get(f"/api/v1/namespaces/{namespace}/services/prod-shop")
    assert live["spec"]["ports"][0]["targetPort"] == 8181
    repo.revert(change)
    assert run(capsys, "apply", *f, "--prune")[0] == 0
    live = kube.get(f"/api/v1/namespaces/{namespace}/services/prod-shop")
    assert live["spec"]["ports"][0]["targetPort"] == 8080
    code, out, _ = run(capsys, "apply", *f, "--ref", change, "--dry-run", "-o", "json")
    assert code == 0 and json.loads(out)["dryRun"] is True
    assert (
        kube.get(f"/api/v1/namespaces/{namespace}/services/prod-shop")["spec"]["ports"][0][
            "targetPort"
        ]
        == 8080
    )


BAD_INPUTS = {
    "broken-yaml": (
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {a: [1, 2}\n",
        "bad.yaml:5",
    ),
    "missing-name": (
        "noname.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
        "noname.yaml:1",
    ),
    "python-tag": (
        "tag.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\n"
        "data: !!python/object/apply:os.system ['true']\n",
        "tag.yaml:5",
    ),
    "duplicate": (
        "dup.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n",
        "dup.yaml:1",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_file_and_line_and_changes_nothing(
    case: str,
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    r = GitRepo(tmp_path / "bad")
    r.write("app/good.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n")
    name, text, where = BAD_INPUTS[case]
    r.write(f"app/{name}", text)
    r.commit(f"bad input: {case}")
    code, _out, err = run(capsys, "apply", *flags(cluster, r, namespace, tmp_path, "app"))
    assert code == 2
    assert where in err, err
    assert objects_in(kube, namespace) == set()


def test_symlink_escape_refused(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n")
    r = GitRepo(tmp_path / "sym")
    r.write("app/good.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n")
    os.symlink(outside, r.path / "app" / "link.yaml")
    r.commit("symlink out of the repo")
    code, _, err = run(capsys, "apply", *flags(cluster, r, namespace, tmp_path, "app"))
    assert code == 2 and "link.yaml" in err and "symlink" in err
    assert objects_in(kube, namespace) == set()


@pytest.mark.parametrize(
    "repo_arg,ref,expect",
    [
        ("{tmp}/does-not-exist", None, "does-not-exist"),
        ("{repo}", "no-such-branch", "no-such-branch"),
        ("ext::sh -c touch% /tmp/pwned", None, "ext::"),
        ("{repo}", "--upload-pack=touch /tmp/pwned", "--upload-pack"),
    ],
)
def test_fetch_errors_touch_nothing(
    repo_arg: str,
    ref: str | None,
    expect: str,
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    repo: GitRepo,
    tmp_path: Path,
) -> None:
    url = repo_arg.format(tmp=tmp_path, repo=repo.path)
    argv = [
        "apply",
        "--repo",
        url,
        "--path",
        "shop/overlays/prod",
        "--namespace",
        namespace,
        "--kubeconfig",
        str(cluster.kubeconfig),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    if ref:
        argv += ["--ref", ref]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert expect in err
    assert objects_in(kube, namespace) == set()
    assert not Path("/tmp/pwned").exists()


def test_secret_values_never_in_any_output(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    namespace: str,
    tmp_path: Path,
) -> None:
    r = GitRepo(tmp_path / "platform")
    r.add_fixture("platform", "platform")
    r.commit("platform")
    f = [
        "--repo",
        str(r.path),
        "--path",
        "platform",
        "--app",
        "platform",
        "--namespace",
        namespace,
        "--kubeconfig",
        str(cluster.kubeconfig),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--policy",
        str(REPO / "tests/fixtures/policies/platform.yaml"),
        "--adopt",  # the CRD and ClusterRole may belong to another test's app
    ]
    outputs = []
    for fmt in ("table", "json", "yaml", "markdown"):
        outputs.append(run(capsys, "diff", *f, "-o", fmt))
    outputs.append(run(capsys, "apply", *f, "-o", "json"))
    other = base64.b64encode(b"changed-by-hand-77").decode()
    kubectl(
        cluster,
        "patch",
        "secret/api-secrets",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        json.dumps({"data": {"db-password": other}}),
    )
    for fmt in ("table", "json", "yaml", "markdown"):
        code, out, err = run(capsys, "diff", *f, "-o", fmt)
        assert code == 1
        outputs.append((code, out, err))
    drift = json.loads(outputs[-3][1])
    secret = next(r for r in drift["resources"] if r["kind"] == "Secret")
    assert secret["status"] == "Drifted"
    assert [c["path"] for c in secret["changes"]] == ["data.db-password"]
    outputs.append(run(capsys, "apply", *f, "--force-conflicts"))
    forbidden = [
        SECRET_VALUE,
        base64.b64encode(SECRET_VALUE.encode()).decode(),
        "changed-by-hand-77",
        other,
        "api-key-value-99",
        "YXBpLWtleS12YWx1ZS05OQ==",
    ]
    for _code, out, err in outputs:
        for value in forbidden:
            assert value not in out and value not in err


def test_diff_client_refuses_writes(cluster: LocalCluster, namespace: str) -> None:
    from gitops_nb.errors import ReadOnlyError
    from gitops_nb.kube.client import ReadOnlyKube

    ro = ReadOnlyKube.from_kubeconfig(cluster.kubeconfig)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    path = f"/api/v1/namespaces/{namespace}/configmaps/x"
    assert ro.apply(path, cm, field_manager="t", dry_run=True)["metadata"]["name"] == "x"
    before = ro.requests
    with pytest.raises(ReadOnlyError):
        ro.apply(path, cm, field_manager="t")
    with pytest.raises(ReadOnlyError):
        ro.delete(path)
    assert ro.requests == before  # refused before sending
    assert ro.get_or_none(path) is None
