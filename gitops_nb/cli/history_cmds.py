"""`gitops-nb history ...` and `gitops-nb report`: history tables and drift reports."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from gitops_nb import config
from gitops_nb.cli.common import add_source_flags, helm_settings, iso_time, source_spec
from gitops_nb.cli.helptext import add_command
from gitops_nb.cli.sync_cmds import sync_options
from gitops_nb.config import HelmSettings, VerifySettings
from gitops_nb.errors import ConfigError, ExitCode
from gitops_nb.records.load import load_runs
from gitops_nb.source import default_cache_dir
from gitops_nb.source.helm import ChartContext
from gitops_nb.source.localrepo import history_source
from gitops_nb.usecases.sync import diff_app

TABLES = ("table", "wide")

if TYPE_CHECKING:  # pandas costs ~1 s to import: only history commands pay for it
    import pandas as pd


def add_record_source(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("records (one source)")
    g.add_argument("--history-dir", default=None, help="local history directory")
    g.add_argument("--file", default=None, help="exported .jsonl/.json/.parquet file")
    g.add_argument(
        "--records-dsn-file",
        default=None,
        help="file holding a PostgreSQL DSN: read the records from that database",
    )
    g.add_argument(
        "--app", default=None, help="only this app (commits/changes: a chart's release name)"
    )
    g.add_argument(
        "--namespace",
        "-n",
        default=None,
        help="cluster records: the app's namespace (commits/changes: a chart's namespace)",
    )
    g.add_argument("--kubeconfig", default=None)
    g.add_argument(
        "--since",
        type=iso_time,
        default=None,
        help="start of the period: ISO 8601 or a time ago (24h, 7d)",
    )
    g.add_argument(
        "--until",
        type=iso_time,
        default=None,
        help="end of the period: ISO 8601 or a time ago (1h)",
    )


def _runs(args: argparse.Namespace) -> list[Any]:
    outcome = getattr(args, "outcome", None)
    if outcome and getattr(args, "what", "runs") != "runs":
        raise ConfigError(
            f"--outcome: only `history runs` filters by outcome (history {args.what} needs "
            "every run: an episode ends at the first run that saw the drift gone)"
        )
    return load_runs(
        outcome=outcome,
        history_dir=args.history_dir,
        file=args.file,
        dsn_file=getattr(args, "records_dsn_file", None),
        kubeconfig=args.kubeconfig,
        namespace=args.namespace,
        app=args.app,
        since=args.since,
        until=args.until,
    )


def _filter(df: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    for col in ("kind", "name"):
        value = getattr(args, f"filter_{col}", None)
        if value and col in df.columns:
            df = df[df[col] == value]
    ns = getattr(args, "object_namespace", None)
    if ns and "namespace" in df.columns:
        df = df[df["namespace"] == ns]
    return df


def _table(df: pd.DataFrame) -> str:
    import pandas as pd

    with pd.option_context(
        "display.max_rows",
        500,
        "display.max_columns",
        50,
        "display.width",
        200,
        "display.max_colwidth",
        60,
    ):
        return df.to_string(index=False) if len(df) else "(no rows)"


def _shown(df: pd.DataFrame, fmt: str, view: str) -> str:
    """``table``: the key columns, one line each (:mod:`gitops_nb.cli.tables`); ``wide``: all."""
    if fmt == "wide":
        from gitops_nb.history.views import with_when_labels

        shown = with_when_labels(df)
        return _table(shown.astype(object).where(shown.notna(), ""))  # no NaT/None for humans
    from gitops_nb.cli.tables import narrow

    return _table(narrow(df, view))


def _defined(df: pd.DataFrame, fmt: str, view: str) -> str:
    """:func:`_shown`, then what each health figure shown means (``HEALTH_DEFINITIONS``)."""
    from gitops_nb.cli.tables import NARROW
    from gitops_nb.history.metrics import definition_lines

    columns = NARROW[view] if fmt == "table" else df.columns
    return "\n".join([_shown(df, fmt, view), "where", *definition_lines(columns)])


def _emit(df: pd.DataFrame, fmt: str, out: str | None, view: str) -> None:
    if fmt == "parquet":
        if not out:
            raise ConfigError("-o parquet writes a binary file: give --out FILE")
        df.to_parquet(out, index=False)
        return
    if fmt == "csv":
        from gitops_nb.report.csvexport import csv_text

        text = csv_text(df)
    elif fmt == "json":
        text = df.to_json(orient="records", date_format="iso", indent=2) or "[]"
    elif view == "dora":
        text = _defined(df, fmt, view)
    else:
        text = _shown(df, fmt, view)
    if out:
        Path(out).write_text(text + ("" if text.endswith("\n") else "\n"))
    else:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))


def _sections(
    drift: pd.DataFrame, deployments: pd.DataFrame, args: argparse.Namespace, view: str
) -> int:
    """Drift first, then deployments, as two titled tables (``-o table`` or ``wide``)."""
    drift_text = _shown(drift, args.output, view)
    deploy_text = _shown(deployments, args.output, "deployments" if view == "timeline" else view)
    text = f"Drift (open first):\n{drift_text}\n\nDeployments (Git changes):\n{deploy_text}\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return ExitCode.OK


def _health_sections(intervals: pd.DataFrame, runs: list[Any], args: argparse.Namespace) -> int:
    """Unhealthy episodes, time to healthy per commit and DORA figures (``-o table``: key
    columns of the episodes; ``wide``: every column)."""
    from gitops_nb import history
    from gitops_nb.history.healthframes import EPISODES_TITLE

    tth = history.time_to_healthy(runs)
    text = (
        f"{EPISODES_TITLE}:\n"
        f"{_shown(intervals, args.output, 'health')}\n\n"
        f"Time to healthy (commit → applied → healthy):\n"
        f"{_defined(tth, args.output, 'time_to_healthy')}\n\n"
        f"DORA:\n{_defined(history.dora(runs), args.output, 'dora')}\n"
    )
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return ExitCode.OK


def cmd_history(args: argparse.Namespace) -> int:
    from gitops_nb import history
    from gitops_nb.history.views import episodes_view

    if args.what in ("commits", "changes"):
        if not (args.repo or args.config):
            raise ConfigError(f"history {args.what} needs --repo URL|PATH or --config FILE")
        df = _git_history(args)
    else:
        runs = _runs(args)
        if args.what == "runs":
            df = history.runs(runs)
        elif args.what == "fleet":  # one row per app: episodes, time to restore, failing now
            df = history.fleet(history.runs(runs), history.drift_intervals(runs))
        elif args.what == "deployments":
            df = history.deployments(runs)
        elif args.what == "health":
            df = _filter(history.health_intervals(runs), args)
            if args.output in TABLES:
                return _health_sections(df, runs, args)
        elif args.what == "dora":
            df = history.dora(runs)
        elif args.what == "drift" and args.output not in TABLES:
            df = _filter(history.drift(runs), args)  # per-run rows, every cause
        else:  # timeline, and drift for humans: episodes (open first), then deployments
            intervals = history.drift_intervals(runs)
            df = episodes_view(_filter(intervals, args))
            if args.output in TABLES:
                return _sections(df, history.deployments(runs, intervals), args, "timeline")
    _emit(df, args.output, args.out, args.what)
    return ExitCode.OK


def _git_history(args: argparse.Namespace) -> pd.DataFrame:
    """``commits``: the commits that changed the app's render, with ``effect``;
    ``changes``: one row per commit × object × change, with the changed field paths."""
    from gitops_nb import history

    url, ref, path, chart = _app_source(args)
    repo, ref = history_source(url, ref, default_cache_dir())
    if args.what == "commits":
        keys = VerifySettings(tuple(args.verify_keys)) if args.verify_keys else None
        df = history.commits(repo, ref, path, verify=keys, chart=chart)
    else:
        df = _filter(history.resource_changes(repo, ref, path, chart=chart), args)
    if args.since is not None:
        df = df[df["time"] >= args.since]
    if args.until is not None:
        df = df[df["time"] <= args.until]
    return df


def _app_source(args: argparse.Namespace) -> tuple[str, str, str, ChartContext | None]:
    """Repository, ref, path and how a chart renders: the flags over the app's config
    (``--config``), so a chart's history renders with the release name, namespace, values
    files and values apply uses (``--values``/``--set`` add to the config's)."""
    if args.config:
        overrides = {k: getattr(args, k) for k in ("app", "repo", "ref", "path", "namespace")}
        cfg = config.load(args.config, None, overrides)
        settings = helm_settings(args, cfg.helm)
        release = settings.release_name or cfg.app
        return cfg.repo, cfg.ref, cfg.path, ChartContext(settings, release, cfg.namespace)
    path = args.path or "."
    settings = helm_settings(args)
    if not (args.app or args.namespace or settings != HelmSettings()):
        return args.repo, args.ref or "HEAD", path, None  # helm's defaults
    # a chart renders with the app's release name and namespace, as the reconciler does
    release = args.app or PurePosixPath(path).name or "release"
    return (
        args.repo,
        args.ref or "HEAD",
        path,
        ChartContext(settings, release, args.namespace or "default"),
    )


def cmd_report(args: argparse.Namespace) -> int:
    from gitops_nb import report

    if args.repo:  # a live diff, read-only
        opts = sync_options(args)
        result = diff_app(
            source_spec(args), opts, kubeconfig=args.kubeconfig, cache_dir=args.cache_dir
        )
        rep = report.from_diff(opts.app, result.revision, result.report.diffs)
    elif args.fleet:  # every app of the record source, for a review meeting
        fleet = report.from_fleet(_runs(args))
        if args.out == "-":
            sys.stdout.write(report.render_fleet(fleet, args.format))
            return ExitCode.OK
        path = report.write(fleet, args.format, Path(args.out))
        print(json.dumps({"report": str(path), "format": args.format, "apps": len(fleet.apps)}))
        return ExitCode.OK
    else:
        rep = report.from_history(_runs(args), start=args.since, end=args.until, app=args.app)
    if args.out == "-":  # the report itself on stdout, e.g. for a PR comment
        sys.stdout.write(report.render(rep, args.format))
        return ExitCode.OK
    path = report.write(rep, args.format, Path(args.out))
    written: dict[str, object] = {"report": str(path), "format": args.format}
    if args.format == "csv" and rep.deployments is not None:
        written["deployments"] = str(report.deployments_path(path))
    print(json.dumps({**written, "objects": len(rep.objects)}))
    return ExitCode.OK


def register(sub: Any) -> None:
    h = add_command(
        sub,
        "history",
        "sync history, drift, drift timeline, deployments, health, DORA and Git history",
    )
    h.add_argument(
        "what",
        choices=(
            "runs",
            "drift",
            "timeline",
            "deployments",
            "fleet",
            "health",
            "dora",
            "commits",
            "changes",
        ),
    )
    add_record_source(h)
    h.add_argument("--repo", default=None, help="commits/changes: Git URL or local path")
    h.add_argument(
        "--ref", default=None, help="commits/changes: ref to walk back from (default HEAD)"
    )
    h.add_argument(
        "--path",
        default=None,
        help="commits/changes: app directory, plain or Kustomize (default the whole repo)",
    )
    h.add_argument(
        "--verify-keys",
        action="append",
        default=[],
        metavar="FILE",
        help="commits: check each commit's signature against these public keys (repeatable)",
    )
    h.add_argument(
        "--outcome",
        default=None,
        metavar="OUTCOME[,...]",
        help="runs: only records with this outcome (succeeded, failed, interrupted, skipped, "
        "refused; comma-separated for several); filtered in SQL with --records-dsn-file",
    )
    h.add_argument(
        "--config",
        default=None,
        help="commits/changes: the app's reconciler config (repo, ref, path, app, namespace, "
        "helm); the flags override it",
    )
    h.add_argument(
        "--values",
        action="append",
        default=[],
        metavar="FILE",
        help="commits/changes: Helm values file, relative to the repository root (repeatable)",
    )
    h.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="commits/changes: Helm value (repeatable)",
    )
    h.add_argument("--kind", dest="filter_kind", default=None, help="only this object kind")
    h.add_argument("--name", dest="filter_name", default=None, help="only this object name")
    h.add_argument("--object-namespace", default=None, help="only objects in this namespace")
    h.add_argument(
        "-o",
        "--output",
        choices=(*TABLES, "csv", "json", "parquet"),
        default="table",
        help="table: key columns that fit a terminal; wide: every column",
    )
    h.add_argument("--out", default=None, help="write to this file instead of stdout")
    h.set_defaults(func=cmd_history)

    r = add_command(sub, "report", "drift report from a live diff (--repo) or from history")
    add_source_flags(r, repo_required=False)
    r.add_argument("--history-dir", default=None)
    r.add_argument("--file", default=None)
    r.add_argument("--records-dsn-file", default=None, help="read records from PostgreSQL")
    r.add_argument("--fleet", action="store_true", help="one report for every app in the records")
    r.add_argument("--since", type=iso_time, default=None)
    r.add_argument("--until", type=iso_time, default=None)
    r.add_argument("--format", choices=("html", "markdown", "json", "csv"), default="html")
    r.add_argument("-o", "--out", required=True, help="report file to write (- for stdout)")
    r.set_defaults(func=cmd_report)
