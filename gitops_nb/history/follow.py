"""An app's history is the history of everything it renders from.

For a Kustomize app that is more than its directory: bases, components, patches and the
files generators read, often in shared directories (``overlays/production`` →
``../../bases/*``). This module

1. computes the app's render closure (:func:`gitops_nb.source.kustomization.closure`) at
   the tip and follows it back through history: every commit that changes a kustomization
   file in the closure may widen it (a base renamed, a component added), until the set of
   paths is stable;
2. lists the commits ``git log REF -- <those paths>`` names;
3. renders each such commit and its first parent, cached by the closure's blob and tree ids
   (not by the app directory's tree id, which goes stale when only a base changes), and
   reports a commit as a change only when the rendered objects changed; commits that touched
   the closure without effect are kept with ``effect == "none"``.

For a plain directory the closure is the directory itself, so the commits are exactly
``git log REF -- DIR`` and files are compared blob by blob, as before.
"""

from __future__ import annotations

import io
import posixpath
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import git
import yaml

from gitops_nb.errors import GitOpsError, RefNotFoundError, RenderError
from gitops_nb.history.gitlog import (
    CommitInfo,
    Renderer,
    _compare,
    _file_changes,
    _iter,
    _norm,
    _Objects,
    _row,
    _State,
    _state,
)
from gitops_nb.model import Manifest
from gitops_nb.source.helm import ChartContext
from gitops_nb.source.kustomization import (
    KUSTOMIZATION_FILES,
    Closure,
    DirectoryTree,
    closure,
    kustomization_file,
)
from gitops_nb.source.render import is_manifest_file, render
from gitops_nb.source.validation import validate_ref

Effect = Literal["changed", "none", "error"]


class CommitTree:
    """The tree of one commit as a :class:`~gitops_nb.source.kustomization.FileTree`."""

    def __init__(self, objects: _Objects, commit: str) -> None:
        self._objects, self.commit = objects, commit

    def _data(self, path: str) -> tuple[str, str, bytes] | None:
        return self._objects.data(f"{self.commit}:{path}")

    def kind(self, path: str) -> Literal["file", "dir"] | None:
        found = self._data(path)
        if found is None:
            return None
        return "dir" if found[1] == "tree" else "file" if found[1] == "blob" else None

    def read(self, path: str) -> bytes | None:
        found = self._data(path)
        return found[2] if found is not None and found[1] == "blob" else None

    def object_id(self, path: str) -> str:
        found = self._data(path)
        return found[0] if found is not None else ""


@dataclass(frozen=True)
class CommitEffect:
    """What one commit did to the app's rendered objects."""

    commit: CommitInfo
    effect: Effect
    rows: list[dict[str, Any]]


def _touches_kustomization(c: CommitInfo) -> bool:
    names = {p.rsplit("/", 1)[-1] for fc in c.changes for p in (fc.path, fc.old_path)}
    return bool(names & set(KUSTOMIZATION_FILES))


class _Render:
    """Renders the app at a commit from the files of its closure, with ``git archive``.

    Extracting only the closure keeps a render cheap in a large repository. Should the
    closure miss something Kustomize reads, the whole commit is extracted once more.
    """

    def __init__(self, repo: git.Repo, path: str, chart: ChartContext | None = None) -> None:
        self._repo_dir, self._path = str(repo.working_dir or repo.git_dir), path
        self._chart = chart

    def __call__(self, commit: str, paths: list[str]) -> list[Manifest]:
        try:
            return self._render(commit, paths)
        except RenderError:
            if not paths:
                raise
            return self._render(commit, [])

    def _render(self, commit: str, paths: list[str]) -> list[Manifest]:
        spec = ["--", *paths] if paths else []
        archive = subprocess.run(
            ["git", "-C", self._repo_dir, "archive", "--format=tar", commit, *spec],
            check=False,
            capture_output=True,
        )
        if archive.returncode != 0:
            err = archive.stderr.decode(errors="replace")[:300]
            raise RenderError(f"{commit[:12]}:1", f"git archive failed: {err}")
        with tempfile.TemporaryDirectory(prefix="gitops-nb-tree-") as tmp:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(tmp, filter="data")
            _ask_for_origins(Path(tmp), self._path)
            rendered = render(Path(tmp), self._path or ".", chart=self._chart)
            return [_from_origin(m, self._path) for m in rendered]


_ORIGIN = "config.kubernetes.io/origin"


def _ask_for_origins(root: Path, path: str) -> None:
    """Make Kustomize annotate each object with the file it came from (``buildMetadata``).

    Only the extracted copy is changed; the annotation is removed again by :func:`_from_origin`.
    """
    kfile = kustomization_file(DirectoryTree(root), path)
    if kfile is None:
        return
    target = root / kfile
    try:
        doc = yaml.safe_load(target.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return  # the build reports it
    if not isinstance(doc, dict):
        return
    meta = doc.get("buildMetadata")
    meta = list(meta) if isinstance(meta, list) else []
    if "originAnnotations" not in meta:
        doc["buildMetadata"] = [*meta, "originAnnotations"]
        target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _from_origin(m: Manifest, app_path: str) -> Manifest:
    """The manifest without the origin annotation, its source the repo file it came from."""
    meta = m.obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict) or _ORIGIN not in annotations:
        return m
    rest = {k: v for k, v in annotations.items() if k != _ORIGIN}
    new_meta = {k: v for k, v in meta.items() if k != "annotations"}  # type: ignore[union-attr]
    if rest:
        new_meta["annotations"] = rest
    source = m.source
    try:
        origin = yaml.safe_load(str(annotations[_ORIGIN]))
    except yaml.YAMLError:
        origin = None
    if isinstance(origin, dict) and not origin.get("repo"):
        rel = origin.get("path") or origin.get("configuredIn")
        if isinstance(rel, str) and rel:
            source = posixpath.normpath(posixpath.join(app_path or ".", rel))
    return Manifest({**m.obj, "metadata": new_meta}, source, m.line)


