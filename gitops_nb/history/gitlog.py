"""Git history of an app path: commits and the objects each commit added, modified or removed.

One streaming ``git log -z --raw`` process lists the commits (parsed as the bytes arrive, so
10k commits never sit in memory at once), and one persistent ``git cat-file --batch`` process
(GitPython's) reads the blobs and trees the raw diff names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import git

from gitops_nb.engine.diff import field_changes
from gitops_nb.errors import GitOpsError, RefNotFoundError, SourceError
from gitops_nb.history.frames import OBJECT_COLUMNS, TIME_DTYPE, object_cols, to_utc
from gitops_nb.kube.fields import format_path
from gitops_nb.model import Manifest, format_time
from gitops_nb.source.render import is_manifest_file as _is_manifest
from gitops_nb.source.render import parse_documents
from gitops_nb.source.validation import validate_ref

NULL_SHA = "0" * 40

#: ``renderer(commit, tree_id)`` renders the app path's tree at a commit (e.g. kustomize build).
Renderer = Callable[[str, str], list[Manifest]]

_FIELDS = ("%H", "%P", "%T", "%an", "%ae", "%ct", "%B")
# A leading NUL marks each commit: after -z splitting, an empty token starts a commit.
_FORMAT = "--format=%x00" + "%x00".join(_FIELDS)
_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
_CHUNK = 1 << 16

COMMIT_COLUMNS: dict[str, str] = {
    "commit": "str",
    "short": "str",
    "author": "str",
    "email": "str",
    "time": TIME_DTYPE,
    "message": "str",
    "subject": "str",
    "files": "object",
    "n_files": "int64",
    "is_revert": "bool",
    "reverts": "object",
    "effect": "str",
    "signature_type": "str",
    "signature_verified": "bool",
    "signature_fingerprint": "str",
    "signature_signer": "str",
    "signature_reason": "str",
}

CHANGE_COLUMNS: dict[str, str] = {
    "commit": "str",
    "time": TIME_DTYPE,
    "author": "str",
    **OBJECT_COLUMNS,
    "change": "str",
    "file": "str",
    "fields": "object",
    "error": "object",
}


@dataclass(frozen=True)
class FileChange:
    """One ``--raw`` entry: status letter (A/M/D/R/C/T), paths and blob ids (NULL_SHA = none)."""

    status: str
    path: str
    old_path: str
    old_blob: str
    new_blob: str


@dataclass(frozen=True)
class CommitInfo:
    """One commit as ``git log`` lists it. ``time`` is the committer time (when the change
    landed, which is what lead time measures), ISO 8601 UTC. ``files`` are the changed paths
    under the log path (the new name for renames); ``changes`` the raw entries behind them."""

    commit: str
    author: str
    email: str
    time: str
    message: str
    files: tuple[str, ...]
    parents: tuple[str, ...]
    tree: str = ""
    changes: tuple[FileChange, ...] = ()

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


# --- streaming git log --------------------------------------------------------------------


def _open(repo: Path | str | git.Repo) -> git.Repo:
    if isinstance(repo, git.Repo):
        return repo
    try:
        return git.Repo(repo)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as e:
        raise SourceError(f"{repo}: not a Git repository") from e


def _tokens(stream: IO[bytes]) -> Iterator[bytes]:
    """NUL-separated tokens of ``stream``, read in chunks."""
    rest = b""
    while chunk := stream.read(_CHUNK):
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _text(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def _name(v: str | bytes) -> str:
    return v.decode("ascii") if isinstance(v, bytes) else v


def _parse_log(tokens: Iterator[bytes]) -> Iterator[CommitInfo]:
    tok = next(tokens, None)
    while tok is not None:
        if tok != b"":
            raise GitOpsError(f"unexpected git log output near {_text(tok[:60])!r}")
        sha, parents, tree, author, email, ctime, body = (next(tokens, b"") for _ in _FIELDS)
        changes: list[FileChange] = []
        tok = next(tokens, None)
        while tok:  # raw entries until the next commit's empty marker (or the end)
            meta = tok.lstrip(b"\n")
            if not meta.startswith(b":"):
                raise GitOpsError(f"unexpected git log --raw entry {_text(meta[:60])!r}")
            _, _, old_blob, new_blob, status = _text(meta[1:]).split(" ")
            first = _text(next(tokens, b""))
            second = _text(next(tokens, b"")) if status[:1] in "RC" else first
            changes.append(FileChange(status[:1], second, first, old_blob, new_blob))
            tok = next(tokens, None)
        yield CommitInfo(
            commit=_text(sha),
            author=_text(author),
            email=_text(email),
            time=format_time(datetime.fromtimestamp(int(ctime or 0), UTC)),
            message=_text(body).rstrip(),
            files=tuple(c.path for c in changes),
            parents=tuple(_text(parents).split()),
            tree=_text(tree),
            changes=tuple(changes),
        )


def _iter(repo: git.Repo, ref: str, paths: str | Sequence[str]) -> Iterator[CommitInfo]:
    """``git log REF -- PATHS``: the commits touching any of ``paths``, newest first."""
    validate_ref(ref)
    pathspec = [paths] if isinstance(paths, str) else list(paths)
    path = " ".join(pathspec)
    args = ["--no-color", "--no-show-signature", "-z", "--raw", "--no-abbrev", "-M", "--root"]
    proc = repo.git.log(*args, _FORMAT, "--end-of-options", ref, "--", *pathspec, as_process=True)
    finished = False
    try:
        yield from _parse_log(_tokens(proc.stdout))
        finished = True
    finally:
        if not finished:  # the consumer stopped early: don't leave git writing to a pipe
            proc.kill()
            proc.proc.wait()
    try:
        proc.wait()
    except git.GitCommandError as e:
        err = _text(e.stderr if isinstance(e.stderr, bytes) else str(e.stderr).encode()).strip()
        if "unknown revision" in err or "bad revision" in err or "ambiguous argument" in err:
            raise RefNotFoundError(f"{repo.working_dir}: ref {ref!r} not found") from e
        raise SourceError(f"{repo.working_dir}: git log {ref} -- {path} failed: {err}") from e


def iter_commits(
    repo: Path | str, ref: str = "HEAD", path: str = "."
) -> Generator[CommitInfo, None, None]:
    """The commits ``git log REF -- PATH`` lists, newest first, streamed from one process.

    Closing the generator early stops ``git log``.
    """
    r = _open(repo)
    try:
        yield from _iter(r, ref, path)
    finally:
        r.close()


def reverted_commit(message: str) -> str | None:
    """The commit a ``git revert`` message names, if any."""
    m = _REVERTS.search(message)
    return m.group(1) if m else None


# --- object changes -----------------------------------------------------------------------

_ObjKey = tuple[str, str, str, str]
_State = dict[_ObjKey, Manifest]


class _Objects:
    """Blobs and trees through GitPython's persistent ``cat-file --batch`` process."""

    def __init__(self, repo: git.Repo) -> None:
        self._git = repo.git

    def data(self, name: str) -> tuple[str, str, bytes] | None:
        """(id, type, content) of ``name`` (a sha or ``rev:path``); None when it is missing."""
        try:
            sha, kind, _, content = self._git.get_object_data(name)
        except ValueError:  # cat-file answered "missing"
            return None
        return _name(sha), _name(kind), bytes(content)

    def manifests(self, blob: str, source: str) -> list[Manifest]:
        found = self.data(blob)
        if found is None:
            raise GitOpsError(f"{source}: blob {blob} missing from the repository")
        try:
            text = found[2].decode("utf-8")
        except UnicodeDecodeError as e:
            raise GitOpsError(f"{source}: not UTF-8 text") from e
        return parse_documents(text, source)

    def tree(self, tree_id: str) -> Iterator[tuple[str, str, str]]:
        """(mode, name, sha) entries of a tree object."""
        found = self.data(tree_id)
        raw = found[2] if found else b""
        i = 0
        while i < len(raw):
            space = raw.index(b" ", i)
            nul = raw.index(b"\0", space)
            yield _text(raw[i:space]), _text(raw[space + 1 : nul]), raw[nul + 1 : nul + 21].hex()
            i = nul + 21


