"""What ``gitops-nb <command> --help`` says: a description, examples and the exit codes."""

from __future__ import annotations

import argparse
import difflib
import sys
from typing import Any, NoReturn

from gitops_nb.errors import SEVERITY

_REFUSED = "6 refused by commit verification (unsigned, untrusted key, bad signature)"
_CTRL_C = "5 interrupted (Ctrl-C)"

# Exactly the codes each command can return (README "Exit codes"): `diff` and `apply` turn
# every other error into 2, like `kubectl diff`; the others return the error's own code.
EXIT_CODES = {
    "diff": (
        "0 in sync · 1 drift found · 2 error (bad input, policy refusal, another app's object, "
        f"unknown kind, forbidden, API error) · {_CTRL_C} · {_REFUSED}"
    ),
    "apply": (
        "0 applied without failure · 2 error or failed objects (named on stderr) · "
        f"{_CTRL_C} · {_REFUSED} · "
        "7 --wait ended with an object not Current (named on stderr)"
    ),
    "reconcile": (
        "0 in sync or corrected · 1 drift found (detect mode) · 2 permanent failure · "
        "3 transient failure (retry next schedule) · 4 another run holds the Lease · "
        f"5 interrupted by SIGTERM/SIGINT · {_REFUSED}, recorded as refused · "
        "7 wait: true and an object not Current in time. "
        "A fleet (--config with apps:/generators:) exits with the most severe of its apps' "
        "codes, in this order: " + " > ".join(str(int(c)) for c in SEVERITY) + " (an unknown "
        "code ranks like 2; the fleet guard refusing to prune removed apps is a 2)"
    ),
    "apps": f"0 apps listed · 2 bad config or generator · 3 repository unreachable · {_CTRL_C}",
    "history": (
        "0 table written · 2 bad flags, unreadable records or repository · "
        f"3 repository or records database unreachable · {_CTRL_C}"
    ),
    "report": (
        "0 report written · 2 bad flags, unreadable records or repository · "
        f"3 repository, API server or records database unreachable · {_CTRL_C} · {_REFUSED}"
    ),
    "local-cluster": "0 started / stopped · 2 a component failed to start (its log is named)",
    "local-cluster up": (
        "0 ready (--detach) or stopped by SIGTERM/Ctrl-C · "
        "2 a component failed to start (its log is named)"
    ),
    "local-cluster down": "0 stopped, or nothing was running",
}

EXAMPLES = {
    "diff": [
        "gitops-nb diff --repo ./deploy --path apps/web -n prod",
        "gitops-nb diff --repo https://git.example.com/deploy.git --ref main -o json",
        "gitops-nb diff --repo ./deploy --path apps/web -n prod --only-drifted",
    ],
    "apply": [
        "gitops-nb apply --repo ./deploy --path apps/web -n prod --dry-run",
        "gitops-nb apply --repo ./deploy --path apps/web -n prod --prune --force-conflicts",
        "gitops-nb apply --repo ./deploy --path apps/web -n prod -v   # unchanged objects too",
        "gitops-nb apply --repo ./deploy --path apps/web -n prod --wait --timeout 5m",
    ],
    "reconcile": [
        "gitops-nb reconcile --config /etc/gitops-nb/config.yaml",
        "JOB_COMPLETION_INDEX=0 gitops-nb reconcile --config fleet.yaml --shards 3   # one shard",
        "gitops-nb reconcile --repo ./deploy --path apps/web --app web -n prod --mode detect "
        "--history-dir history/",
    ],
    "history": [
        "gitops-nb history runs --history-dir history/ --since 7d",
        "gitops-nb history runs --records-dsn-file db/dsn --app web --outcome failed,refused",
        "gitops-nb history timeline --history-dir history/ -o wide   # every column",
        "gitops-nb history timeline --app web -n prod --kind Deployment -o csv",
        "gitops-nb history commits --repo ./deploy --path overlays/prod",
        "gitops-nb history changes --repo ./deploy --path overlays/prod -o json",
        "gitops-nb history health --history-dir history/ --since 30d",
    ],
    "apps": [
        "gitops-nb apps --config fleet.yaml -o json",
        "gitops-nb apps --config fleet.yaml --removed   # dry-run of removals: pruned or kept, "
        "guard verdict",
    ],
    "report": [
        "gitops-nb report --history-dir history/ --since 24h --format html -o drift.html",
        "gitops-nb report --repo ./deploy --path apps/web -n prod --format markdown -o -",
    ],
    "local-cluster": [
        "gitops-nb local-cluster up --detach --nodes 2 && export KUBECONFIG=...",
        "gitops-nb local-cluster down",
    ],
    "local-cluster up": [
        "gitops-nb local-cluster up                      # in the foreground; Ctrl-C stops it",
        "gitops-nb local-cluster up --detach --nodes 0   # control plane only, in the background",
        "gitops-nb local-cluster up --detach --workdir /tmp/lc",
    ],
    "local-cluster down": [
        "gitops-nb local-cluster down",
        "gitops-nb local-cluster down --workdir /tmp/lc",
    ],
}


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors suggest the nearest flag or command.

    Prefixes of flags are not accepted (``allow_abbrev=False``): ``--node 3`` is an error
    that suggests ``--nodes``, never a silent guess.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        hint = suggestion(message, self._choices())
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}{hint}\n")

    def _choices(self) -> list[str]:
        out: list[str] = []
        for action in self._actions:
            out.extend(action.option_strings)
            if action.choices is not None and not action.option_strings:
                out.extend(action.choices)  # sub-commands and positional choices (views)
        return out


def suggestion(message: str, choices: list[str]) -> str:
    """``; did you mean --x?`` for an unknown flag or an invalid choice, else ''."""
    word = ""
    if "unrecognized arguments:" in message:
        word = message.split("unrecognized arguments:", 1)[1].split()[0].split("=")[0]
    elif "invalid choice:" in message:
        word = message.split("invalid choice:", 1)[1].split("'")[1]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6) if word else []
    return f"; did you mean {close[0]}?" if close else ""


def add_command(sub: Any, name: str, summary: str, key: str = "") -> argparse.ArgumentParser:
    """A sub-command parser with its description, examples and exit codes in ``--help``.

    ``key`` names a nested command in :data:`EXAMPLES` and :data:`EXIT_CODES`
    (``"local-cluster up"``); default ``name``."""
    key = key or name
    examples = "\n".join(f"  {e}" for e in EXAMPLES.get(key, []))
    epilog = f"examples:\n{examples}\n\nexit codes: {EXIT_CODES.get(key, '0 ok · 2 error')}"
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary[:1].upper() + summary[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser
