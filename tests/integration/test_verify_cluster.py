"""Signed commits only, against the real API server: refused runs write nothing but the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.errors import ExitCode
from gitops_nb.kube.client import Kube
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Outcome
from gitops_nb.records.configmaps import ConfigMapStore
from tests.gitrepo import GitRepo
from tests.signing import gpg_key, no_signing, ssh_key, tamper, use_key

from . import jobrunner as jr
from .helpers import cli_flags

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: signed-cm\ndata:\n  k: '{}'\n"


def _configmaps(kube: Kube, namespace: str) -> set[str]:
    items = kube.list(f"/api/v1/namespaces/{namespace}/configmaps")
    return {o["metadata"]["name"] for o in items} - {"kube-root-ca.crt"}


def _flags(cluster: LocalCluster, repo: GitRepo, namespace: str, tmp_path: Path) -> list[str]:
    f = cli_flags(cluster, repo.path, namespace, tmp_path / "cache", path="app", app="signed")
    return [*f]


def test_diff_and_apply_refuse_unsigned_and_apply_signed(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    tmp_path: Path,
) -> None:
    key = gpg_key(tmp_path / "key")
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/cm.yaml", CM.format(1))
    repo.commit("unsigned")
    args = [*_flags(cluster, repo, namespace, tmp_path), "--verify-keys", str(key.public)]
    for verb in ("diff", "apply"):
        code = main([verb, *args])
        _out, err = capsys.readouterr()
        assert code == ExitCode.VERIFY_FAILED == 6, err
        assert "is not signed" in err
    assert _configmaps(kube, namespace) == set()  # not even the ApplySet parent

    use_key(repo, key)
    repo.write("app/cm.yaml", CM.format(2))
    repo.commit("signed")
    assert main(["apply", *args]) == ExitCode.OK
    capsys.readouterr()
    live = kube.get(f"/api/v1/namespaces/{namespace}/configmaps/signed-cm")
    assert live["data"]["k"] == "2"

    tamper(repo)  # a forged tip keeps the old signature: refused, the cluster keeps "2"
    code = main(["apply", *args])
    err = capsys.readouterr().err
    assert code == ExitCode.VERIFY_FAILED, err
    assert "altered after signing" in err
    live = kube.get(f"/api/v1/namespaces/{namespace}/configmaps/signed-cm")
    assert live["data"]["k"] == "2"


def test_reconcile_records_refused_emits_event_releases_lease(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    key, stranger = ssh_key(tmp_path / "key"), ssh_key(tmp_path / "stranger", "eve@example.com")
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/cm.yaml", CM.format(1))
    use_key(repo, stranger)
    refused_sha = repo.commit("signed by a key nobody trusts")
    config = tmp_path / "config.yaml"
    config.write_text(f"verify:\n  keys: [{key.public}]\n")
    args = jr.reconcile_args(
        repo.path, "app", "signed", namespace, tmp_path / "c", "--config", str(config)
    )
    env = jr.admin_env(cluster)

    code, logs, err = jr.run(args, env)
    assert code == ExitCode.VERIFY_FAILED, (logs, err)
    assert "rendered" not in {e["event"] for e in logs}
    assert any(e["event"] == "verification-failed" for e in logs)
    [run] = ConfigMapStore(kube, namespace).read("signed")
    assert run.outcome is Outcome.REFUSED and run.objects == ()
    assert run.revision is not None and run.revision.commit == refused_sha
    assert run.error is not None and "untrusted or unknown SSH key" in run.error
    # The record says what was found: signed, by a key it names, which nobody trusts.
    refused = run.revision.signature
    assert refused is not None
    assert (refused.type, refused.verified, refused.reason, refused.fingerprint) == (
        "ssh",
        False,
        "unknown-key",
        stranger.fingerprint,
    )
    assert "signed-cm" not in _configmaps(kube, namespace)  # only the record was written
    events = kube.list(f"/api/v1/namespaces/{namespace}/events")
    failed = [e for e in events if e["reason"] == "VerificationFailed"]
    assert failed and failed[0]["type"] == "Warning" and refused_sha[:12] in failed[0]["message"]
    lease = kube.get(f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/gitops-nb.signed")
    assert not lease["spec"].get("holderIdentity")  # released

    # The same key set accepts a commit signed by the trusted key, and records who signed.
    use_key(repo, key)
    repo.write("app/cm.yaml", CM.format(2))
    good_sha = repo.commit("signed by the trusted key")
    code, logs, err = jr.run(args, env)
    assert code == ExitCode.OK, (logs, err)
    assert kube.get(f"/api/v1/namespaces/{namespace}/configmaps/signed-cm")["data"]["k"] == "2"
    last = ConfigMapStore(kube, namespace).read("signed")[-1]
    assert last.revision is not None and last.revision.commit == good_sha
    sig = last.revision.signature
    assert sig is not None
    assert (sig.type, sig.verified, sig.fingerprint, sig.signer) == (
        "ssh",
        True,
        key.fingerprint,
        "alice@example.com",
    )


def test_reconcile_verify_keys_on_the_command_line_repeatable(
    cluster: LocalCluster, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    """``--verify-keys`` given twice on the reconcile command line, no config file: a commit
    signed by the second key is accepted; an unsigned one is refused and recorded as such."""
    first, second = gpg_key(tmp_path / "first"), ssh_key(tmp_path / "second", "bob@example.com")
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/cm.yaml", CM.format(1))
    use_key(repo, second)
    good_sha = repo.commit("signed by the second key")
    keys = ["--verify-keys", str(first.public), "--verify-keys", str(second.public)]
    args = jr.reconcile_args(repo.path, "app", "twokeys", namespace, tmp_path / "c", *keys)
    env = jr.admin_env(cluster)

    code, logs, err = jr.run(args, env)
    assert code == ExitCode.OK, (logs, err)
    assert kube.get(f"/api/v1/namespaces/{namespace}/configmaps/signed-cm")["data"]["k"] == "1"
    [run] = ConfigMapStore(kube, namespace).read("twokeys")
    assert run.revision is not None and run.revision.commit == good_sha
    sig = run.revision.signature
    assert sig is not None
    assert (sig.type, sig.verified, sig.fingerprint, sig.signer) == (
        "ssh",
        True,
        second.fingerprint,
        "bob@example.com",
    )

    no_signing(repo)
    repo.write("app/cm.yaml", CM.format(2))
    unsigned_sha = repo.commit("unsigned")
    code, logs, err = jr.run(args, env)
    assert code == ExitCode.VERIFY_FAILED, (logs, err)
    assert kube.get(f"/api/v1/namespaces/{namespace}/configmaps/signed-cm")["data"]["k"] == "1"
    last = ConfigMapStore(kube, namespace).read("twokeys")[-1]
    assert last.outcome is Outcome.REFUSED
    assert last.revision is not None and last.revision.commit == unsigned_sha
    assert last.revision.signature is not None
    assert (last.revision.signature.type, last.revision.signature.reason) == ("none", "unsigned")
