"""Which commits no trusted key vouched for: an audit finding even with verification off.

Two sources, one vocabulary (:func:`finding`): the Git history (``history.commits()``, every
commit in the window, verified against keys when given) and the run records (what the
reconciler applied or refused, with the signature facts it recorded).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from gitops_nb.history.frames import TIME_DTYPE, frame, to_utc
from gitops_nb.model import Outcome, SyncRun

#: ``Signature.reason`` (why verification refused it) in words
REASONS = {
    "unsigned": "unsigned",
    "unknown-key": "signed by an unknown key",
    "bad-signature": "bad signature (altered after signing)",
    "expired-key": "signed by an expired key",
    "revoked-key": "signed by a revoked key",
    "untrusted-kind": "signed with a kind of key not trusted",
    "not-a-tag": "not a signed annotated tag",
    "tag-mismatch": "the tag does not point at the commit",
    "rejected": "signature rejected",
}
SIGNED_UNCHECKED = "signed, not verified"

#: columns of :func:`untrusted_commits` (from ``history.commits()``)
COMMIT_COLUMNS: dict[str, str] = {
    "short": "str",
    "time": TIME_DTYPE,
    "author": "str",
    "subject": "str",
    "effect": "str",
    "signature_type": "str",
    "signature_verified": "bool",
    "signature_fingerprint": "str",
    "signature_signer": "str",
    "finding": "str",
    "commit": "str",
}
#: columns of :func:`untrusted_runs` (from run records)
RUN_COLUMNS: dict[str, str] = {
    "commit": "str",
    "author": "str",
    "commit_time": TIME_DTYPE,
    "signature_type": "str",
    "signature_verified": "bool",
    "signature_fingerprint": "str",
    "signature_signer": "str",
    "finding": "str",
    "outcome": "str",
    "runs": "int64",
    "last_run": TIME_DTYPE,
}


def finding(signature_type: str, verified: bool, reason: str = "") -> str:
    """``verified``, ``unsigned``, ``signed, not verified`` (verification was off or the
    commit was not checked) or why verification refused it (:data:`REASONS`)."""
    if verified:
        return "verified"
    if reason:
        return REASONS.get(reason, reason)
    if signature_type in ("", "none"):
        return "unsigned"
    return SIGNED_UNCHECKED


def commits_since(
    commits_df: pd.DataFrame, since: str | datetime | pd.Timestamp | None
) -> pd.DataFrame:
    """The rows of ``history.commits()`` committed at or after ``since`` (None: all)."""
    if since is None:
        return commits_df
    return commits_df[commits_df["time"] >= to_utc(since)].reset_index(drop=True)


def untrusted_commits(commits_df: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``history.commits()`` that no trusted key vouched for, newest first, with
    a ``finding`` that tells an unsigned commit from one signed but not verified (and, with
    keys, from one signed by an unknown key)."""
    rows: list[dict[str, Any]] = []
    for row in commits_df.to_dict("records"):
        if bool(row["signature_verified"]):
            continue
        reason = str(row.get("signature_reason", "") or "")
        rows.append(
            {
                **{k: row[k] for k in COMMIT_COLUMNS if k in row},
                "finding": finding(str(row["signature_type"]), False, reason),
            }
        )
    return frame(rows, COMMIT_COLUMNS)


def untrusted_runs(runs: Sequence[SyncRun]) -> pd.DataFrame:
    """One row per commit (and outcome: ``applied`` or ``refused``) that a run rendered or
    refused without a trusted key vouching for it, oldest first; ``runs`` counts the runs,
    coalesced repeats included. Records written before signatures were read say nothing
    either way and are left out."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for r in runs:
        rev = r.revision
        sig = rev.signature if rev is not None else None
        if rev is None or sig is None or sig.verified:
            continue
        outcome = "refused" if r.outcome is Outcome.REFUSED else "applied"
        row = groups.setdefault(
            (rev.commit, outcome),
            {
                "commit": rev.commit,
                "author": rev.author,
                "commit_time": to_utc(rev.time) if rev.time else pd.NaT,
                "signature_type": sig.type,
                "signature_verified": False,
                "signature_fingerprint": sig.fingerprint,
                "signature_signer": sig.signer,
                "finding": finding(sig.type, False, sig.reason),
                "outcome": outcome,
                "runs": 0,
            },
        )
        row["runs"] += r.repeats
        row["last_run"] = to_utc(r.last_started)
    return frame(list(groups.values()), RUN_COLUMNS)
