"""Git source: cached bare mirror per URL, ref resolution, checkout of one commit's tree.

Inputs are validated before any file or process is touched: URLs, refs and app paths that
could run commands (``ext::``, ``--upload-pack=``) or escape the checkout are refused.
Secrets come from files and reach git only through a private askpass helper or
``GIT_SSH_COMMAND`` options naming files; never argv, URLs or error messages.

Allowed sources: local paths, ``file://``, ``https://``, ``ssh://`` and scp-style
``user@host:path``. Plain ``http://`` and ``git://`` are refused: they would send
credentials and content unprotected.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import git

from gitops_nb.errors import (
    AuthError,
    ConfigError,
    RefNotFoundError,
    SourceError,
    SourceUnreachableError,
    UnsafeSourceError,
)
from gitops_nb.model import Revision

GIT_TIMEOUT_S = 300
_PRIVATE_HEAD = "refs/gitops-nb/HEAD"
_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
# Only these transports; GIT_PROTOCOL_FROM_USER=0 closes the "user" policy too.
_GIT_CONFIG = (
    "protocol.allow=never",
    "protocol.file.allow=always",
    "protocol.https.allow=always",
    "protocol.ssh.allow=always",
)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_TRANSPORT = re.compile(r"^[A-Za-z0-9+.-]+::")
_SCP = re.compile(r"^(?:[^@/:\s]+@)?(\[[0-9A-Fa-f:.]+\]|[^@/:\s\[]+):(.*)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEX = re.compile(r"^[0-9a-f]{4,40}$")
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_AUTH_MARKERS = (
    "authentication failed",
    "permission denied (publickey",
    "could not read username",
    "could not read password",
    "the requested url returned error: 401",
    "the requested url returned error: 403",
    "host key verification failed",
    "invalid username or password",
)
_UNREACHABLE_MARKERS = (
    "does not appear to be a git repository",
    "could not read from remote repository",
    "could not resolve host",
    "unable to access",
    "connection refused",
    "connection timed out",
    "repository not found",
    "no such file or directory",
    "network is unreachable",
    "timed out",
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


@dataclass(frozen=True)
class SourceSpec:
    """Where the desired state lives."""

    url: str
    """Local path, ``file://``, ``https://``, ``ssh://`` or scp-style ``git@host:org/repo``."""
    ref: str = "HEAD"
    """Branch, tag, ``refs/...``, full or short commit, or HEAD (the remote default branch)."""
    path: str = "."
    """App directory inside the repository."""
    credentials: Credentials = field(default_factory=Credentials)


@dataclass(frozen=True)
class Checkout:
    """The tree of one commit, checked out under the cache directory."""

    spec: SourceSpec
    revision: Revision
    root: Path

    @property
    def app_dir(self) -> Path:
        """``root / spec.path``; refuses paths (or symlinks) that leave ``root``."""
        validate_path(self.spec.path)
        root = self.root.resolve()
        target = (root / self.spec.path).resolve()
        if target != root and root not in target.parents:
            raise UnsafeSourceError(f"app path {self.spec.path!r} escapes the repository")
        return target


# --- validation -----------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """``url`` with any ``user[:password]@`` removed, for messages."""
    return _USERINFO.sub(r"\1", url)


def validate_url(url: str) -> None:
    """Refuse URLs that could run commands, use unsafe transports or embed a password."""
    shown = redact_url(url)
    if not url or url.strip() != url or _CONTROL.search(url):
        raise UnsafeSourceError(f"git URL {shown!r}: empty, padded or has control characters")
    if url.startswith("-"):
        raise UnsafeSourceError(f"git URL {shown!r} looks like an option")
    if _TRANSPORT.match(url) or "::" in url:
        raise UnsafeSourceError(f"git URL {shown!r}: transport::address URLs are not allowed")
    scheme = _SCHEME.match(url)
    if scheme:
        name = scheme.group(1).lower()
        if name not in ("file", "https", "ssh"):
            raise UnsafeSourceError(
                f"git URL {shown!r}: scheme {name!r} not allowed (use https, ssh or file)"
            )
        parts = urlsplit(url)
        if parts.password is not None:
            raise UnsafeSourceError(
                f"git URL {shown!r} embeds a password; use a credentials file instead"
            )
        if name != "file" and (not parts.hostname or parts.hostname.startswith("-")):
            raise UnsafeSourceError(f"git URL {shown!r}: missing or invalid host")
        return
    scp = _SCP.match(url)
    if scp and not re.match(r"^[A-Za-z]:[\\/]", url):
        host, path = scp.groups()
        if host.startswith("-") or path.startswith("-") or not path:
            raise UnsafeSourceError(f"git URL {shown!r}: invalid host or path")


