"""Real signing keys for tests: an OpenPGP key in its own GNUPGHOME, an SSH key pair.

Commits are signed by real ``git commit -S`` with real ``gpg`` or ``ssh-keygen -Y sign``.
"""

from __future__ import annotations

import atexit
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.gitrepo import GitRepo


@dataclass(frozen=True)
class SigningKey:
    kind: str
    """``gpg`` or ``ssh``."""
    public: Path
    """The file to trust (armored OpenPGP public key, or ``.pub``)."""
    fingerprint: str
    home: Path
    """GNUPGHOME (gpg) or the directory holding the private key (ssh)."""
    signing_key: str
    """``user.signingkey``: the OpenPGP fingerprint or the SSH private key path."""


_ED25519 = ("ed25519", "sign", "never")


def gpg_key(tmp: Path, uid: str = "Alice <alice@example.com>") -> SigningKey:
    home = tmp / "gnupg"
    home.mkdir(mode=0o700, parents=True)
    env = {**os.environ, "GNUPGHOME": str(home)}
    # Key generation and signing start a gpg-agent for this home: stop it when the tests end.
    atexit.register(
        subprocess.run, ["gpgconf", "--homedir", str(home), "--kill", "all"], check=False
    )
    subprocess.run(
        ["gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key", uid, *_ED25519],
        check=True,
        capture_output=True,
        env=env,
    )
    out = subprocess.run(
        ["gpg", "--batch", "--list-keys", "--with-colons"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    fpr = next(ln.split(":")[9] for ln in out.splitlines() if ln.startswith("fpr:"))
    public = tmp / "key.asc"
    armored = subprocess.run(
        ["gpg", "--batch", "--armor", "--export", fpr], check=True, capture_output=True, env=env
    ).stdout
    public.write_bytes(armored)
    return SigningKey("gpg", public, fpr, home, fpr)


def ssh_key(tmp: Path, comment: str = "alice@example.com") -> SigningKey:
    tmp.mkdir(parents=True, exist_ok=True)
    private = tmp / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private)],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{private}.pub"], check=True, capture_output=True, text=True
    ).stdout
    return SigningKey("ssh", Path(f"{private}.pub"), out.split()[1], tmp, str(private))


def use_key(repo: GitRepo, key: SigningKey) -> None:
    """Sign every following commit and tag in ``repo`` with ``key``."""
    if key.kind == "gpg":
        repo.git("config", "gpg.format", "openpgp")
        repo.git("config", "gpg.program", str(_gpg_wrapper(key)))
    else:
        repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", key.signing_key)
    repo.git("config", "commit.gpgsign", "true")
    repo.git("config", "tag.gpgsign", "true")


def no_signing(repo: GitRepo) -> None:
    repo.git("config", "commit.gpgsign", "false")
    repo.git("config", "tag.gpgsign", "false")


def tamper(repo: GitRepo, ref: str = "main") -> str:
    """Rewrite the tip commit's message, keeping its signature; point ``ref`` at it."""
    raw = repo.git("cat-file", "commit", ref) + "\n"
    forged = raw.replace("\n\n", "\n\nforged: ", 1) if "gpgsig" in raw else raw + "x"
    sha = subprocess.run(
        ["git", "-C", str(repo.path), "hash-object", "-t", "commit", "-w", "--stdin"],
        input=forged,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    repo.git("update-ref", f"refs/heads/{ref}", sha)
    return sha


def _gpg_wrapper(key: SigningKey) -> Path:
    """gpg with the signer's own GNUPGHOME, so tests never touch the user's keyring."""
    wrapper = key.home.parent / "gpg-sign"
    wrapper.write_text(f'#!/bin/sh\nexec gpg --homedir "{key.home}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper
