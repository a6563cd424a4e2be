"""Signed commits only: verify the commit (or tag) to apply against configured public keys.

The kind of each key follows from its file: an armored OpenPGP public key is imported into a
private, temporary ``GNUPGHOME``; an SSH public key becomes a line of a temporary
allowed-signers file for ``git verify-commit`` with ``gpg.format=ssh``. The signature's own
kind (read from the object's header) picks which keys may vouch for it, so a commit signed
with OpenPGP is never checked against the keyring of the user running us. Git runs without
the system and global config: nothing outside this module decides what is trusted.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from gitops_nb.config import VerifySettings
from gitops_nb.errors import ConfigError, ToolMissingError, VerificationError
from gitops_nb.model import Revision, Signature

TIMEOUT_S = 60
_SSH_TYPES = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-\S+|sk-\S+)$")
_SIG_KINDS = (
    ("-----BEGIN PGP SIGNATURE-----", "gpg"),
    ("-----BEGIN SSH SIGNATURE-----", "ssh"),
    ("-----BEGIN SIGNED MESSAGE-----", "x509"),
)
_SSH_GOOD = re.compile(r'Good "git" signature for (.+?) with \S+ key (\S+)')
_SSH_KEY = re.compile(r'Good "git" signature with \S+ key (\S+)')


class UnverifiedRevision(VerificationError):
    """Verification refused this revision; the record still names the commit it refused, and
    its ``signature`` says what was found (type, key, signer, ``reason``), never verified."""

    def __init__(self, message: str, revision: Revision) -> None:
        self.revision = revision
        super().__init__(message)


def refusal(revision: Revision, what: str, obj: str = "commit") -> _Refuse:
    """The refusal builder for ``what`` (e.g. ``commit 1a2b…``, ``ref 'v1'``)."""
    return _Refuse(revision, what, obj)


@dataclass(frozen=True)
class _Refuse:
    """Builds the refusal of one commit or tag, with the signature facts found so far."""

    revision: Revision
    what: str
    obj: str
    kind: str = "none"

    def __call__(
        self, reason: str, text: str, fingerprint: str = "", signer: str = ""
    ) -> UnverifiedRevision:
        sig = Signature(self.kind, False, fingerprint, signer, self.obj, reason)
        return UnverifiedRevision(
            f"verify: {self.what} refused: {text}", replace(self.revision, signature=sig)
        )


@dataclass(frozen=True)
class Key:
    """One trusted public key file."""

    path: Path
    kind: str
    """``gpg`` or ``ssh``."""
    text: str


def load_keys(settings: VerifySettings) -> list[Key]:
    """Read every key file; its kind follows from the content. Errors name the file."""
    keys = []
    for name in settings.keys:
        path = Path(name)
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"verify.keys: {path}: cannot read key file ({e})") from e
        kind = key_kind(text)
        if kind is None:
            raise ConfigError(
                f"verify.keys: {path}: neither an armored OpenPGP public key "
                "(-----BEGIN PGP PUBLIC KEY BLOCK-----) nor an SSH public key"
            )
        if settings.mode and kind != settings.mode:
            raise ConfigError(
                f"verify.keys: {path} is a {kind} key but verify.mode is {settings.mode}"
            )
        keys.append(Key(path, kind, text))
    return keys


def key_kind(text: str) -> str | None:
    """``gpg`` for an armored OpenPGP public key, ``ssh`` for SSH public keys, else None."""
    if "PRIVATE KEY" in text:
        return None  # never accept (or copy around) a private key
    if "-----BEGIN PGP PUBLIC KEY BLOCK-----" in text:
        return "gpg"
    lines = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if lines and all(len(p) >= 2 and _SSH_TYPES.match(p[0]) for p in lines):
        return "ssh"
    return None


def signature_kind(raw: str, obj: str = "commit") -> str:
    """The kind of signature a raw commit or tag object carries: gpg, ssh, x509 or none.

    A commit's signature is a header (``gpgsig``), so its message cannot fake one; a tag's
    is appended to its message."""
    text = raw.split("\n\n", 1)[0] if obj == "commit" else raw
    for marker, kind in _SIG_KINDS:
        if marker in text:
            return kind
    return "none"


def observe(git_dir: Path, sha: str) -> Signature | None:
    """The commit's signature kind without judging it (verification off): an audit fact.
    None if git cannot tell; with verification off that must not stop a run."""
    try:
        return Signature(signature_kind(_git(git_dir, ["cat-file", "commit", sha], {}).stdout))
    except VerificationError:
        return None


def signatures(
    git_dir: Path, shas: list[str], settings: VerifySettings | None = None
) -> dict[str, Signature]:
    """Each commit's signature kind (one ``git cat-file --batch``), verified against
    ``settings.keys`` when given: the audit columns of ``history commits``."""
    if not shas:
        return {}
    r = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
        input=("\n".join(shas) + "\n").encode(),
        capture_output=True,
        timeout=TIMEOUT_S * 5,
        check=False,
    )
    kinds: dict[str, str] = {}
    out, pos = r.stdout, 0
    for sha in shas:  # "<sha> commit <size>\n<body>\n" per object, "<sha> missing\n" if none
        header_end = out.find(b"\n", pos)
        if header_end < 0:
            break
        header = out[pos:header_end].split()
        size = int(header[2]) if len(header) == 3 else -1
        body = out[header_end + 1 : header_end + 1 + max(size, 0)]
        kinds[sha] = signature_kind(body.decode("utf-8", "replace"))
        pos = header_end + 1 + (size + 1 if size >= 0 else 0)
    result = {}
    for sha in shas:
        kind = kinds.get(sha, "none")
        sig = Signature(kind)
        if settings is not None and settings.enabled and kind != "none":
            try:
                sig = verify(git_dir, Revision(sha, "", "", ""), settings)
            except UnverifiedRevision as e:  # what was found, and why it is not trusted
                sig = e.revision.signature or Signature(kind)
            except VerificationError:
                sig = Signature(kind)
        result[sha] = sig
    return result


def verify(git_dir: Path, revision: Revision, settings: VerifySettings, tag: str = "") -> Signature:
    """A verified :class:`Signature` of the commit (or of ``tag``), or :class:`UnverifiedRevision`.

    ``tag`` is the full tag ref when ``settings.ref`` is ``tag``.
    """
    keys = load_keys(settings)
    sha = revision.commit
    what = f"tag {tag.removeprefix('refs/tags/')}" if tag else f"commit {sha[:12]}"
    obj = "tag" if tag else "commit"
    refuse = _Refuse(revision, what, obj)
    if tag:
        kind_out = _git(git_dir, ["cat-file", "-t", tag], {}).stdout.strip()
        if kind_out != "tag":
            raise refuse(
                "not-a-tag", "not an annotated tag, so it carries no signature (verify.ref: tag)"
            )
        peeled = _git(git_dir, ["rev-parse", "--verify", f"{tag}^{{commit}}"], {}).stdout.strip()
        if peeled != sha:  # e.g. a branch of the same name resolved first
            raise refuse("tag-mismatch", f"the tag points at {peeled[:12]}, not at the commit")
    raw = _git(git_dir, ["cat-file", obj, tag or sha], {}).stdout
    kind = signature_kind(raw, obj)
    if kind == "none":
        raise refuse("unsigned", f"the {obj} is not signed")
    refuse = replace(refuse, kind=kind)
    usable = [k for k in keys if k.kind == kind]
    if not usable:
        have = ", ".join(sorted({k.kind for k in keys}))
        raise refuse(
            "untrusted-kind", f"signed with a {kind} signature, but only {have} keys are trusted"
        )
    verb = "verify-tag" if tag else "verify-commit"
    with tempfile.TemporaryDirectory(prefix="gitops-nb-verify-") as tmp:
        os.chmod(tmp, 0o700)
        if kind == "gpg":
            try:
                return _verify_gpg(git_dir, verb, tag or sha, usable, Path(tmp), refuse)
            finally:
                _stop_gpg_agents(Path(tmp))
        return _verify_ssh(git_dir, verb, tag or sha, usable, Path(tmp), refuse)


def _stop_gpg_agents(home: Path) -> None:
    """gpg may start an agent (or keyboxd) for a fresh home; stop it before the home goes,
    so a long-running process (a fleet, a notebook) does not gather one per verification."""
    if shutil.which("gpgconf") is not None:
        subprocess.run(
            ["gpgconf", "--homedir", str(home), "--kill", "all"],
            capture_output=True,
            check=False,
            timeout=10,
        )


def _verify_gpg(
    git_dir: Path, verb: str, name: str, keys: list[Key], home: Path, refuse: _Refuse
) -> Signature:
    if shutil.which("gpg") is None:
        raise ToolMissingError("gpg is not installed (Debian: apt-get install gnupg)")
    env = {"GNUPGHOME": str(home)}
    for key in keys:
        r = _run(["gpg", "--batch", "--quiet", "--no-tty", "--import", str(key.path)], env)
        if r.returncode != 0:
            raise ConfigError(f"verify.keys: {key.path}: gpg cannot import it: {_last(r.stderr)}")
    r = _git(git_dir, ["-c", "gpg.program=gpg", verb, "--raw", name], env)
    status: dict[str, str] = {}
    for line in r.stderr.splitlines():
        if line.startswith("[GNUPG:] "):
            word, _, rest = line[9:].partition(" ")
            status.setdefault(word, rest)
    if r.returncode == 0 and "VALIDSIG" in status and "GOODSIG" in status:
        fields = status["VALIDSIG"].split()
        fingerprint = fields[9] if len(fields) > 9 else fields[0]  # the primary key's
        signer = status["GOODSIG"].partition(" ")[2]
        return Signature("gpg", True, fingerprint, signer, refuse.obj)
    if "NO_PUBKEY" in status or "ERRSIG" in status:
        err = status.get("ERRSIG", "").split()  # keyid algo hash class time rc [fingerprint]
        keyid = (status.get("NO_PUBKEY") or " ".join(err[:1])).split(" ")[0]
        fpr = err[6] if len(err) > 6 and len(err[6]) == 40 else keyid
        raise refuse("unknown-key", f"signed by an untrusted or unknown OpenPGP key {keyid}", fpr)
    for word, reason, why in (
        ("BADSIG", "bad-signature", f"bad signature: the {refuse.obj} was altered after signing"),
        ("EXPKEYSIG", "expired-key", "signed by an expired key"),
        ("REVKEYSIG", "revoked-key", "signed by a revoked key"),
    ):
        if word in status:  # "<keyid> <user id>"
            keyid, _, uid = status[word].partition(" ")
            raise refuse(reason, f"{why} ({status[word]})", keyid, uid)
    raise refuse("rejected", f"gpg did not accept the signature: {_last(r.stderr)}")


def _verify_ssh(
    git_dir: Path, verb: str, name: str, keys: list[Key], tmp: Path, refuse: _Refuse
) -> Signature:
    if shutil.which("ssh-keygen") is None:
        raise ToolMissingError("ssh-keygen is not installed (Debian: openssh-client)")
    lines = []
    for key in keys:
        for n, line in enumerate(ln for ln in key.text.splitlines() if ln.strip()):
            parts = line.split()
            comment = parts[2] if len(parts) > 2 else ""
            principal = comment if re.fullmatch(r"[\w.@+-]+", comment) else f"{key.path.stem}-{n}"
            lines.append(f"{principal} {parts[0]} {parts[1]}")
    allowed = tmp / "allowed_signers"
    allowed.write_text("\n".join(lines) + "\n")
    args = ["-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={allowed}", verb, name]
    r = _git(git_dir, args, {})
    out = f"{r.stdout}\n{r.stderr}"
    good = _SSH_GOOD.search(out)
    if r.returncode == 0 and good:
        return Signature("ssh", True, good.group(2), good.group(1), refuse.obj)
    if "Signature verification failed" in out or "incorrect signature" in out:
        raise refuse("bad-signature", f"bad signature: the {refuse.obj} was altered after signing")
    if "no principal matched" in out.lower():
        # The signature itself is good; only its key is not trusted. git names that key.
        named = _SSH_KEY.search(out)
        fpr = named.group(1) if named else ""
        raise refuse("unknown-key", "signed by an untrusted or unknown SSH key", fpr)
    raise refuse("rejected", f"ssh-keygen did not accept the signature: {_last(out)}")


def _git(git_dir: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    r = _run(["git", f"--git-dir={git_dir}", *args], env)
    if r.returncode != 0 and "verify-" not in " ".join(args):
        raise VerificationError(f"verify: git {' '.join(args)}: {_last(r.stderr)}")
    return r


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GNUPG"))}
    # No system or global git config: only our -c options decide what is trusted.
    full = {**base, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, **env}
    try:
        return subprocess.run(
            argv, env=full, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise VerificationError(f"verify: {argv[0]} failed: {e}") from e


def _last(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("[GNUPG:]")]
    return (lines[-1] if lines else "no output")[:300]
