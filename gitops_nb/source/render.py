"""Directory → validated ``[Manifest]``: plain YAML/JSON trees or Kustomize.

Nothing is returned until the whole set has parsed and validated, so a bad file stops a
sync before the first write. Every error names ``file:line`` relative to the checkout.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from gitops_nb.binaries import find_binary
from gitops_nb.config import HelmSettings
from gitops_nb.errors import RenderError, ToolMissingError
from gitops_nb.model import Manifest
from gitops_nb.source import helm
from gitops_nb.source.checks import check_manifest
from gitops_nb.source.helm import ChartContext
from gitops_nb.source.kustomization import (
    KUSTOMIZATION_FILES,
    Closure,
    DirectoryTree,
    closure,
    is_local_git,
)
from gitops_nb.source.yamlsafe import bound_aliases, load_all

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZE_TIMEOUT_S = 120
# Kustomize errors can quote whole objects; keep the tail, where the cause is.
_MAX_STDERR = 2000
# kubectl logs errors through klog: `E1128 00:38:03.842150   13087 run.go:72] "command failed" err=`
_KLOG_PREFIX = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ \S+\] (?:"command failed" err=)?', re.M)


def render(
    root: Path, path: str = ".", *, kustomize: str | None = None, chart: ChartContext | None = None
) -> list[Manifest]:
    """Render the app directory ``root/path`` into validated manifests.

    A directory holding a ``Chart.yaml`` is a Helm chart, rendered with ``helm template``
    (``chart`` gives release, namespace, values and the cluster's capabilities; the
    defaults name the release after the directory). A directory holding a kustomization
    file is built with Kustomize (``kustomize``, if given, is the program to run: a
    ``kubectl`` or a ``kustomize`` binary); any other directory is walked recursively in
    sorted order for ``.yaml``/``.yml``/``.json`` files, skipping hidden files and directories.
    """
    root = root.resolve()
    app_dir = _app_dir(root, path)
    rel = _rel(root, root / path)
    kfile = next((root / path / n for n in KUSTOMIZATION_FILES if (app_dir / n).is_file()), None)
    if helm.is_chart(app_dir):
        _refuse_escaping_symlinks(root)
        ctx = chart or helm.ChartContext(HelmSettings(), app_dir.name or "release", "default")
        docs = helm.template(root, app_dir, ctx)
        manifests = helm.applied(m for src, text in docs for m in parse_documents(text, src))
    elif kfile is not None:
        _refuse_escaping_symlinks(root)
        cl = closure(DirectoryTree(root), _rel(root, app_dir))
        check_kustomize_inputs(root, _rel(root, app_dir), cl)
        # helmCharts: the vendored chart, the pinned helm, the cluster's capabilities
        flags = helm.kustomize_flags(root, cl.helm_charts, chart) if cl.helm_charts else []
        prefix = _kustomize_prefix(kustomize) if kustomize else find_kustomize()
        manifests = _kustomize_build(prefix, root, app_dir, _rel(root, kfile), flags)
        if cl.helm_charts:  # the same hook rules as a chart app
            manifests = helm.applied(manifests)
    else:
        manifests = []
        for file in _manifest_files(root, root / path, rel):
            manifests.extend(parse_documents(_read(file, _rel(root, file)), _rel(root, file)))
    validate(manifests)
    return manifests


def parse_documents(text: str, source: str) -> list[Manifest]:
    """Parse multi-document YAML or JSON into manifests, flattening ``*List`` kinds."""
    out: list[Manifest] = []
    for doc in load_all(text, source):
        if not isinstance(doc.data, dict):
            what = type(doc.data).__name__
            raise RenderError(f"{source}:{doc.line}", f"expected a Kubernetes object, got a {what}")
        items = doc.data.get("items")
        if _is_list_kind(doc.data) and isinstance(items, list):
            same = len(doc.item_lines) == len(items)
            lines = doc.item_lines if same else (doc.line,) * len(items)
            for item, line in zip(items, lines, strict=True):
                if not isinstance(item, dict):
                    what = type(item).__name__
                    raise RenderError(
                        f"{source}:{line}", f"list item must be an object, got {what}"
                    )
                out.append(Manifest(item, source, line))
        else:
            out.append(Manifest(doc.data, source, doc.line))
    return out


def validate(manifests: Sequence[Manifest]) -> None:
    """Check required fields and that no object identity is defined twice."""
    seen: dict[tuple[str, str, str, str], Manifest] = {}
    for m in manifests:
        _validate_one(m)
        check_manifest(m)
        first = seen.setdefault(m.ref.key, m)
        if first is not m:
            raise RenderError(
                m.location, f"duplicate object {m.ref}: also defined at {first.location}"
            )


def is_manifest_file(path: str) -> bool:
    """A file that holds manifests (``.yaml``/``.yml``/``.json``), not a kustomization.

    Rendering a directory and reading Git history both decide with this.
    """
    name = path.rsplit("/", 1)[-1]
    return name.endswith(MANIFEST_SUFFIXES) and name not in KUSTOMIZATION_FILES


def find_kustomize() -> list[str]:
    """Command prefix that builds a kustomization: ``[kustomize]`` or ``[kubectl, "kustomize"]``.

    kubectl is looked up as ``$GITOPS_NB_KUBECTL``, then the control-plane cache, then PATH.
    """
    exe = shutil.which("kustomize")
    if exe:
        return [exe]
    kubectl = os.environ.get("GITOPS_NB_KUBECTL")
    if kubectl:
        if not _is_executable(kubectl):
            raise ToolMissingError(f"GITOPS_NB_KUBECTL={kubectl} is not an executable file")
        return [kubectl, "kustomize"]
    try:
        return [str(find_binary("kubectl")), "kustomize"]
    except ToolMissingError:  # not in the cache: fall back to $PATH
        pass
    exe = shutil.which("kubectl")
    if exe:
        return [exe, "kustomize"]
    raise ToolMissingError(
        "kustomize: neither `kustomize` nor `kubectl` found; install one or set GITOPS_NB_KUBECTL"
    )


# --- helpers --------------------------------------------------------------------------------


def _rel(root: Path, p: Path) -> str:
    """Posix path of ``p`` relative to ``root`` without resolving symlinks."""
    return posixpath.normpath(Path(os.path.relpath(p, root)).as_posix())


def _inside(root: Path, p: Path) -> bool:
    return p == root or root in p.parents


def _app_dir(root: Path, path: str) -> Path:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise RenderError(path, "app path must be relative and stay inside the repository")
    target = root / path
    resolved = target.resolve()
    if not _inside(root, resolved):
        raise RenderError(f"{_rel(root, target)}:1", "symlink escapes the repository")
    if not resolved.is_dir():
        raise RenderError(_rel(root, target), "app directory does not exist in the checkout")
    return resolved


def _manifest_files(root: Path, top: Path, top_rel: str) -> list[Path]:
    """Manifest files under ``top`` (a path inside ``root``), sorted by path components."""
    found: list[tuple[tuple[str, ...], Path]] = []
    visited: set[Path] = set()
    stack = [top]
    while stack:
        d = stack.pop()
        real = d.resolve()
        if real in visited:  # a symlink back to a directory already walked
            continue
        visited.add(real)
        for entry in sorted(d.iterdir()):
            if entry.name.startswith("."):
                continue
            rel = _rel(root, entry)
            if entry.is_symlink() and not _inside(root, entry.resolve()):
                raise RenderError(f"{rel}:1", "symlink escapes the repository")
            if entry.is_dir():
                stack.append(entry)
            elif entry.name in KUSTOMIZATION_FILES and d != top:
                raise RenderError(
                    f"{rel}:1",
                    f"kustomization below plain manifest directory {top_rel!r}; set the app "
                    "path to that directory or add a kustomization.yaml at the top",
                )
            elif is_manifest_file(entry.name):
                found.append((PurePosixPath(rel).parts, entry))
    return [p for _, p in sorted(found)]


def _read(file: Path, rel: str) -> str:
    try:
        return file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RenderError(f"{rel}:1", "file is not valid UTF-8") from e
    except OSError as e:
        raise RenderError(f"{rel}:1", f"cannot read file: {e.strerror}") from e


def _refuse_escaping_symlinks(root: Path) -> None:
    """Kustomize may read any file of the checkout (``../base``), so check the whole tree."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath, name)
            if p.is_symlink() and not _inside(root, p.resolve()):
                raise RenderError(f"{_rel(root, p)}:1", "symlink escapes the repository")


