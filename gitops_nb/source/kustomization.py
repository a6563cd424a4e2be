"""What a Kustomize app renders from: the files and directories its kustomizations name.

:func:`references` reads one kustomization document and lists every local path it names:
resources, bases and components (a file, or a directory with its own kustomization), and
the files that patches, generators, transformers, replacements, CRDs, configurations,
OpenAPI schemas and Helm charts read. :func:`closure` follows those references recursively
over any :class:`FileTree` (a directory on disk, or a Git tree at a commit), so history can
ask "which paths did this app render from at that commit?".

Remote references are recognised only in the URL forms kustomize clones (:func:`is_remote`:
``https://``, ``http://``, ``ssh://``, ``git@host:``, ``github.com/…``, optionally behind
``git::``) and skipped; every other entry is a local path, normalised (``.//../x`` is
``../x``) and confined. Paths that leave the tree, and local Git repositories
(``file://…``), are reported in :attr:`Closure.outside`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""The names Kustomize looks for, in its order."""

Role = Literal["dir", "file"]
"""``dir``: a resource, base or component (a file, or a directory with a kustomization);
``file``: a file read by a patch, generator, transformer or similar."""

_FORCED_GIT = "git::"
_REMOTE_SCHEMES = ("https://", "http://", "ssh://")
_LOCAL_GIT_SCHEME = "file://"
# scp-style `user@host:path` (any host), or `[user@]github.com/...` / `github.com:...`
_SCP = re.compile(r"^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:")
_GITHUB = re.compile(r"^(?:[A-Za-z0-9._~-]+@)?github\.com[/:]")
_HELM_CHART_HOME = "charts"
_DATA_FIELDS = ("configMapGenerator", "secretGenerator")
"""Fields whose files kustomize copies as data, never parses."""


@dataclass(frozen=True)
class Reference:
    """One local path a kustomization names, relative to the kustomization's directory."""

    path: str
    role: Role
    field: str
    """The kustomization field that names it (``resources``, ``patches``…), for errors."""


@dataclass(frozen=True)
class HelmChartRef:
    """One ``helmCharts`` entry of a kustomization and where Kustomize looks for its chart."""

    kustomization: str
    """The kustomization file naming it (tree-relative)."""
    name: str
    chart_dir: str
    """Tree-relative directory Kustomize reads the chart from: ``<chartHome>/<name>``, or
    ``<chartHome>/<name>-<version>/<name>`` when both ``repo`` and ``version`` are set."""
    repo: str
    """The chart repository it would be pulled from were it not vendored (never reached)."""


class FileTree(Protocol):
    """Read-only view of a tree of files addressed by POSIX paths relative to its root."""

    def kind(self, path: str) -> Literal["file", "dir"] | None:
        """``file``, ``dir``, or None when nothing is there."""
        ...

    def read(self, path: str) -> bytes | None:
        """A file's content, or None when it is not a file."""
        ...


@dataclass
class Closure:
    """Everything an app renders from, as tree-relative POSIX paths."""

    files: set[str] = field(default_factory=set)
    """Kustomization files and every file they read (for plain directories: the directory)."""
    kustomize: bool = False
    """The app directory holds a kustomization."""
    chart: bool = False
    """The app directory holds a ``Chart.yaml``: a Helm chart, every file under it counts."""
    outside: list[tuple[str, str]] = field(default_factory=list)
    """``(kustomization file, reference)`` pairs that leave the tree."""
    helm_charts: list[HelmChartRef] = field(default_factory=list)
    """Every ``helmCharts`` entry: the build needs ``--enable-helm`` and a vendored chart."""
    missing: list[tuple[str, str]] = field(default_factory=list)
    """``(kustomization file, reference)`` pairs naming nothing (the build will fail)."""
    parsed: set[str] = field(default_factory=set)
    """The files of :attr:`files` that kustomize parses as YAML: kustomizations, resources,
    patches, crds, generators… (not the data files of ConfigMap/Secret generators)."""
    inline: list[tuple[str, str]] = field(default_factory=list)
    """``(kustomization file, YAML text)`` of each inline patch, which kustomize parses too."""


