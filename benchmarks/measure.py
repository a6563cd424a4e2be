"""Run one tool invocation and measure it: wall time, peak RSS, API requests sent.

Peak memory is ``ru_maxrss`` from ``os.wait4`` on the child, so it is the tool's own peak
(the largest of it and the children it waited for, e.g. ``git``), not the harness's.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


class BenchError(RuntimeError):
    """A benchmark step did not behave as expected (wrong exit code, bad output, timeout)."""


@dataclass(frozen=True)
class Completed:
    """One finished tool run."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    peak_mb: float


@dataclass(frozen=True)
class Measurement:
    """One row of the result table."""

    step: str
    tool: str
    command: str
    wall_s: float
    requests: int | None  # None: the tool did not report a count
    peak_mb: float
    exit_code: int
    check: str  # what was verified about the output

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
    cwd: Path | None = None,
) -> Completed:
    """Run ``argv`` to completion; output goes to files so large outputs cannot block it."""
    with (
        tempfile.TemporaryFile("w+b") as out,
        tempfile.TemporaryFile("w+b") as err,
    ):
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # a timeout kills the whole process group
        )
        status, rusage = _wait(proc, t0 + timeout)
        wall = time.perf_counter() - t0
        # Popen must not wait for the reaped child again.
        proc.returncode = -signal.SIGKILL if status < 0 else os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if status < 0:
        raise BenchError(f"timed out after {timeout:.0f}s: {' '.join(argv)}")
    # Linux reports ru_maxrss in KiB.
    return Completed(tuple(argv), proc.returncode, stdout, stderr, wall, rusage.ru_maxrss / 1024)


def _wait(proc: subprocess.Popen[bytes], deadline: float) -> tuple[int, Any]:
    """``os.wait4`` the child, polling so a deadline can kill it; status -1 on timeout."""
    delay = 0.001
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            return status, rusage
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, _, rusage = os.wait4(proc.pid, 0)
            return -1, rusage
        time.sleep(delay)
        delay = min(delay * 2, 0.02)  # 20 ms polling granularity at most; cheap enough


# klog at -v=6 logs one line per completed request. v1.36 (structured):
#   I1128 00:58:40.448648 7655 round_trippers.go:632] "Response" verb="GET" url="…" status="200 OK"
# older kubectl: round_trippers.go:553] GET https://… 200 OK in 3 milliseconds
_KLOG_RESPONSE = re.compile(r'\]\s+"Response"\s+verb="[A-Z]+"')
_KLOG_OLD = re.compile(r"\]\s+(GET|POST|PUT|PATCH|DELETE|HEAD)\s+https?://\S+\s+\d{3}\b")


def count_kubectl_requests(stderr: str) -> int:
    """API requests in a ``kubectl -v=6`` log (one line per response; discovery cache hits
    never reach the round tripper, so they are not counted)."""
    return sum(1 for line in stderr.splitlines() if _is_request_line(line))


def count_kubectl_throttled(stderr: str) -> int:
    """Requests client-go held back by its own rate limiter (``Waited before sending``)."""
    return sum(1 for line in stderr.splitlines() if "client-side throttling" in line)


def _is_request_line(line: str) -> bool:
    if "round_trippers" not in line:
        return False
    return bool(_KLOG_RESPONSE.search(line) or _KLOG_OLD.search(line))


def count_gitops_requests(stderr: str) -> int | None:
    """The count from gitops-nb's final ``{"event": "requests", "count": N}`` stderr line
    (printed when ``GITOPS_NB_REQUEST_LOG=1``); None when there is none."""
    found: int | None = None
    for line in stderr.splitlines():
        line = line.strip()
        if not (line.startswith("{") and '"requests"' in line):
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(doc, dict) and doc.get("event") == "requests":
            count = doc.get("count")
            if isinstance(count, int) and not isinstance(count, bool):
                found = count  # the last one wins
    return found


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines stream, skipping anything else."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(doc, dict):
                out.append(doc)
    return out


def kubectl_output_counts(stdout: str) -> dict[str, int]:
    """``kind/name verb`` lines of ``kubectl apply`` by verb (serverside-applied, pruned…)."""
    counts: dict[str, int] = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and "/" in parts[0]:
            counts[parts[-1]] = counts.get(parts[-1], 0) + 1
    return counts


def kubectl_diff_objects(stdout: str) -> int:
    """Objects in ``kubectl diff`` output (one ``diff -u -N LIVE MERGED`` header each)."""
    return sum(1 for line in stdout.splitlines() if line.startswith("diff "))