def refuse_escaping_references(root: Path, app_path: str, cl: Closure | None = None) -> None:
    """Refuse a kustomization (or a base or component it names, recursively) whose local
    paths leave the checkout: kustomize would load ``resources: - ../../../../tmp/x`` from
    the reconciler's own disk. Raised before kustomize runs, naming the file:line.
    ``cl`` is the app's closure when the caller has it already."""
    _refuse_outside(root, cl or closure(DirectoryTree(root), app_path))


def check_kustomize_inputs(root: Path, app_path: str, cl: Closure | None = None) -> None:
    """Everything kustomize will read, checked before it runs (one walk of the closure).

    Paths leave the checkout: refused as :func:`refuse_escaping_references` does. Every
    YAML file kustomize parses (kustomizations, resources, patches, components… and inline
    patches) gets the alias bounds of :func:`~gitops_nb.source.yamlsafe.load_all`, since
    kustomize would expand an alias bomb in its own process; the error names the anchor's
    file:line.
    """
    found = cl or closure(DirectoryTree(root), app_path)
    _refuse_outside(root, found)
    for rel in sorted(found.parsed):
        bound_aliases(_read(root / rel, rel), rel)
    for kfile, text in found.inline:
        try:
            bound_aliases(text, kfile)
        except RenderError as e:  # the patch's own line, counted from where it starts
            lines = _read(root / kfile, kfile).splitlines()
            first = next((t.strip() for t in text.splitlines() if t.strip()), "")
            start = next((n for n, t in enumerate(lines) if first and first in t), 0)
            line = int(e.location.rpartition(":")[2] or 1) + start
            raise RenderError(f"{kfile}:{line}", f"inline patch: {e.detail}") from e


