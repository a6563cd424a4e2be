"""Git source: cached bare mirror per URL, ref resolution, checkout of one commit's tree.

Inputs are checked first (:mod:`gitops_nb.source.validation`); git runs with the
environment and credentials of :mod:`gitops_nb.source.credentials`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import git

from gitops_nb.config import HelmSettings, VerifySettings
from gitops_nb.errors import (
    AuthError,
    RefNotFoundError,
    SourceError,
    SourceUnreachableError,
    UnsafeSourceError,
)
from gitops_nb.model import Revision, format_time
from gitops_nb.source import verify
from gitops_nb.source.credentials import Credentials, git_config_args, git_environment
from gitops_nb.source.validation import (
    is_local_url,
    redact_url,
    validate_path,
    validate_ref,
    validate_url,
)

GIT_TIMEOUT_S = 300
_PRIVATE_HEAD = "refs/gitops-nb/HEAD"
_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_HEX = re.compile(r"^[0-9a-f]{4,40}$")
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
class SourceSpec:
    """Where the desired state lives."""

    url: str
    """Local path, ``file://``, ``https://``, ``ssh://`` or scp-style ``git@host:org/repo``."""
    ref: str = "HEAD"
    """Branch, tag, ``refs/...``, full or short commit, or HEAD (the remote default branch)."""
    path: str = "."
    """App directory inside the repository."""
    credentials: Credentials = field(default_factory=Credentials)
    verify: VerifySettings = field(default_factory=VerifySettings)
    """Signed commits only (off when it names no keys)."""
    helm: HelmSettings = field(default_factory=HelmSettings)
    """How a ``Chart.yaml`` at ``path`` is rendered."""


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


def fetch(spec: SourceSpec, cache_dir: Path) -> Checkout:
    """Update the mirror, resolve ``spec.ref`` and check out that commit's tree."""
    _validate(spec)
    with _Session(spec, cache_dir) as s:
        commit = s.resolve()
        revision = s.signed(s.revision(commit))  # before anything is checked out or rendered
        root = s.checkout(commit)
    return Checkout(spec, revision, root)


def resolve(spec: SourceSpec, cache_dir: Path) -> Revision:
    """Update the mirror and resolve ``spec.ref``, without checking anything out."""
    _validate(spec)
    with _Session(spec, cache_dir) as s:
        return s.revision(s.resolve())


def checkout_at(spec: SourceSpec, cache_dir: Path, commit: str) -> Path:
    """The tree of an earlier ``commit`` of ``spec``, from the mirror, without fetching or
    verifying again (it was both when it was rendered). ``RefNotFoundError`` when the mirror
    no longer holds it."""
    _validate(spec)
    with _Session(spec, cache_dir) as s:
        if not _HEX.match(commit) or s._rev_parse(commit) is None:
            raise RefNotFoundError(f"commit {commit[:12]!r} is not in the mirror of {s.shown}")
        return s.checkout(commit)


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
    _check_local_repo(spec.url)


def _check_local_repo(url: str) -> None:
    """A local repository that is not there is a typo, not an outage: say so in one line
    (permanent, exit 2) instead of git's "cannot reach … check access rights"."""
    local = url[len("file://") :] if url.startswith("file://") else url
    if not (is_local_url(url) or url.startswith("file://")):
        return
    where = Path(local).expanduser()
    if not where.exists():
        raise SourceError(f"repository {url}: no such directory")
    if not where.is_dir():
        raise SourceError(f"repository {url}: not a directory")
    if not ((where / ".git").exists() or (where / "HEAD").is_file()):
        raise SourceError(
            f"repository {url}: not a Git repository (no .git, not a bare repository)"
        )


def _normalise_url(url: str) -> str:
    return os.path.abspath(url) if is_local_url(url) else url


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
            # --update-shallow: a shallow clone is a source too (its history ends where it does)
            "fetch",
            "--prune",
            "--no-tags",
            "--quiet",
            "--update-shallow",
            "--",
            self.url,
            *refspecs,
            repo=repo_dir,
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
        when = format_time(commit.committed_datetime)
        message = commit.message if isinstance(commit.message, str) else commit.message.decode()
        return Revision(
            commit=commit.hexsha,
            time=when,
            author=f"{commit.author.name} <{commit.author.email}>",
            message=message,
        )

    def signed(self, revision: Revision) -> Revision:
        """``revision`` with its signature: verified (or refused) when verification is on."""
        settings = self.spec.verify
        if not settings.enabled:
            return replace(revision, signature=verify.observe(self.mirror, revision.commit))
        tag = ""
        if settings.ref == "tag":
            tag = self._tag_ref()
            if not tag:
                refuse = verify.refusal(revision, f"ref {self.spec.ref!r}", "tag")
                raise refuse("not-a-tag", "not a tag (verify.ref: tag)")
        return replace(revision, signature=verify.verify(self.mirror, revision, settings, tag))

    def _tag_ref(self) -> str:
        ref = self.spec.ref
        name = ref if ref.startswith("refs/tags/") else f"refs/tags/{ref}"
        if ref.startswith("refs/") and not ref.startswith("refs/tags/"):
            return ""
        return name if self._rev_parse(name) is not None else ""

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