def validate_ref(ref: str) -> None:
    """Refuse refs that could be options or revision expressions (``a..b``, ``@{...}``)."""
    bad = (
        not ref
        or ref.startswith("-")
        or ".." in ref
        or "@{" in ref
        or ref == "@"
        or "//" in ref
        or ref.endswith(("/", ".", ".lock"))
        or _CONTROL.search(ref) is not None
        or any(c in ref for c in " ~^:?*[\\")
        or any(part.startswith(".") for part in ref.split("/"))
        or len(ref) > 255
    )
    if bad:
        raise UnsafeSourceError(f"git ref {ref!r} is not a valid branch, tag or commit")


def validate_path(path: str) -> None:
    """Refuse an app path that is absolute or climbs out with ``..``."""
    pure = PurePosixPath(path)
    if (
        not path
        or pure.is_absolute()
        or ".." in pure.parts
        or "\\" in path
        or _CONTROL.search(path)
    ):
        raise UnsafeSourceError(
            f"app path {path!r} must be relative and stay inside the repository"
        )


# --- git environment ------------------------------------------------------------------------


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


# --- fetch / resolve ------------------------------------------------------------------------


def fetch(spec: SourceSpec, cache_dir: Path) -> Checkout:
    """Update the mirror, resolve ``spec.ref`` and check out that commit's tree."""
    _validate(spec)
    with _Session(spec, cache_dir) as s:
        commit = s.resolve()
        revision = s.revision(commit)
        root = s.checkout(commit)
    return Checkout(spec, revision, root)


def resolve(spec: SourceSpec, cache_dir: Path) -> Revision:
    """Update the mirror and resolve ``spec.ref``, without checking anything out."""
    _validate(spec)
    with _Session(spec, cache_dir) as s:
        return s.revision(s.resolve())


def mirror_path(url: str, cache_dir: Path) -> Path:
    """Where the bare mirror of ``url`` lives (named by the sha256 of the normalised URL)."""
    digest = hashlib.sha256(_normalise_url(url).encode()).hexdigest()
    return cache_dir / "mirrors" / f"{digest}.git"


def classify_git_error(stderr: object, url: str, ref: str) -> SourceError:
    """Map git's stderr to the error hierarchy; the message never carries URL userinfo."""
    raw = stderr if isinstance(stderr, str) else str(stderr or "")
    text = raw.lower()
    shown = redact_url(url)
    detail = redact_url(" ".join(raw.replace("stderr:", "").split()))[-500:].strip(" '")
    if any(m in text for m in _AUTH_MARKERS):
        return AuthError(f"git {shown}: authentication failed ({detail})")
    if "couldn't find remote ref" in text:
        return RefNotFoundError(f"git ref {ref!r} not found in {shown}")
    if any(m in text for m in _UNREACHABLE_MARKERS):
        return SourceUnreachableError(f"git {shown}: cannot reach repository ({detail})")
    return SourceError(f"git {shown}: {detail or 'git failed'}")


def _validate(spec: SourceSpec) -> None:
    validate_url(spec.url)
    validate_ref(spec.ref)
    validate_path(spec.path)
    spec.credentials.check()


def _is_local(url: str) -> bool:
    return not _SCHEME.match(url) and not (_SCP.match(url) and not url.startswith(("/", ".")))


def _normalise_url(url: str) -> str:
    return os.path.abspath(url) if _is_local(url) else url