def _refuse_outside(root: Path, found: Closure) -> None:
    if not found.outside:
        return
    kfile, ref = found.outside[0]
    text = (root / kfile).read_text(encoding="utf-8-sig", errors="replace")
    line = next((n for n, t in enumerate(text.splitlines(), 1) if ref in t), 1)
    if is_local_git(ref):
        raise RenderError(
            f"{kfile}:{line}",
            f"{ref!r} is a Git repository on the reconciler's own disk (file://); remote "
            "bases must be https:// or ssh:// URLs; refused",
        )
    raise RenderError(f"{kfile}:{line}", f"{ref!r} resolves outside the repository; refused")


def _is_executable(p: str) -> bool:
    return os.path.isfile(p) and os.access(p, os.X_OK)


def _kustomize_prefix(program: str) -> list[str]:
    exe = shutil.which(program) or program
    if not _is_executable(exe):
        raise ToolMissingError(f"kustomize: {program} is not an executable file")
    return [exe] if Path(exe).name.startswith("kustomize") else [exe, "kustomize"]


def _kustomize_build(
    prefix: list[str], root: Path, app_dir: Path, source: str, flags: Sequence[str] = ()
) -> list[Manifest]:
    standalone = Path(prefix[0]).name.startswith("kustomize")
    argv = [*prefix, "build"] if standalone else [*prefix]
    argv += [*flags, str(app_dir)]
    # Remote bases make kustomize run git: no prompts, and only https and ssh: no ext:: or
    # other odd transports, and no `file` (a local path or file:// URL would clone a
    # repository from the reconciler's own disk, such as another app's mirror). With helm,
    # none of the user's HELM_* settings or kubeconfig (helm.helm_env).
    base_env = helm.helm_env() if flags else dict(os.environ)
    env = {**base_env, "GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": "https:ssh"}
    try:
        proc = subprocess.run(
            argv,
            cwd=app_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=KUSTOMIZE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise RenderError(f"{source}:1", f"kustomize timed out after {KUSTOMIZE_TIMEOUT_S}s") from e
    except OSError as e:
        raise ToolMissingError(f"kustomize: cannot run {prefix[0]}: {e.strerror}") from e
    if proc.returncode != 0:
        err = _KLOG_PREFIX.sub("", proc.stderr).replace(f"{root}/", "").strip()
        err = err[-_MAX_STDERR:] or f"exit status {proc.returncode}"
        raise RenderError(f"{source}:1", f"kustomize build failed: {err}")
    return parse_documents(proc.stdout, source)


def _is_list_kind(obj: dict[str, Any]) -> bool:
    kind = obj.get("kind")
    return isinstance(kind, str) and kind.endswith("List")


def _validate_one(m: Manifest) -> None:
    obj = m.obj
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if not isinstance(value, str) or not value:
            raise RenderError(m.location, f"missing or invalid {field!r}")
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise RenderError(m.location, f"{obj['kind']}: missing 'metadata'")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise RenderError(m.location, f"{obj['kind']}: missing or invalid 'metadata.name'")
    ns = meta.get("namespace")
    if ns is not None and not isinstance(ns, str):
        raise RenderError(
            m.location, f"{obj['kind']}/{name}: 'metadata.namespace' must be a string"
        )
