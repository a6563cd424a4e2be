"""Git credentials and the environment every git invocation runs in.

All secrets come from files and reach git only through a private askpass helper or
``GIT_SSH_COMMAND`` options naming files; never argv, URLs or error messages.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from gitops_nb.errors import ConfigError

# Only these transports; GIT_PROTOCOL_FROM_USER=0 closes the "user" policy too.
_GIT_CONFIG = (
    "protocol.allow=never",
    "protocol.file.allow=always",
    "protocol.https.allow=always",
    "protocol.ssh.allow=always",
)


@dataclass(frozen=True)
class Credentials:
    """All secrets come from files, never from the command line."""

    token_file: Path | None = None
    """HTTPS token, sent as the password of user ``git`` unless ``username_file`` is set."""
    username_file: Path | None = None
    """HTTPS user name (with ``password_file`` or ``token_file``)."""
    password_file: Path | None = None
    """HTTPS password; mutually exclusive with ``token_file``."""
    ssh_key_file: Path | None = None
    """SSH private key; requires ``known_hosts_file``."""
    known_hosts_file: Path | None = None
    """known_hosts for strict host key checking."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Credentials:
        """Read ``GITOPS_NB_GIT_{TOKEN,USERNAME,PASSWORD,SSH_KEY,KNOWN_HOSTS}_FILE``."""

        def path(name: str) -> Path | None:
            value = environ.get(f"GITOPS_NB_GIT_{name}_FILE", "")
            return Path(value) if value else None

        return cls(
            token_file=path("TOKEN"),
            username_file=path("USERNAME"),
            password_file=path("PASSWORD"),
            ssh_key_file=path("SSH_KEY"),
            known_hosts_file=path("KNOWN_HOSTS"),
        )

    @property
    def has_https(self) -> bool:
        return bool(self.token_file or self.password_file)

    def check(self) -> None:
        """Raise ConfigError for unusable combinations or unreadable files."""
        if self.token_file and self.password_file:
            raise ConfigError("git credentials: set token_file or password_file, not both")
        if self.username_file and not self.has_https:
            raise ConfigError("git credentials: username_file needs password_file or token_file")
        if self.ssh_key_file and not self.known_hosts_file:
            raise ConfigError(
                "git credentials: ssh_key_file needs known_hosts_file (strict host key checking)"
            )
        for name in ("token_file", "username_file", "password_file", "ssh_key_file"):
            p: Path | None = getattr(self, name)
            if p is not None and not os.access(p, os.R_OK):
                raise ConfigError(f"git credentials: {name} {p} is not a readable file")
        if self.known_hosts_file and not os.access(self.known_hosts_file, os.R_OK):
            raise ConfigError(
                f"git credentials: known_hosts_file {self.known_hosts_file} unreadable"
            )


def git_config_args() -> list[str]:
    """``-c`` options every git invocation gets."""
    return [arg for kv in _GIT_CONFIG for arg in ("-c", kv)]


@contextlib.contextmanager
def git_environment(creds: Credentials) -> Iterator[tuple[dict[str, str], list[str]]]:
    """Environment and extra ``-c`` args for one git session; helper files are removed after.

    Secrets stay in their files: the askpass script only names them, ssh gets key paths.
    """
    creds.check()
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_PROTOCOL_FROM_USER": "0", "GCM_INTERACTIVE": "never"}
    extra: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gitops-nb-git-") as tmp:
        os.chmod(tmp, 0o700)
        if creds.has_https:
            env["GIT_ASKPASS"] = str(_write_askpass(Path(tmp), creds))
            # The configured files are then the only source of credentials.
            extra += ["-c", "credential.helper="]
        env["GIT_SSH_COMMAND"] = _ssh_command(Path(tmp), creds)
        env["GIT_SSH_VARIANT"] = "ssh"
        yield env, extra


def _write_askpass(tmp: Path, creds: Credentials) -> Path:
    secret = creds.token_file or creds.password_file
    user = f"cat -- {shlex.quote(str(creds.username_file))}" if creds.username_file else "echo git"
    script = tmp / "askpass.sh"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f"  Username*) {user} ;;\n"
        f"  *) cat -- {shlex.quote(str(secret))} ;;\n"
        "esac\n"
    )
    script.chmod(0o700)
    return script


def _ssh_command(tmp: Path, creds: Credentials) -> str:
    opts = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
    if creds.ssh_key_file:
        key = creds.ssh_key_file
        if key.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            # ssh refuses group/world-readable keys, as Kubernetes Secret volumes mount them.
            private = tmp / "id"
            private.touch(0o600)
            shutil.copyfile(key, private)
            key = private
        opts += ["-i", str(key), "-o", "IdentitiesOnly=yes"]
    if creds.known_hosts_file:
        opts += ["-o", f"UserKnownHostsFile={creds.known_hosts_file}"]
    return shlex.join(opts)