# Kustomize's own documents: transformer and generator configs (``apiVersion: builtin``,
# ``kind: LabelTransformer``), kustomizations, components, function configs.
_KUSTOMIZE_API = ("builtin", "kustomize.config.k8s.io/", "config.kubernetes.io/")
_KUSTOMIZE_KINDS = ("Kustomization", "Component")


def is_object(m: Manifest) -> bool:
    """A Kubernetes object a cluster would hold; not a values file or a Kustomize config."""
    api = str(m.obj.get("apiVersion") or "")
    if not (m.ref.kind and m.ref.name) or m.ref.kind in _KUSTOMIZE_KINDS:
        return False
    return not (api == "builtin" or api.startswith(_KUSTOMIZE_API))


def _state(manifests: Iterable[Manifest]) -> _State:
    return {m.ref.key: m for m in manifests if is_object(m)}


def _row(
    c: CommitInfo, change: str, file: str, m: Manifest | None, error: str | None = None
) -> dict[str, Any]:
    ref = m.ref if m is not None else None
    return {
        "commit": c.commit,
        "time": to_utc(c.time),
        "author": c.author,
        **object_cols(ref),
        "change": change,
        "file": file,
        "fields": [],
        "error": error,
    }


def changed_paths(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The field paths (as the diff prints them) whose values differ between two versions."""
    return [format_path(p) for p, _, _ in field_changes(before, after)]


def _compare(c: CommitInfo, old: _State, new: _State) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before is None and after is not None:
            rows.append(_row(c, "added", after.source, after))
        elif after is None and before is not None:
            rows.append(_row(c, "removed", before.source, before))
        elif before is not None and after is not None and before.obj != after.obj:
            row = _row(c, "modified", after.source, after)
            row["fields"] = changed_paths(before.obj, after.obj)
            rows.append(row)
    return rows


def _file_changes(c: CommitInfo, objects: _Objects) -> list[dict[str, Any]]:
    """Compare the objects of the changed files' old and new blobs, commit-wide, so an object
    moved between files (or a file renamed unchanged) is no change at all."""
    old: _State = {}
    new: _State = {}
    errors = []
    for fc in c.changes:
        if fc.old_blob == fc.new_blob or not (_is_manifest(fc.old_path) or _is_manifest(fc.path)):
            continue  # pure rename or mode change, or not a manifest
        try:
            after = (
                objects.manifests(fc.new_blob, fc.path)
                if fc.new_blob != NULL_SHA and _is_manifest(fc.path)
                else []
            )
        except GitOpsError as e:
            errors.append(_row(c, "error", fc.path, None, str(e)))
            continue
        try:
            before = (
                objects.manifests(fc.old_blob, fc.old_path)
                if fc.old_blob != NULL_SHA and _is_manifest(fc.old_path)
                else []
            )
        except GitOpsError:
            continue  # reported at the commit that broke it; the fix is not an "add"
        old.update(_state(before))
        new.update(_state(after))
    return errors + _compare(c, old, new)


def _norm(path: str) -> str:
    p = path.strip().removeprefix("./").strip("/")
    return "" if p == "." else p
