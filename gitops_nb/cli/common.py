"""What every sub-command shares: consoles, the source flags, ISO time arguments."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import yaml
from rich.console import Console

from gitops_nb.config import HelmSettings, VerifySettings
from gitops_nb.errors import ConfigError
from gitops_nb.ignore import IgnoreRules
from gitops_nb.kube.client import own_namespace
from gitops_nb.model import parse_time
from gitops_nb.policyspec import Policy
from gitops_nb.source.credentials import Credentials
from gitops_nb.source.git import SourceSpec


def _width() -> int | None:
    # Rich assumes 80 columns off a terminal; logs and CI output are wider than that.
    return None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160


def console() -> Console:
    return Console(soft_wrap=True, width=_width())


def err_console() -> Console:
    return Console(stderr=True, soft_wrap=True, width=_width())


_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def iso_time(value: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """argparse type: an ISO 8601 time (naive means UTC), or a time ago (``90m``, ``7d``)."""
    rel = _RELATIVE.match(value.strip().lower())
    if rel:
        ago = dt.timedelta(seconds=int(rel.group(1)) * _UNIT_S[rel.group(2)])
        return (now or dt.datetime.now(dt.UTC)) - ago
    try:
        t = parse_time(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither an ISO 8601 time nor a duration such as 24h or 7d"
        ) from e
    if t is None:
        raise argparse.ArgumentTypeError("an empty time is not an ISO 8601 time")
    return t


def add_source_flags(p: argparse.ArgumentParser, *, repo_required: bool = True) -> None:
    g = p.add_argument_group("source")
    g.add_argument("--repo", required=repo_required, help="Git URL or local path")
    g.add_argument("--ref", default=None, help="branch, tag or commit (default: remote HEAD)")
    g.add_argument("--path", default=None, help="app directory inside the repo (default: .)")
    g.add_argument("--app", default=None, help="app name (default: the path's directory name)")
    g.add_argument("--namespace", "-n", default=None, help="default namespace (default: default)")
    g.add_argument(
        "--kubeconfig", default=None, help="kubeconfig file (default: in-cluster or ~/.kube/config)"
    )
    g.add_argument("--cache-dir", type=Path, default=None, help="Git mirror cache directory")
    g.add_argument(
        "--git-token-file", type=Path, default=None, help="HTTPS token, read from a file"
    )
    g.add_argument("--git-username-file", type=Path, default=None)
    g.add_argument("--git-password-file", type=Path, default=None)
    g.add_argument("--git-ssh-key-file", type=Path, default=None)
    g.add_argument("--git-known-hosts-file", type=Path, default=None)
    t = p.add_argument_group("trust and Helm")
    t.add_argument(
        "--verify-keys",
        action="append",
        default=[],
        metavar="FILE",
        help="apply only commits signed by this armored OpenPGP or SSH public key "
        "(repeatable; adds to the config's verify.keys); refused runs exit 6",
    )
    t.add_argument(
        "--values",
        action="append",
        default=[],
        metavar="FILE",
        help="Helm values file, relative to the repository root (repeatable)",
    )
    t.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="Helm value (repeatable)"
    )
    i = p.add_argument_group("ignore rules")
    i.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="RULE",
        help="not drift, never corrected: manager=GLOB;path=PATH;kind=;name=;namespace= "
        "(repeatable; adds to the config's rules)",
    )
    i.add_argument(
        "--no-default-ignores",
        action="store_true",
        help="drop the shipped rules (system managers, restartedAt…)",
    )


def add_guard_flags(p: argparse.ArgumentParser) -> None:
    """Policy, impersonation and adoption (README "Security model")."""
    g = p.add_argument_group("guardrails")
    g.add_argument(
        "--policy",
        type=Path,
        default=None,
        metavar="FILE",
        help="YAML mapping: namespaces, allowKinds, denyKinds, clusterKinds, tokenSecrets",
    )
    g.add_argument(
        "--as-service-account",
        default=None,
        metavar="NAME",
        help="read and write the app's objects as this ServiceAccount of --namespace",
    )
    g.add_argument(
        "--reconciler-namespace",
        default=None,
        help="the reconciler's own namespace, never written (default: the pod's, or gitops-nb)",
    )
    g.add_argument(
        "--adopt",
        action="store_true",
        help="take over objects labelled as another app's ApplySet members",
    )


def policy_text(args: argparse.Namespace) -> str | None:
    """The ``--policy`` file's text, or None."""
    if args.policy is None:
        return None
    try:
        return str(args.policy.read_text())
    except OSError as e:
        raise ConfigError(f"--policy: cannot read {args.policy}: {e}") from e


def policy(args: argparse.Namespace) -> Policy:
    """The policy from ``--policy`` and ``--reconciler-namespace``."""
    text = policy_text(args)
    cfg = getattr(args, "app_config", None)
    try:
        parsed: Policy
        if text is None and cfg is not None:
            parsed = cfg.policy  # --config's (cli/appconfig.py)
        else:
            parsed = Policy.parse(yaml.safe_load(text) if text else None, str(args.policy))
    except (ValueError, yaml.YAMLError) as e:
        raise ConfigError(f"--policy: {e}") from e
    return replace(parsed, reconciler_namespace=own_namespace(args.reconciler_namespace or ""))


def ignore_rules(args: argparse.Namespace) -> IgnoreRules:
    """The rules from ``--ignore`` and ``--no-default-ignores``."""
    try:
        return IgnoreRules.of(args.ignore, defaults=not args.no_default_ignores)
    except ValueError as e:
        raise ConfigError(f"--ignore: {e}") from e


def credentials(args: argparse.Namespace) -> Credentials:
    """Git credentials: the ``GITOPS_NB_GIT_*_FILE`` variables, overridden by flags."""
    creds = Credentials.from_env(os.environ)
    overrides = {
        "token_file": args.git_token_file,
        "username_file": args.git_username_file,
        "password_file": args.git_password_file,
        "ssh_key_file": args.git_ssh_key_file,
        "known_hosts_file": args.git_known_hosts_file,
    }
    return replace(creds, **{k: v for k, v in overrides.items() if v is not None})


def verify_settings(args: argparse.Namespace, base: VerifySettings | None = None) -> VerifySettings:
    """``base`` (the config's) with the ``--verify-keys`` files added."""
    base = base or VerifySettings()
    return replace(base, keys=(*base.keys, *args.verify_keys))


def helm_settings(args: argparse.Namespace, base: HelmSettings | None = None) -> HelmSettings:
    """``base`` (the config's) with ``--values`` and ``--set`` added after its own."""
    base = base or HelmSettings()
    return replace(
        base, values_files=(*base.values_files, *args.values), set=(*base.set, *args.set)
    )


def source_spec(args: argparse.Namespace) -> SourceSpec:
    cfg = getattr(args, "app_config", None)  # --config's (cli/appconfig.py), if given
    return SourceSpec(
        url=args.repo,
        ref=args.ref or "HEAD",
        path=args.path or ".",
        credentials=credentials(args),
        verify=verify_settings(args, getattr(cfg, "verify", None)),
        helm=helm_settings(args, getattr(cfg, "helm", None)),
    )
