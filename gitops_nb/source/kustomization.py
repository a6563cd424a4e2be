"""What a Kustomize app renders from: the files and directories its kustomizations name.

:func:`references` reads one kustomization document and lists every local path it names:
resources, bases and components (a file, or a directory with its own kustomization), and
the files that patches, generators, transformers, replacements, CRDs, configurations,
OpenAPI schemas and Helm charts read. :func:`closure` follows those references recursively
over any :class:`FileTree` (a directory on disk, or a Git tree at a commit), so history can
ask "which paths did this app render from at that commit?".

Remote references (URLs, ``github.com/…``, ``git@…``) are not local paths and are skipped;
paths that leave the tree are reported in :attr:`Closure.outside`.
"""

from __future__ import annotations

import posixpath
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

_REMOTE_PREFIXES = ("http://", "https://", "git@", "ssh://", "git::", "github.com/", "gh:")
_HELM_CHART_HOME = "charts"


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


def is_remote(ref: str) -> bool:
    """A remote base or resource (URL or Git shorthand), which no local tree holds."""
    return ref.startswith(_REMOTE_PREFIXES) or "?ref=" in ref or "//" in ref.split("?")[0][1:]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        yield from (v for v in value if isinstance(v, str))


def _file_or_inline(value: Any) -> Iterator[str]:
    """Entries that are either a path or an inline document (which names no file)."""
    for v in _strings(value):
        if "\n" not in v and ":" not in v.split("/")[0]:
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
        doc = _parse(tree.read(kfile) or b"")
        result.helm_charts.extend(_helm_charts(doc, kfile, directory))
        for ref in references(doc):
            target = _join(directory, ref.path)
            if target.startswith("../") or target == ".." or posixpath.isabs(ref.path):
                result.outside.append((kfile, ref.path))
                continue
            kind = tree.kind(target)
            if kind is None:
                result.missing.append((kfile, ref.path))
                result.files.add(target)  # its appearance later is a change to the app
            elif kind == "dir" and ref.role == "dir":
                pending.append(target)
            else:
                result.files.add(target)
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