class AppHistory:
    """The commits and rendered states of one app path (plain directory or Kustomize)."""

    def __init__(
        self,
        repo: git.Repo,
        ref: str,
        path: str,
        renderer: Renderer | None = None,
        chart: ChartContext | None = None,
    ) -> None:
        validate_ref(ref)  # before the first git call that takes it
        self.repo, self.ref, self.path = repo, ref, _norm(path)
        self.objects = _Objects(repo)
        self._renderer = renderer
        self._chart = chart
        self._render = _Render(repo, self.path, chart)
        self._closures: dict[str, Closure] = {}
        self._states: dict[tuple[tuple[str, str], ...], _State | GitOpsError] = {}
        self.renders = 0
        """Renders actually run (the rest came from the signature cache)."""

    # -- closures ---------------------------------------------------------------------------

    def closure_at(self, commit: str) -> Closure:
        """What the app renders from at ``commit``; for a chart also the values files its
        settings name (``helm.valuesFiles``, often outside the chart), as apply reads them."""
        if commit not in self._closures:
            cl = closure(CommitTree(self.objects, commit), self.path)
            if cl.chart and self._chart is not None:
                values = (posixpath.normpath(_norm(f)) for f in self._chart.settings.values_files)
                cl.files |= {f for f in values if f != "." and not f.startswith("../")}
            self._closures[commit] = cl
        return self._closures[commit]

    def paths(self) -> list[str]:
        """The union of the app's closures over the history of ``ref`` (a stable set)."""
        try:
            tip = self.repo.git.rev_parse("--verify", "--end-of-options", f"{self.ref}^{{commit}}")
        except git.GitCommandError as e:
            where = self.repo.working_dir or self.repo.git_dir
            raise RefNotFoundError(f"{where}: ref {self.ref!r} not found") from e
        # An app gone at the tip still has a history: start from its directory.
        found = set(self.closure_at(tip).files) or {self.path or "."}
        visited: set[str] = set()
        while True:
            grew = False
            for c in _iter(self.repo, self.ref, sorted(found)):
                if c.commit in visited or not _touches_kustomization(c):
                    continue
                visited.add(c.commit)
                for commit in (c.commit, *c.parents[:1]):
                    more = self.closure_at(commit).files - found
                    if more:
                        found |= more
                        grew = True
            if not grew:
                return sorted(found)

    # -- rendered states --------------------------------------------------------------------

    def state_at(self, commit: str) -> _State | GitOpsError:
        """The objects the app renders to at ``commit`` ({} where the path doesn't exist)."""
        tree = CommitTree(self.objects, commit)
        if tree.kind(self.path) != "dir":
            return {}
        cl = self.closure_at(commit)
        signature = tuple(sorted((p, tree.object_id(p)) for p in cl.files))
        if signature not in self._states:
            self._states[signature] = self._compute(commit, cl, tree)
        return self._states[signature]

    def _compute(self, commit: str, cl: Closure, tree: CommitTree) -> _State | GitOpsError:
        self.renders += 1
        try:
            if not (cl.kustomize or cl.chart):  # a chart is rendered like a kustomization
                return _state(self._walk(tree, self.path))
            if self._renderer is not None:
                return _state(self._renderer(commit, tree.object_id(self.path)))
            existing = [p for p in sorted(cl.files) if tree.kind(p) is not None]
            return _state(self._render(commit, existing))
        except GitOpsError as e:
            return e

    def _walk(self, tree: CommitTree, prefix: str) -> Iterator[Manifest]:
        found = self.objects.data(f"{tree.commit}:{prefix}")
        if found is None:
            return
        for mode, name, sha in self.objects.tree(found[0]):
            full = f"{prefix}/{name}" if prefix else name
            if mode == "40000":
                yield from self._walk(tree, full)
            elif mode.startswith("100") and is_manifest_file(full):
                yield from self.objects.manifests(sha, full)

    # -- effects ----------------------------------------------------------------------------

    def effects(self) -> list[CommitEffect]:
        """Every commit that touched the closure, newest first, with its effect and rows.

        A commit that breaks the render is ``error`` (one error row). The commit that fixes
        it is compared with the last state that rendered, which is what the cluster still
        held, so neither the breakage nor the fix shows up as removals and additions.
        """
        log = list(_iter(self.repo, self.ref, self.paths()))
        kustomize_ever = any(cl.kustomize or cl.chart for cl in self._closures.values())
        out: list[CommitEffect] = []
        last_good: _State = {}
        for c in reversed(log):
            if not kustomize_ever and self._renderer is None:
                rows = _file_changes(c, self.objects)
                effect: Effect = (
                    "error"
                    if any(r["change"] == "error" for r in rows)
                    else "changed"
                    if rows
                    else "none"
                )
                out.append(CommitEffect(c, effect, rows))
                continue
            new = self.state_at(c.commit)
            if isinstance(new, GitOpsError):
                out.append(CommitEffect(c, "error", [_row(c, "error", "", None, str(new))]))
                continue
            old = self.state_at(c.parents[0]) if c.parents else {}
            if isinstance(old, GitOpsError):
                old = last_good
            rows = _compare(c, old, new)
            last_good = new
            out.append(CommitEffect(c, "changed" if rows else "none", rows))
        out.reverse()
        return out