def is_remote(ref: str) -> bool:
    """A remote base or resource in a URL form kustomize fetches over the network.

    Only real URL forms count: ``https://``, ``http://``, ``ssh://``, scp-style
    ``user@host:path`` and ``github.com/…``, each optionally behind ``git::``. Anything else
    (``.//../x``, ``a?ref=b``) is a local path and is confined to the tree; ``file://`` is
    :func:`is_local_git`, never remote.
    """
    bare = ref.removeprefix(_FORCED_GIT)
    return bare.startswith(_REMOTE_SCHEMES) or bool(_SCP.match(bare) or _GITHUB.match(bare))


def is_local_git(ref: str) -> bool:
    """A ``file://`` Git URL: kustomize would clone a repository from the reconciler's own
    disk (another app's mirror in the cache, say), which no checkout confines."""
    return ref.removeprefix(_FORCED_GIT).lower().startswith(_LOCAL_GIT_SCHEME)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        yield from (v for v in value if isinstance(v, str))


def _file_or_inline(value: Any) -> Iterator[str]:
    """Entries that are either a path or an inline document (which names no file)."""
    for v in _strings(value):
        if is_local_git(v) or ("\n" not in v and ":" not in v.split("/")[0]):
            yield v


def _paths_of(entries: Any, key: str = "path") -> Iterator[str]:
    for e in entries if isinstance(entries, list) else ():
        if isinstance(e, Mapping) and isinstance(e.get(key), str):
            yield e[key]


def _generator_files(entries: Any) -> Iterator[str]:
    for e in entries if isinstance(entries, list) else ():
        if not isinstance(e, Mapping):
            continue
        for f in _strings(e.get("files")):
            yield f.split("=", 1)[1] if "=" in f else f
        yield from _strings(e.get("envs"))
        yield from _strings(e.get("env"))


def references(doc: Mapping[str, Any]) -> list[Reference]:
    """Every local path one kustomization document names, in a stable order."""
    out: list[Reference] = []

    def add(paths: Iterable[str], role: Role, fld: str) -> None:
        out.extend(Reference(p, role, fld) for p in paths if p and not is_remote(p))

    for fld in ("resources", "bases", "components"):
        add(_strings(doc.get(fld)), "dir", fld)
    for fld in ("crds", "configurations"):
        add(_strings(doc.get(fld)), "file", fld)
    for fld in ("generators", "transformers", "validators", "patchesStrategicMerge"):
        add(_file_or_inline(doc.get(fld)), "file", fld)
    for fld in ("patches", "patchesJson6902", "replacements"):
        add(_paths_of(doc.get(fld)), "file", fld)
    for fld in ("configMapGenerator", "secretGenerator"):
        add(_generator_files(doc.get(fld)), "file", fld)
    openapi = doc.get("openapi")
    if isinstance(openapi, Mapping) and isinstance(openapi.get("path"), str):
        add([openapi["path"]], "file", "openapi")
    if doc.get("helmCharts"):
        globals_ = doc.get("helmGlobals") if isinstance(doc.get("helmGlobals"), Mapping) else {}
        home = (globals_ or {}).get("chartHome") or _HELM_CHART_HOME
        add([home], "dir", "helmGlobals.chartHome")
        for chart in doc["helmCharts"] if isinstance(doc["helmCharts"], list) else ():
            if isinstance(chart, Mapping):
                add(_strings(chart.get("valuesFile")), "file", "helmCharts.valuesFile")
                add(_strings(chart.get("additionalValuesFiles")), "file", "helmCharts")
    return out