class _Session:
    """One locked use of a mirror: git environment, fetch, resolve, checkout."""

    def __init__(self, spec: SourceSpec, cache_dir: Path) -> None:
        self.spec = spec
        self.cache_dir = cache_dir
        self.url = _normalise_url(spec.url)
        self.shown = redact_url(spec.url)
        self.mirror = mirror_path(spec.url, cache_dir)
        self._stack = contextlib.ExitStack()
        self.env: dict[str, str] = {}
        self.config: list[str] = []

    def __enter__(self) -> _Session:
        with self._stack as stack:
            self.env, extra = stack.enter_context(git_environment(self.spec.credentials))
            self.config = [*git_config_args(), *extra]
            self.mirror.parent.mkdir(parents=True, exist_ok=True)
            lock = stack.enter_context(open(f"{self.mirror}.lock", "w"))
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # git plumbing

    def _git(self, *args: str, repo: Path | None = None, work_tree: Path | None = None) -> str:
        repo = repo or self.mirror
        argv = ["git", f"--git-dir={repo}", *self.config, *args]
        if work_tree is not None:
            argv.insert(2, f"--work-tree={work_tree}")
        try:
            out = git.Git(str(repo)).execute(
                argv, env=self.env, kill_after_timeout=GIT_TIMEOUT_S, strip_newline_in_stdout=True
            )
        except git.GitCommandError as e:
            raise classify_git_error(e.stderr, self.spec.url, self.spec.ref) from e
        return str(out)

    def _fetch(self, repo_dir: Path, *refspecs: str) -> None:
        self._git(
            "fetch", "--prune", "--no-tags", "--quiet", "--", self.url, *refspecs, repo=repo_dir
        )

    def _update(self) -> None:
        extra = (f"+HEAD:{_PRIVATE_HEAD}",) if self.spec.ref == "HEAD" else ()
        if self.mirror.is_dir():
            self._fetch(self.mirror, *_REFSPECS, *extra)
            return
        # First use: build the mirror aside and rename, so a failed clone leaves nothing.
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.mirror.parent))
        try:
            git.Repo.init(tmp, bare=True)
            with git.Repo(tmp).config_writer() as cw:
                cw.set_value('remote "origin"', "url", self.url)
                cw.set_value("gc", "autoDetach", "false")
            self._fetch(tmp, *_REFSPECS, *extra)
            tmp.rename(self.mirror)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _rev_parse(self, name: str) -> str | None:
        try:
            out = self._git(
                "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}"
            )
        except SourceError:
            return None
        return out.strip() or None

    # public steps

    def resolve(self) -> str:
        """Fetch and resolve the spec's ref to a full commit sha."""
        self._update()
        ref = self.spec.ref
        if ref == "HEAD":
            candidates = [_PRIVATE_HEAD]
        elif ref.startswith("refs/"):
            candidates = [ref]
        else:
            candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}"]
        for name in candidates:
            if (sha := self._rev_parse(name)) is not None:
                return sha
        if _HEX.match(ref):
            if (sha := self._resolve_hex(ref)) is not None:
                return sha
        elif ref.startswith("refs/") and not ref.startswith(("refs/heads/", "refs/tags/")):
            self._fetch(self.mirror, f"+{ref}:{ref}")  # e.g. refs/pull/1/head, on demand
            if (sha := self._rev_parse(ref)) is not None:
                return sha
        raise RefNotFoundError(f"git ref {ref!r} not found in {self.shown}")

    def _resolve_hex(self, ref: str) -> str | None:
        try:
            out = self._git("rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}")
            return out.strip()
        except SourceError as e:
            if "ambiguous" in str(e):
                raise RefNotFoundError(
                    f"git ref {ref!r} is an ambiguous short commit in {self.shown}; use more digits"
                ) from e
        if len(ref) == 40:  # a commit no fetched ref points at; servers may still serve it
            with contextlib.suppress(RefNotFoundError, SourceError):
                self._fetch(self.mirror, ref)
                return self._rev_parse(ref)
        return None

    def revision(self, sha: str) -> Revision:
        commit = git.Repo(self.mirror).commit(sha)
        when = commit.committed_datetime.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = commit.message if isinstance(commit.message, str) else commit.message.decode()
        return Revision(
            commit=commit.hexsha,
            time=when,
            author=f"{commit.author.name} <{commit.author.email}>",
            message=message,
        )

    def checkout(self, sha: str) -> Path:
        """Materialise the commit's tree at ``checkouts/<sha>`` (reused when present)."""
        final = self.cache_dir / "checkouts" / sha
        if final.is_dir():
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{sha[:12]}-", dir=final.parent))
        try:
            tree = tmp / "tree"
            index = tmp / "index"
            # A private index keeps the shared mirror untouched; git refuses unsafe paths.
            self.env["GIT_INDEX_FILE"] = str(index)
            tree.mkdir()
            try:
                self._git("read-tree", "--end-of-options", sha)
                self._git("checkout-index", "--all", "--force", work_tree=tree)
            finally:
                del self.env["GIT_INDEX_FILE"]
            with contextlib.suppress(FileExistsError, OSError):
                tree.rename(final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if not final.is_dir():
            raise SourceError(f"git {self.shown}: could not check out {sha}")
        return final
