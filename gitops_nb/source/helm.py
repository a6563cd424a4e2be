"""Helm charts: ``helm template`` a chart in the checkout, offline, for the target cluster.

An app directory holding a ``Chart.yaml`` is a chart. It is rendered with the pinned helm
(``tools/helm/build.sh``) in a private, empty helm home, so no repository, plugin or
registry login of the user takes part, and no network is reached: dependencies must be
vendored in ``charts/``. Values files must stay inside the checkout, and they, Chart.yaml
and each subchart's, get the YAML alias bounds before helm reads them. The cluster's version
and served API versions are passed as ``--kube-version`` / ``--api-versions``, as Argo CD
does, so charts gating on ``.Capabilities`` render as they would there.

Hooks (README "Helm charts", a table per hook kind): test hooks are skipped; hooks that only
run on delete or rollback are dropped (we never delete or roll back a release); install and
upgrade hooks are applied as ordinary objects in the same ordered apply as the rest, with no
phases, weights or delete policies (unlike Argo CD, which maps them to PreSync / PostSync
and sync waves). helm v3 itself drops Helm 2 ``crd-install`` hooks. No release Secret is
written: helm's release bookkeeping is ours (the ApplySet and records).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from gitops_nb.binaries import HELM, find_binary
from gitops_nb.config import HelmSettings
from gitops_nb.errors import RenderError, ToolMissingError
from gitops_nb.model import Manifest
from gitops_nb.source.kustomization import HelmChartRef
from gitops_nb.source.yamlsafe import bound_aliases, load_all

CHART_FILE = "Chart.yaml"
HELM_TIMEOUT_S = 120
_MAX_STDERR = 2000
HOOK_ANNOTATION = "helm.sh/hook"
_NOT_APPLIED_HOOKS = frozenset(
    {"test", "test-success", "test-failure", "pre-delete", "post-delete", "pre-rollback"}
    | {"post-rollback"}
)
# helm: `template: web/templates/deployment.yaml:7:20: executing …` or `(web/templates/x.yaml:3)`
_TEMPLATE_AT = re.compile(
    r"(?P<file>[\w.-]+/(?:[\w.-]+/)*[\w.-]+\.(?:yaml|yml|tpl|txt|json)):(?P<line>\d+)"
)
# helm: `YAML parse error on web/templates/x.yaml: error converting YAML to JSON: yaml: line 2: …`
_PARSE_ERROR = re.compile(r"parse error on (?P<file>[\w.-]+/\S+?):.*?\bline (?P<line>\d+)", re.S)
_SOURCE = re.compile(r"^# Source: (\S+)\s*$", re.M)
# helm: `failed to parse /abs/env/prod.yaml: …` (a --values file as passed), or
# `cannot load values.yaml: …` (the chart's own); then maybe `yaml: line 3: …`
_VALUES_ERROR = re.compile(r"(?:failed to parse|cannot load) (?P<file>\S+?): ")
_HELM_LINE = re.compile(r"\byaml: line (\d+)")
_SCHEMA_ERROR = "values don't meet the specifications of the schema"
#: what helm calls a values file → (the name we report, the file to read; None: ours)
_Values = dict[str, tuple[str, Path | None]]


@dataclass(frozen=True)
class Capabilities:
    """What the target cluster serves: ``.Capabilities`` for the chart."""

    kube_version: str
    """``v1.36.3``."""
    api_versions: tuple[str, ...] = ()
    """``group/version`` and ``group/version/Kind`` entries (``v1``, ``apps/v1/Deployment``)."""


@dataclass(frozen=True)
class ChartContext:
    """Everything a chart render needs besides the checkout."""

    settings: HelmSettings
    release: str
    """Release name (``settings.release_name`` or the app name)."""
    namespace: str
    capabilities: Callable[[], Capabilities] | None = None
    """Asked only when a chart is rendered (a read of the cluster); None: helm's defaults."""


def is_chart(app_dir: Path) -> bool:
    return (app_dir / CHART_FILE).is_file()


