"""Progress on stderr for long work (fetch and render, dry-runs, applies, prunes, --wait).

Shown only when stderr is a terminal, so pipes, logs and CI output stay clean; the bar is
transient and leaves nothing behind. Rich draws it after a short delay, so work of well
under a second never flashes a bar. The engine names each phase with its exact number of
steps (:class:`~gitops_nb.engine.EngineProgress`), so the bar ends at N/N, never past it.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console

MIN_OBJECTS = 20  # fewer objects finish in about a second: a bar would only flicker


class Progress:
    """A spinner while fetching and rendering, then a bar per phase (an
    :class:`~gitops_nb.engine.EngineProgress`: dry-running, applying, waiting for Current)."""

    def __init__(self, console: Console, verb: str) -> None:
        self.console = console
        self.verb = verb
        self.enabled = console.is_terminal
        self._bar: Any = None
        self._task: Any = None
        self._small = False
        self._done = 0
        self._total = 0
        self._lock = threading.Lock()  # the engine's workers step concurrently

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._bar.add_task("fetching and rendering", total=None)
            self._bar.start()
        return self

    def rendered(self, total: int) -> None:
        """The render is done: ``total`` objects go to the API server next."""
        self._small = total < MIN_OBJECTS
        self.phase(self.verb, total)

    def phase(self, name: str, total: int) -> None:
        """A phase of ``total`` steps starts (the count starts again at 0)."""
        if self._bar is None:
            return
        with self._lock:
            self._done, self._total = 0, total
            if self._small:  # a bar would only flicker: name the phase
                self._bar.update(self._task, description=f"{name} {total} objects")
            else:
                self._bar.update(self._task, description=name, total=total, completed=0)

    def step(self, n: int = 1) -> None:
        """``n`` more steps done; the count stops at the phase's total."""
        if self._bar is None or self._small:
            return
        with self._lock:
            self._done = min(self._done + n, self._total)
            self._bar.update(self._task, completed=self._done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


__all__ = ["MIN_OBJECTS", "Progress"]
