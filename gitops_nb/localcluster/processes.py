"""The control plane's processes: start with a log file, stop, and find them again by pid.

Children of a test run die with it; a detached cluster (``local-cluster up --detach``)
records its pids so ``down`` can stop exactly those processes, never a reused pid.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from gitops_nb.localcluster.loopback import check_loopback


def _die_with_parent() -> None:
    # Children of a test run must not outlive it, even if pytest is SIGKILLed.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Process:
    """One control-plane binary, its arguments and its log file."""

    name: str
    args: list[str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    env: Mapping[str, str] | None = None
    """The environment, when not this process's own."""

    @property
    def program(self) -> str:
        return program(self.args)

    def start(self, *, detach: bool) -> None:
        check_loopback(self.name, self.args)
        self.log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self.env,
            preexec_fn=None if detach else _die_with_parent,
        )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        if self.log is not None:
            self.log.close()
            self.log = None

    def peak_rss_kb(self) -> int:
        """VmHWM of the running process (0 once it has exited)."""
        if not self.alive() or self.popen is None:
            return 0
        try:
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def program(args: Sequence[str]) -> str:
    """What a command line runs: the module of ``python [-P] -m MODULE``, else the binary's
    name."""
    for i in (1, 2):
        if len(args) > i + 1 and args[i] == "-m":
            return args[i + 1]
    return Path(args[0]).name if args else ""


def write_state(workdir: Path, procs: Mapping[str, Process], **extra: Any) -> None:
    """Record the running processes (in start order) for ``local-cluster down``."""
    running = {n: p for n, p in procs.items() if p.popen is not None}
    state: dict[str, Any] = {
        **extra,
        "pids": {n: p.popen.pid for n, p in running.items() if p.popen is not None},
        "programs": {n: p.program for n, p in running.items()},
    }
    (workdir / "state.json").write_text(json.dumps(state, indent=2))


def stop_detached(workdir: Path, timeout: float = 10.0) -> list[str]:
    """Stop the processes a detached cluster in ``workdir`` recorded, newest first; return
    their names.

    Returns only once each process has exited (its ports and etcd's data directory are
    free), not when it merely stopped looking like itself.
    """
    state_file = workdir / "state.json"
    if not state_file.is_file():
        return []
    state = json.loads(state_file.read_text())
    pids: dict[str, int] = state.get("pids", {})
    programs: dict[str, str] = state.get("programs", {})
    stopped = []
    for name in reversed(list(pids)):
        pid = pids[name]
        if not _is_ours(pid, programs.get(name, name)):
            continue
        started = _start_time(pid)  # identity from here on, even once cmdline is gone
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _running(pid, started):
            time.sleep(0.05)
        if _running(pid, started):
            os.kill(pid, signal.SIGKILL)
            while _running(pid, started):
                time.sleep(0.05)
        stopped.append(name)
    state_file.unlink()
    return stopped


def _stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def _start_time(pid: int) -> str:
    fields = _stat(pid)
    return fields[19] if fields else ""  # field 22 of stat: start time in clock ticks


def _running(pid: int, started: str) -> bool:
    """True until ``pid`` (the process that started at ``started``) has exited.

    A zombie has exited: its memory, files and sockets are released; only its parent
    (init, for a detached cluster) has yet to reap it.
    """
    fields = _stat(pid)
    return fields is not None and fields[19] == started and fields[0] not in ("Z", "X")


def _is_ours(pid: int, name: str) -> bool:
    """True if ``pid`` is alive and runs ``name`` (a binary's name or a Python module, see
    :func:`program`): guards against pid reuse."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    fields = _stat(pid)
    args = [a.decode(errors="replace") for a in raw if a]
    return program(args) == name and fields is not None and fields[0] not in ("Z", "X")