def template(root: Path, app_dir: Path, ctx: ChartContext) -> list[tuple[str, str]]:
    """``helm template`` the chart at ``app_dir``: ``(source file, YAML text)`` per template.

    Sources are paths relative to ``root`` (``apps/web/templates/deployment.yaml``).
    """
    chart_rel = app_dir.relative_to(root).as_posix()
    chart_file = CHART_FILE if chart_rel == "." else f"{chart_rel}/{CHART_FILE}"
    values_files = [_values_file(root, name, chart_file) for name in ctx.settings.values_files]
    _bound_inputs(root, app_dir, values_files)
    _check_dependencies(app_dir, chart_file)
    argv = [
        str(helm_command()),
        "template",
        ctx.release,
        str(app_dir),
        "--namespace",
        ctx.namespace,
        "--skip-tests",
    ]
    if ctx.settings.include_crds:
        argv.append("--include-crds")
    if ctx.capabilities is not None:
        caps = ctx.capabilities()
        argv += ["--kube-version", caps.kube_version]
        if caps.api_versions:
            argv += ["--api-versions", ",".join(caps.api_versions)]
    chart_values = _sibling(chart_file, "values.yaml")
    values: _Values = {"values.yaml": (chart_values, app_dir / "values.yaml")}  # helm's name
    for name, target in zip(ctx.settings.values_files, values_files, strict=True):
        values[str(target)] = (name, target)
        argv += ["--values", str(target)]
    with tempfile.TemporaryDirectory(prefix="gitops-nb-helm-") as home:
        if ctx.settings.values:
            inline = Path(home) / "values.yaml"
            inline.write_text(ctx.settings.values)
            values[str(inline)] = ("config helm.values", None)  # YAML we wrote: no line
            argv += ["--values", str(inline)]
        for kv in ctx.settings.set:
            argv += ["--set", kv]
        stdout = _run(argv, Path(home), root, chart_file, values)
    return _split(stdout, chart_rel)


def applied(manifests: Iterable[Manifest]) -> list[Manifest]:
    """The manifests we apply: without test hooks and delete- or rollback-only hooks."""
    out = []
    for m in manifests:
        hooks = _hooks(m.obj)
        if hooks and hooks <= _NOT_APPLIED_HOOKS:
            continue
        out.append(m)
    return out


def _hooks(obj: dict[str, Any]) -> set[str]:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(HOOK_ANNOTATION) if isinstance(annotations, dict) else None
    return {h.strip() for h in str(value).split(",") if h.strip()} if value else set()


def helm_command() -> Path:
    """The pinned helm binary (``$GITOPS_NB_HELM`` overrides the control-plane cache's)."""
    override = os.environ.get("GITOPS_NB_HELM")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise ToolMissingError(f"GITOPS_NB_HELM={override} is not an executable file")
        return Path(override)
    return find_binary(HELM)


def kustomize_flags(
    root: Path, charts: Iterable[HelmChartRef], ctx: ChartContext | None
) -> list[str]:
    """Flags for a Kustomize build whose kustomizations use ``helmCharts``.

    Every chart must be vendored where Kustomize looks for it (``<chartHome>/<name>``, or
    ``<chartHome>/<name>-<version>/<name>`` with ``repo`` and ``version``): otherwise
    Kustomize would ``helm pull`` it, so it is refused naming the kustomization's line and no
    chart repository is reached. The pinned helm renders it; with the cluster's capabilities
    (``ctx``) as ``--helm-kube-version`` / ``--helm-api-versions``, as for a chart app.
    """
    for c in charts:
        if not (root / c.chart_dir / CHART_FILE).is_file():
            text = (root / c.kustomization).read_text(encoding="utf-8-sig", errors="replace")
            entry = re.compile(rf"\bname:\s*['\"]?{re.escape(c.name)}['\"]?\s*$")
            line = next((n for n, t in enumerate(text.splitlines(), 1) if entry.search(t)), 0)
            where = c.repo or "no repo"
            raise RenderError(
                f"{c.kustomization}:{line}"
                if line
                else _line_of(text, "helmCharts", c.kustomization),
                f"helm chart {c.name!r} ({where}) is not vendored at {c.chart_dir}/: "
                "commit the chart there (`helm pull --untar`); no chart repository is reached",
            )
    flags = ["--enable-helm", "--helm-command", str(helm_command())]
    if ctx is not None and ctx.capabilities is not None:
        caps = ctx.capabilities()
        flags += ["--helm-kube-version", caps.kube_version]
        if caps.api_versions:
            flags += ["--helm-api-versions", ",".join(caps.api_versions)]
    return flags


def helm_env() -> dict[str, str]:
    """The environment for helm: none of the user's ``HELM_*`` settings, no kubeconfig."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
    env["KUBECONFIG"] = os.devnull
    return env


def _check_dependencies(app_dir: Path, chart_file: str) -> None:
    """Every dependency must be vendored in ``charts/``: no chart repository is reached."""
    text = (app_dir / CHART_FILE).read_text(encoding="utf-8-sig", errors="replace")
    try:
        chart = yaml.safe_load(text)
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", 0) + 1
        raise RenderError(f"{chart_file}:{line}", f"invalid YAML: {e}") from e
    if not isinstance(chart, dict):
        raise RenderError(f"{chart_file}:1", "Chart.yaml must be a mapping")
    vendored = app_dir / "charts"
    for dep in chart.get("dependencies") or []:
        if not isinstance(dep, dict) or not dep.get("name"):
            raise RenderError(_line_of(text, "dependencies", chart_file), "dependency needs a name")
        name = str(dep["name"])
        if (vendored / name / CHART_FILE).is_file() or any(vendored.glob(f"{name}-*.tgz")):
            continue
        repo = str(dep.get("repository") or "")
        raise RenderError(
            _line_of(text, name, chart_file),
            f"dependency {name!r} ({repo or 'no repository'}) is not vendored in charts/: "
            "run `helm dependency build` and commit charts/; no chart repository is reached",
        )


def _bound_inputs(root: Path, app_dir: Path, values_files: list[Path]) -> None:
    """helm expands YAML aliases in its own process (Chart.yaml, values.yaml, --values), so
    each of those files, and those of every vendored subchart, gets the alias bounds of
    :func:`~gitops_nb.source.yamlsafe.load_all` first, naming the anchor's file:line."""
    files = [
        p
        for pattern in ("Chart.yaml", "values.yaml", "values.yml")
        for p in app_dir.rglob(pattern)
        if p.is_file() and "templates" not in p.relative_to(app_dir).parts
    ]
    for path in sorted(set(files)) + values_files:
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise RenderError(f"{rel}:1", "file is not valid UTF-8") from e
        bound_aliases(text, rel)


