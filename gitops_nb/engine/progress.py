"""What the engine reports while it works, for a progress bar (the CLI's, on a terminal).

A phase starts with its exact number of steps, and each object finishing is one step, so a
bar fed by these calls ends at N/N and never passes it:

- ``dry-running``: every rendered object is judged (by fingerprint or by a server dry-run);
- ``applying`` (``applying (dry run)``): every object is applied, pruned or skipped once;
- ``waiting for Current``: every applied object that kstatus watches becomes Current.
"""

from __future__ import annotations

from typing import Protocol


class EngineProgress(Protocol):
    """Receives the engine's phases and steps (called from worker threads)."""

    def phase(self, name: str, total: int) -> None:
        """A phase of ``total`` steps starts."""

    def step(self, n: int = 1) -> None:
        """``n`` more steps of the current phase are done."""


__all__ = ["EngineProgress"]