def _helm_charts(doc: Mapping[str, Any], kfile: str, directory: str) -> Iterator[HelmChartRef]:
    charts = doc.get("helmCharts")
    globals_ = doc.get("helmGlobals")
    home = globals_.get("chartHome") if isinstance(globals_, Mapping) else None
    home = home if isinstance(home, str) and home else _HELM_CHART_HOME
    for chart in charts if isinstance(charts, list) else ():
        if not isinstance(chart, Mapping):
            continue
        name, repo = str(chart.get("name") or ""), str(chart.get("repo") or "")
        version = str(chart.get("version") or "")
        sub = f"{name}-{version}/{name}" if repo and version else name
        yield HelmChartRef(kfile, name, _join(directory, f"{home}/{sub}"), repo)


def inline_patches(doc: Mapping[str, Any]) -> list[str]:
    """The YAML text of every inline patch one kustomization document holds."""
    out = [
        e["patch"]
        for fld in ("patches", "patchesJson6902")
        for e in _list(doc.get(fld))
        if isinstance(e, Mapping) and isinstance(e.get("patch"), str)
    ]
    named = set(_file_or_inline(doc.get("patchesStrategicMerge")))
    out += [v for v in _strings(doc.get("patchesStrategicMerge")) if v not in named]
    return out


def kustomization_file(tree: FileTree, directory: str) -> str | None:
    """The kustomization file of ``directory``, if it has one."""
    for name in KUSTOMIZATION_FILES:
        candidate = _join(directory, name)
        if tree.kind(candidate) == "file":
            return candidate
    return None


def _join(directory: str, ref: str) -> str:
    joined = posixpath.normpath(posixpath.join(directory or ".", ref))
    return "" if joined == "." else joined


def _parse(content: bytes) -> Mapping[str, Any]:
    try:
        doc = yaml.safe_load(content.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return {}  # the build reports it; the closure still holds the file itself
    return doc if isinstance(doc, Mapping) else {}


def closure(tree: FileTree, app_path: str) -> Closure:
    """The paths the app at ``app_path`` renders from, following kustomizations recursively.

    A plain directory renders from everything under it; a Kustomize directory from its
    kustomization files and the files they name. Cycles and repeated bases are visited once.
    """
    start = _join("", app_path)
    result = Closure()
    if kustomization_file(tree, start) is None:
        if tree.kind(start) is not None:
            result.files.add(start or ".")
            result.chart = tree.kind(_join(start, "Chart.yaml")) == "file"
        return result
    result.kustomize = True
    seen: set[str] = set()
    pending = [start]
    while pending:
        directory = pending.pop()
        if directory in seen:
            continue
        seen.add(directory)
        kfile = kustomization_file(tree, directory)
        if kfile is None:  # a plain directory named as a resource: every file in it
            result.files.add(directory)
            continue
        result.files.add(kfile)
        result.parsed.add(kfile)
        doc = _parse(tree.read(kfile) or b"")
        result.helm_charts.extend(_helm_charts(doc, kfile, directory))
        result.inline += [(kfile, text) for text in inline_patches(doc)]
        for ref in references(doc):
            target = _join(directory, ref.path)
            escapes = target.startswith("../") or target == ".." or posixpath.isabs(ref.path)
            if escapes or is_local_git(ref.path):
                result.outside.append((kfile, ref.path))
                continue
            kind = tree.kind(target)
            if kind is None:
                result.missing.append((kfile, ref.path))
                result.files.add(target)  # its appearance later is a change to the app
            elif kind == "dir" and (ref.role == "dir" or kustomization_file(tree, target)):
                pending.append(target)  # generators/transformers may name a kustomization
            else:
                result.files.add(target)
                if kind == "file" and ref.field not in _DATA_FIELDS:
                    result.parsed.add(target)
    return result


class DirectoryTree:
    """A :class:`FileTree` over a directory on disk (symlinks are not followed out)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, path: str) -> Path | None:
        p = (self.root / path).resolve() if path else self.root
        return p if p == self.root or self.root in p.parents else None

    def kind(self, path: str) -> Literal["file", "dir"] | None:
        p = self._path(path)
        if p is None:
            return None
        if p.is_dir():
            return "dir"
        return "file" if p.is_file() else None

    def read(self, path: str) -> bytes | None:
        p = self._path(path)
        return p.read_bytes() if p is not None and p.is_file() else None