def _values_file(root: Path, name: str, chart_file: str) -> Path:
    pure = PurePosixPath(name)
    target = (root / name).resolve()
    if pure.is_absolute() or not (target == root or root in target.parents):
        raise RenderError(name, f"values file for {chart_file} leaves the checkout; refused")
    if not target.is_file():
        raise RenderError(name, f"values file for {chart_file} does not exist in the checkout")
    return target


def _run(argv: list[str], home: Path, root: Path, chart_file: str, values: _Values) -> str:
    env = helm_env()
    env.update(
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_DATA_HOME=str(home / "data"),
        HELM_PLUGINS=str(home / "plugins"),
    )
    try:
        proc = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=HELM_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise RenderError(
            f"{chart_file}:1", f"helm template timed out after {HELM_TIMEOUT_S}s"
        ) from e
    except OSError as e:
        raise ToolMissingError(f"helm: cannot run {argv[0]}: {e.strerror}") from e
    if proc.returncode != 0:
        where = _values_location(proc.stderr, chart_file, values)
        err = proc.stderr.replace(f"{root}/", "").replace(str(home), "<values>").strip()
        err = err.removeprefix("Error: ")[-_MAX_STDERR:] or f"exit status {proc.returncode}"
        location = where or _error_location(err, chart_file)
        raise RenderError(location, f"helm template failed: {err}")
    return proc.stdout


def _values_location(err: str, chart_file: str, values: _Values) -> str | None:
    """``file:line`` of the values file helm could not load (a ``--values`` file, the chart's
    ``values.yaml``), or the schema helm checked the values against; None if not about values.

    The line comes from our own YAML loader on that file (the line of the problem, as for
    manifests), else from helm's ``yaml: line N``, else 1."""
    if _SCHEMA_ERROR in err:
        return _sibling(chart_file, "values.schema.json")
    m = _VALUES_ERROR.search(err)
    if m is None:
        return None
    name, path = values.get(m.group("file"), (m.group("file"), None))
    if path is None:
        return name
    try:
        docs = load_all(path.read_text(encoding="utf-8-sig", errors="replace"), name)
    except RenderError as e:
        return e.location
    except OSError:
        docs = []
    if docs and not isinstance(docs[0].data, dict):
        return f"{name}:{docs[0].line}"  # e.g. a list: values must be a mapping
    line = _HELM_LINE.search(err, m.end())
    return f"{name}:{line.group(1) if line else 1}"


def _sibling(chart_file: str, name: str) -> str:
    return f"{chart_file.rsplit('/', 1)[0]}/{name}" if "/" in chart_file else name


def _error_location(err: str, chart_file: str) -> str:
    """``app/templates/x.yaml:7`` when helm names a template line, else the Chart.yaml."""
    m = _TEMPLATE_AT.search(err) or _PARSE_ERROR.search(err)
    if m is None:
        return f"{chart_file}:1"
    chart_dir = chart_file.rsplit("/", 1)[0] if "/" in chart_file else ""
    inner = m.group("file").split("/", 1)[1]  # helm names files below the chart's name
    return f"{chart_dir + '/' if chart_dir else ''}{inner}:{m.group('line')}"


def _split(stdout: str, chart_rel: str) -> list[tuple[str, str]]:
    """Cut helm's output at its ``# Source:`` comments, naming files in the checkout."""
    prefix = "" if chart_rel == "." else f"{chart_rel}/"
    out: list[tuple[str, str]] = []
    marks = list(_SOURCE.finditer(stdout))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(stdout)
        body = stdout[m.end() : end].rstrip()
        body = body.removesuffix("---").rstrip()
        inner = m.group(1).split("/", 1)[1] if "/" in m.group(1) else m.group(1)
        out.append((f"{prefix}{inner}", body + "\n"))
    return out


def _line_of(text: str, needle: str, file: str) -> str:
    line = next((n for n, t in enumerate(text.splitlines(), 1) if needle in t), 1)
    return f"{file}:{line}"
