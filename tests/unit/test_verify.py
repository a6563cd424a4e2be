"""Signed commits only: real gpg and ssh-keygen keys, real repositories, real ``fetch``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gitops_nb.cli import main
from gitops_nb.config import VerifySettings
from gitops_nb.errors import ConfigError, ExitCode, VerificationError
from gitops_nb.history import commits, commits_since, untrusted_commits
from gitops_nb.model import Revision
from gitops_nb.source import Checkout, SourceSpec, fetch
from gitops_nb.source.verify import UnverifiedRevision, key_kind
from tests.gitrepo import GitRepo
from tests.signing import SigningKey, gpg_key, no_signing, ssh_key, tamper, use_key

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: '{}'\n"


@pytest.fixture(params=["gpg", "ssh"])
def key(request: pytest.FixtureRequest, tmp_path: Path) -> SigningKey:
    make = gpg_key if request.param == "gpg" else ssh_key
    return make(tmp_path / "signer")


@pytest.fixture
def other(request: pytest.FixtureRequest, key: SigningKey, tmp_path: Path) -> SigningKey:
    """A second key of the same kind that nobody trusts."""
    make = gpg_key if key.kind == "gpg" else ssh_key
    return make(tmp_path / "stranger")


def _repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/cm.yaml", CM.format(1))
    return repo


def _fetch(
    repo: GitRepo, tmp_path: Path, keys: list[Path], ref: str = "main", **kw: str
) -> Checkout:
    verify = VerifySettings(tuple(map(str, keys)), mode=kw.get("mode", ""))
    if "ref_mode" in kw:
        verify = VerifySettings(verify.keys, verify.mode, kw["ref_mode"])
    return fetch(SourceSpec(str(repo.path), ref, "app", verify=verify), tmp_path / "cache")


def _refused(repo: GitRepo, tmp_path: Path, keys: list[Path], **kw: str) -> UnverifiedRevision:
    with pytest.raises(UnverifiedRevision) as info:
        _fetch(repo, tmp_path, keys, **kw)
    assert info.value.exit_code == ExitCode.VERIFY_FAILED == 6
    assert not (tmp_path / "cache" / "checkouts").exists(), "nothing may be checked out"
    return info.value


def test_signed_by_a_trusted_key_passes_and_is_recorded(key: SigningKey, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    use_key(repo, key)
    sha = repo.commit("signed")
    checkout = fetch(
        SourceSpec(str(repo.path), "main", "app", verify=VerifySettings((str(key.public),))),
        tmp_path / "cache",
    )
    sig = checkout.revision.signature
    assert sig is not None and checkout.revision.commit == sha
    assert (sig.type, sig.verified, sig.object) == (key.kind, True, "commit")
    assert sig.fingerprint == key.fingerprint
    assert sig.signer == ("Alice <alice@example.com>" if key.kind == "gpg" else "alice@example.com")
    assert (checkout.root / "app" / "cm.yaml").is_file()
    assert checkout.revision.to_dict()["signature"]["fingerprint"] == key.fingerprint


def test_unsigned_commit_is_refused(key: SigningKey, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    sha = repo.commit("unsigned")
    err = _refused(repo, tmp_path, [key.public])
    assert "not signed" in str(err) and sha[:12] in str(err)
    assert err.revision.commit == sha
    # The record of the refused run says what was found: no signature at all.
    assert err.revision.to_dict()["signature"] == {
        "type": "none",
        "verified": False,
        "fingerprint": "",
        "signer": "",
        "object": "commit",
        "reason": "unsigned",
    }


def test_untrusted_key_is_refused(key: SigningKey, other: SigningKey, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    use_key(repo, other)  # signed, but by a key we were not told to trust
    repo.commit("signed by a stranger")
    err = _refused(repo, tmp_path, [key.public])
    assert "untrusted or unknown" in str(err)
    # Signed, by a key we can name but do not trust (gpg names the key, ssh its fingerprint).
    sig = err.revision.signature
    assert sig is not None
    assert (sig.type, sig.verified, sig.reason) == (key.kind, False, "unknown-key")
    assert sig.fingerprint == other.fingerprint
    assert Revision.from_dict(err.revision.to_dict()).signature == sig


def test_tampered_commit_is_refused(key: SigningKey, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    use_key(repo, key)
    repo.commit("signed")
    forged = tamper(repo)
    err = _refused(repo, tmp_path, [key.public])
    assert "altered after signing" in str(err) and err.revision.commit == forged
    sig = err.revision.signature
    assert sig is not None
    assert (sig.type, sig.verified, sig.reason) == (key.kind, False, "bad-signature")
    if key.kind == "gpg":  # gpg names the key and user id even for a bad signature
        assert key.fingerprint.endswith(sig.fingerprint)
        assert sig.signer == "Alice <alice@example.com>"


def test_only_the_commit_being_applied_decides(key: SigningKey, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    unsigned_base = repo.commit("unsigned history")
    use_key(repo, key)
    repo.write("app/cm.yaml", CM.format(2))
    signed = repo.commit("signed tip")
    no_signing(repo)
    repo.write("app/cm.yaml", CM.format(3))
    unsigned_tip = repo.commit("unsigned again")
    # The signed commit in the middle is accepted although its parent is unsigned ...
    ok = _fetch(repo, tmp_path, [key.public], ref=signed)
    assert ok.revision.signature is not None and ok.revision.signature.verified
    # ... and the unsigned commits around it are each refused.
    for sha in (unsigned_tip, unsigned_base):
        assert _refused(repo, tmp_path / sha[:6], [key.public], ref=sha).revision.commit == sha


def test_signed_tag_is_required_with_ref_tag(key: SigningKey, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit = repo.commit("unsigned commit")  # only the tag's signature counts with ref: tag
    use_key(repo, key)
    repo.git("tag", "-s", "v1", "-m", "release 1")
    no_signing(repo)
    repo.git("tag", "-a", "v2", "-m", "unsigned release", "--no-sign")
    repo.git("tag", "v3")  # lightweight: no signature possible
    checkout = _fetch(repo, tmp_path, [key.public], ref="v1", ref_mode="tag")
    sig = checkout.revision.signature
    assert sig is not None
    assert (sig.object, sig.verified, sig.fingerprint) == ("tag", True, key.fingerprint)
    assert checkout.revision.commit == commit
    for ref, text, reason in (
        ("v2", "not signed", "unsigned"),
        ("v3", "annotated", "not-a-tag"),
        ("main", "not a tag", "not-a-tag"),
    ):
        err = _refused(repo, tmp_path / ref, [key.public], ref=ref, ref_mode="tag")
        assert text in str(err)
        refused = err.revision.signature
        assert refused is not None
        assert (refused.object, refused.reason, refused.verified) == ("tag", reason, False)
    # A branch named like the tag resolves first: the tag does not vouch for its commit.
    repo.write("app/cm.yaml", CM.format(9))
    other = repo.commit("elsewhere")
    repo.git("branch", "v1", other)
    err = _refused(repo, tmp_path / "6", [key.public], ref="v1", ref_mode="tag")
    assert f"points at {commit[:12]}, not at the commit" in str(err)
    # With ref: commit the same unsigned commit is refused, whatever its tag says.
    assert "not signed" in str(_refused(repo, tmp_path / "5", [key.public], ref="v1"))


def test_signature_kind_must_match_the_trusted_keys(tmp_path: Path) -> None:
    gpg, ssh = gpg_key(tmp_path / "g"), ssh_key(tmp_path / "s")
    repo = _repo(tmp_path)
    use_key(repo, ssh)
    repo.commit("ssh-signed")
    wrong = _refused(repo, tmp_path, [gpg.public])
    assert "only gpg keys are trusted" in str(wrong)
    assert wrong.revision.signature is not None
    assert (wrong.revision.signature.type, wrong.revision.signature.reason) == (
        "ssh",
        "untrusted-kind",
    )
    both = _fetch(repo, tmp_path / "b", [gpg.public, ssh.public])
    assert both.revision.signature is not None and both.revision.signature.type == "ssh"


def test_verification_off_still_records_whether_signed(tmp_path: Path) -> None:
    key = ssh_key(tmp_path / "s")
    repo = _repo(tmp_path)
    repo.commit("unsigned")
    unsigned = fetch(SourceSpec(str(repo.path), "main", "app"), tmp_path / "c1").revision
    assert unsigned.signature is not None and unsigned.signature.type == "none"
    use_key(repo, key)
    repo.write("app/cm.yaml", CM.format(2))
    repo.commit("signed")
    signed = fetch(SourceSpec(str(repo.path), "main", "app"), tmp_path / "c1").revision.signature
    assert signed is not None and (signed.type, signed.verified) == ("ssh", False)


def test_key_files_are_judged_by_content(tmp_path: Path) -> None:
    gpg, ssh = gpg_key(tmp_path / "g"), ssh_key(tmp_path / "s")
    assert key_kind(gpg.public.read_text()) == "gpg"
    assert key_kind(ssh.public.read_text()) == "ssh"
    assert key_kind(Path(ssh.signing_key).read_text()) is None  # a private key is refused
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    repo = _repo(tmp_path)
    use_key(repo, ssh)
    repo.commit("signed")
    with pytest.raises(ConfigError, match=r"junk\.txt: neither an armored OpenPGP"):
        _fetch(repo, tmp_path, [junk])
    with pytest.raises(ConfigError, match=r"is a ssh key but verify\.mode is gpg"):
        _fetch(repo, tmp_path, [ssh.public], mode="gpg")
    assert issubclass(UnverifiedRevision, VerificationError)


def test_history_commits_show_who_signed_each_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, stranger = ssh_key(tmp_path / "k"), ssh_key(tmp_path / "s", "eve@example.com")
    gpg = gpg_key(tmp_path / "g")
    repo = _repo(tmp_path)
    repo.clock = 1_790_000_000  # a minute between commits: the window below is exact
    unsigned = repo.commit("unsigned")
    use_key(repo, key)
    repo.write("app/cm.yaml", CM.format(2))
    trusted = repo.commit("signed by a trusted key")
    use_key(repo, stranger)
    repo.write("app/cm.yaml", CM.format(3))
    untrusted = repo.commit("signed by a stranger\n\n-----BEGIN SSH SIGNATURE----- in a message")
    use_key(repo, gpg)
    repo.write("app/cm.yaml", CM.format(4))
    gpg_signed = repo.commit("gpg-signed")
    no_signing(repo)
    repo.write("app/cm.yaml", CM.format(5))
    fake = repo.commit("not signed\n\n-----BEGIN PGP SIGNATURE-----\nonly in the message")

    off = commits(str(repo.path), "main", "app").set_index("commit")
    assert off.loc[unsigned, "signature_type"] == "none"
    assert off.loc[fake, "signature_type"] == "none"  # a message cannot fake a signature
    assert off.loc[trusted, "signature_type"] == off.loc[untrusted, "signature_type"] == "ssh"
    assert off.loc[gpg_signed, "signature_type"] == "gpg"
    assert not off["signature_verified"].any()

    keys = VerifySettings((str(key.public), str(gpg.public)))
    on = commits(str(repo.path), "main", "app", verify=keys).set_index("commit")
    assert list(on.loc[[trusted, gpg_signed], "signature_verified"]) == [True, True]
    assert list(on.loc[[unsigned, untrusted, fake], "signature_verified"]) == [False] * 3
    assert on.loc[trusted, "signature_fingerprint"] == key.fingerprint
    assert on.loc[gpg_signed, "signature_signer"] == "Alice <alice@example.com>"
    assert on.loc[untrusted, "signature_reason"] == "unknown-key"
    assert on.loc[untrusted, "signature_fingerprint"] == stranger.fingerprint

    # Which commits, and what about them: unsigned vs signed-but-unchecked (keys off) ...
    found = untrusted_commits(off.reset_index()).set_index("commit")["finding"]
    assert found.to_dict() == {
        fake: "unsigned",
        gpg_signed: "signed, not verified",
        untrusted: "signed, not verified",
        trusted: "signed, not verified",
        unsigned: "unsigned",
    }
    # ... and with keys, only those no trusted key vouched for, saying why.
    found = untrusted_commits(on.reset_index()).set_index("commit")["finding"]
    assert found.to_dict() == {
        fake: "unsigned",
        untrusted: "signed by an unknown key",
        unsigned: "unsigned",
    }
    since = off.loc[gpg_signed, "time"]  # a window: commits at or after it
    window = commits_since(off.reset_index(), since)
    assert list(untrusted_commits(window)["commit"]) == [fake, gpg_signed]

    history = ["history", "commits", "--repo", str(repo.path), "--path", "app", "-o", "json"]
    code = main([*history, "--verify-keys", str(key.public)])
    rows = {r["commit"]: r for r in json.loads(capsys.readouterr().out)}
    assert code == 0 and rows[trusted]["signature_signer"] == "alice@example.com"
    assert rows[gpg_signed]["signature_verified"] is False  # its key was not given this time


@pytest.mark.parametrize("verb", ["diff", "apply", "report"])
def test_every_verb_that_verifies_exits_6_on_an_unsigned_commit(
    verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The verbs whose ``--help`` lists 6 return it; refusal comes before any cluster access
    (the kubeconfig named here does not exist)."""
    key = ssh_key(tmp_path / "k")
    repo = _repo(tmp_path)
    repo.commit("unsigned")
    args = [verb, "--repo", str(repo.path), "--path", "app", "-n", "x", "--app", "a"]
    args += ["--kubeconfig", str(tmp_path / "none"), "--cache-dir", str(tmp_path / "c")]
    if verb == "report":
        args += ["-o", str(tmp_path / "report.md"), "--format", "markdown"]
    code = main([*args, "--verify-keys", str(key.public)])
    assert code == ExitCode.VERIFY_FAILED, capsys.readouterr().err
    assert "is not signed" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()


def _verify_agents() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if "gpg-agent" in ln and "gitops-nb-verify-" in ln]


def test_verification_leaves_no_gpg_agent_behind(tmp_path: Path) -> None:
    """A long-running process (a fleet, a notebook) must not gather one agent per check."""
    key = gpg_key(tmp_path / "k")
    repo = _repo(tmp_path)
    use_key(repo, key)
    repo.commit("signed")
    for _ in range(2):
        fetch(
            SourceSpec(str(repo.path), "main", "app", verify=VerifySettings((str(key.public),))),
            tmp_path / "cache",
        )
    assert _verify_agents() == []
